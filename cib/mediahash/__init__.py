"""Media hashing for loaders and the ``cib media`` commands: confined, bounded, each distinct file once.

`MediaHasher.hash_file` returns a `MediaHash` for any local file: sha256 and md5 of the bytes always
(within ``Limits.max_video_bytes``), PDQ with quality, dihedral variants and pHash for images, vPDQ-style
sampled frames for videos, and ``error`` saying why perceptual hashing was refused or cut short. Results
are cached by (device, inode, size, mtime), so an export referring to one file from 10,000 messages reads
and decodes it once per load. `ref_hash` is what a loader calls with an export folder and a reference from
the export: references leaving the folder are refused without opening anything.

Examples
--------
>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> _ = (base / "a.bin").write_bytes(b"hello")
>>> hasher = MediaHasher()
>>> hasher.hash_file(base / "a.bin").sha256[:12], hasher.hash_file(base / "a.bin").kind, hasher.computed
('2cf24dba5fb0', 'other', 1)
>>> hasher.ref_hash(base, "../a.bin")
Traceback (most recent call last):
...
cib.mediahash.limits.MediaRefused: media path leaves the export folder: '../a.bin'
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from cib.mediahash.image import ImageHash, hash_image
from cib.mediahash.limits import DEFAULT_LIMITS, Limits, MediaMissing, MediaRefused, confine
from cib.mediahash.video import (
    DISTANCE_MAX,
    QUALITY_MIN,
    SHARE_MIN,
    Frame,
    Match,
    good_hashes,
    hash_video,
    match_frames,
    read_vpdq,
    write_vpdq,
)

__all__ = ["DEFAULT_LIMITS", "DISTANCE_MAX", "QUALITY_MIN", "SHARE_MIN", "Frame", "Limits", "Match", "MediaHash", "MediaMissing",
           "MediaHasher", "MediaRefused", "confine", "default_hasher", "good_hashes", "match_frames", "match_hashes",
           "read_vpdq", "threatexchange_lines", "write_vpdq"]

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


@dataclass
class MediaHash:
    """Everything cib knows about one media file."""

    path: str
    kind: str  # image | video | other
    sha256: str
    md5: str
    size: int
    image: ImageHash | None = None
    frames: list[Frame] = field(default_factory=list)
    error: str | None = None

    @property
    def pdq(self) -> str | None:
        """PDQ of an image of sufficient quality, else of a video's first good frame, else None."""
        if self.image is not None:
            return self.image.pdq if self.image.quality >= QUALITY_MIN else None
        good = good_hashes(self.frames)
        return good[0] if good else None

    @property
    def quality(self) -> int | None:
        if self.image is not None:
            return self.image.quality
        return max((f.quality for f in self.frames), default=None)

    @property
    def vpdq(self) -> str | None:
        """Space-separated distinct good frame hashes (the ``vpdq`` media column), None for non-videos."""
        good = good_hashes(self.frames)
        return " ".join(good) if good else None


class MediaHasher:
    """Hashes files within `limits`, each distinct file once (cache keyed by device, inode, size, mtime)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, cache_size: int = 50_000, *,
                 vpdq_compatible: bool = False) -> None:
        self.limits = limits
        self.vpdq_compatible = vpdq_compatible  # single uncropped frames, as Meta's vpdq (for interchange)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[int, int, int, int], MediaHash] = OrderedDict()
        self.computed = 0

    def ref_hash(self, base: Path, ref: str) -> MediaHash:
        """Hash the file that export reference `ref` names inside `base`; `MediaRefused` when it leaves
        `base` (never opened) or is not a regular file."""
        return self.hash_file(confine(base, ref))

    def hash_file(self, path: Path) -> MediaHash:
        try:
            st = os.stat(path)
        except FileNotFoundError as exc:
            raise MediaMissing("media file not found") from exc
        except OSError as exc:
            raise MediaRefused(f"media file cannot be read: {exc.strerror}") from exc
        if not os.path.isfile(path):
            raise MediaRefused("media path is not a regular file")
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = self._compute(Path(path), st.st_size)
        self.computed += 1
        self._cache[key] = result
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result

    def _compute(self, path: Path, size: int) -> MediaHash:
        if size > self.limits.max_video_bytes:
            raise MediaRefused(f"media file of {size:,} bytes exceeds the {self.limits.max_video_bytes:,}-byte limit")
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(0)
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha.update(chunk)
                md5.update(chunk)
        result = MediaHash(path=str(path), kind="other", sha256=sha.hexdigest(), md5=md5.hexdigest(), size=size)
        if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
            result.kind = "image"
            if size > self.limits.max_image_bytes:
                result.error = f"image of {size:,} bytes exceeds the {self.limits.max_image_bytes:,}-byte limit"
                return result
            try:
                result.image = hash_image(str(path), self.limits)
            except MediaRefused as exc:
                result.error = str(exc)
            return result
        try:
            if self.vpdq_compatible:
                result.frames, result.error = hash_video(path, self.limits, crop=False, window=0.0)
            else:
                result.frames, result.error = hash_video(path, self.limits)
            result.kind = "video"
        except MediaRefused as exc:
            result.error = str(exc)
        return result


_DEFAULT: MediaHasher | None = None


def default_hasher() -> MediaHasher:
    """The process-wide hasher loaders share (one load = one process, so one hash per distinct file)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MediaHasher()
    return _DEFAULT


def match_hashes(a: MediaHash, b: MediaHash, *, distance: int = DISTANCE_MAX, share: float = SHARE_MIN) -> Match:
    """Compare two hashed files: videos by frame shares; images by PDQ with dihedral variants (a flipped or
    rotated copy matches); an image against a video by its PDQ among the video's frames; else by sha256."""
    if a.sha256 == b.sha256:
        return Match((1.0, 1.0), (1, 1), True)
    fa, fb = _as_frames(a, dihedral=True), _as_frames(b, dihedral=False)
    if not fa or not fb:
        return Match((0.0, 0.0), (len(fa), len(fb)), False)
    if a.image is not None and b.image is not None:  # any orientation of A against B as is
        close = match_frames(fa, fb, distance=distance, share=0.0).shares[1] > 0
        return Match((float(close), float(close)), (1, 1), close)
    if a.image is not None:
        fa = fa[:1]
    return match_frames(fa, fb, distance=distance, share=share)


def _as_frames(h: MediaHash, *, dihedral: bool) -> list[Frame]:
    if h.image is not None:
        if h.image.quality < QUALITY_MIN:
            return []
        hashes = h.image.dihedral if dihedral else (h.image.pdq,)
        return [Frame(0, h.image.quality, p, 0.0) for p in hashes]
    return h.frames


def threatexchange_lines(h: MediaHash) -> list[str]:
    """ThreatExchange / HMA signal lines (``signal_type value``, as python-threatexchange prints them) for a hashed file: ``pdq`` for an image
    of sufficient quality, ``video_md5`` and ``vpdq`` (JSON list of frames as python-threatexchange writes
    them) for a video."""
    lines = []
    if h.image is not None and h.pdq:
        lines.append(f"pdq {h.pdq}")
    if h.kind == "video":
        lines.append(f"video_md5 {h.md5}")
        frames = [{"quality": f.quality, "hash": f.pdq, "timestamp": f.seconds} for f in h.frames]
        lines.append("vpdq " + json.dumps(frames, separators=(",", ":")))
    return lines
