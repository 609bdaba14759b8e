"""Files a report folder carries beside its pages: one stylesheet, one script, vis-network, and thumbnails.

Pages load these by relative path, so a report opens offline from any folder and nothing is hot-linked.
Thumbnails are made at report time from the media files the workspace points at, with bounded work:
pictures above `MAX_PIXELS` are skipped, videos give at most `VIDEO_FRAMES` key frames, and a file is only
read when it lies inside the folder of the export that referenced it.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["MAX_PIXELS", "THUMB_SIZE", "VIDEO_FRAMES", "Thumbnailer", "write_static"]

MAX_PIXELS = 40_000_000  # a picture larger than this is not decoded (decompression bombs, huge scans)
THUMB_SIZE = (160, 160)
VIDEO_FRAMES = 3  # sampled key frames per video
MAX_VIDEO_PACKETS = 2_000  # demuxed packets read per video, whatever its length
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".gif"}

VIS_JS = "vis-network.min.js"


def write_static(out: Path) -> Path:
    """Write ``assets/`` (stylesheet, page script, vis-network from the installed pyvis) into `out`."""
    assets = out / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    vis = resources.files("pyvis") / "lib" / "vis-9.1.2" / "vis-network.min.js"
    with resources.as_file(vis) as src:
        shutil.copyfile(src, assets / VIS_JS)
    package = resources.files("reports") / "static"
    for name in ("report.css", "report.js"):
        (assets / name).write_bytes((package / name).read_bytes())
    return assets


@dataclass
class Thumbnailer:
    """Makes ``thumbs/<sha1>-<n>.jpg`` files in `out` and remembers what it made or skipped.

    Parameters
    ----------
    out:
        The report folder.
    budget:
        Most media files read for one report (the rest are counted as skipped).
    """

    out: Path
    budget: int = 2_000
    made: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def thumbs(self, path: str, base: str | None) -> list[str]:
        """Relative paths of the thumbnails of the media file `path` (empty when it cannot be shown).

        `base` is the folder of the export that referenced the file; a path outside it (or any path, when the
        folder is unknown) is never read.
        """
        if path in self.made:
            return self.made[path]
        if path in self.skipped:
            return []
        reason = self._refuse(Path(path), base)
        if reason:
            self.skipped[path] = reason
            return []
        self.budget -= 1
        stem = hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        folder = self.out / "thumbs"
        folder.mkdir(exist_ok=True)
        try:
            images = _video_frames(Path(path)) if Path(path).suffix.lower() in VIDEO_SUFFIXES else [_picture(Path(path))]
        except Exception as exc:  # noqa: BLE001 - any decoder failure means "cannot be shown", never a crash
            self.skipped[path] = f"cannot be decoded ({type(exc).__name__})"
            return []
        names = []
        for n, image in enumerate(images):
            name = f"thumbs/{stem}-{n}.jpg"
            image.save(self.out / name, "JPEG", quality=80)
            names.append(name)
        if not names:
            self.skipped[path] = "no frame could be decoded"
        self.made[path] = names
        return names

    def _refuse(self, path: Path, base: str | None) -> str | None:
        if self.budget <= 0:
            return "thumbnail budget for this report used up"
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "file not found"
        if base is None:
            return "export folder unknown"
        if not resolved.is_relative_to(Path(base).resolve()):
            return "outside the export folder"
        if not resolved.is_file():
            return "not a file"
        return None


def _picture(path: Path):  # noqa: ANN202 - PIL.Image.Image
    from PIL import Image

    with Image.open(path) as img:
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise ValueError(f"{width}x{height} pixels is above the {MAX_PIXELS:,} limit")
        img.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))  # JPEG: decode at reduced scale
        img.seek(0)
        small = img.convert("RGB")
        small.thumbnail(THUMB_SIZE)
        return small


def _video_frames(path: Path) -> list[Any]:
    """Up to `VIDEO_FRAMES` key frames spread over the video, each shrunk to `THUMB_SIZE`."""
    import av

    frames: list[Any] = []
    with av.open(str(path)) as container:
        if not container.streams.video:
            return []
        stream = container.streams.video[0]
        if (stream.codec_context.width or 0) * (stream.codec_context.height or 0) > MAX_PIXELS:
            raise ValueError("video frame above the pixel limit")
        stream.codec_context.skip_frame = "NONKEY"
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        wanted = [duration * (k + 0.5) / VIDEO_FRAMES for k in range(VIDEO_FRAMES)] if duration else []
        packets = 0
        for packet in container.demux(stream):
            packets += 1
            if packets > MAX_VIDEO_PACKETS or len(frames) >= VIDEO_FRAMES:
                break
            for frame in packet.decode():
                t = float(frame.time or 0.0)
                if wanted and t + 1e-6 < wanted[0] and frames:
                    continue
                while wanted and t + 1e-6 >= wanted[0]:
                    wanted.pop(0)
                img = frame.to_image()
                img.thumbnail(THUMB_SIZE)
                frames.append(img)
                if len(frames) >= VIDEO_FRAMES:
                    break
    return frames
