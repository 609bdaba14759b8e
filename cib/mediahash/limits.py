"""Where media may be read from, and how much of it: confinement to the export folder and resource limits.

A media reference in an export is attacker-controlled text. `confine` resolves it against the export folder
and refuses anything that leaves it (``..``, an absolute path, a symlink pointing outside) *before* the file is
opened, so a hostile export cannot make cib read, hash or record files elsewhere on the analyst's machine.

Examples
--------
>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> _ = (base / "photos").mkdir(), (base / "photos" / "a.jpg").write_bytes(b"x")
>>> confine(base, "photos/a.jpg").name
'a.jpg'
>>> confine(base, "../../etc/passwd")
Traceback (most recent call last):
...
cib.mediahash.limits.MediaRefused: media path leaves the export folder: '../../etc/passwd'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

__all__ = ["DEFAULT_LIMITS", "Limits", "MediaMissing", "MediaRefused", "confine"]


class MediaRefused(Exception):  # noqa: N818 - a refusal, not a programming error
    """A media reference or file that is not read or only partly read; the message is the reason."""


class MediaMissing(MediaRefused):
    """The referenced file is not there (exports often omit media): not hostile, just absent."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for reading one media file (all documented in the README's media section).

    ``max_pixels`` is far below Pillow's default (89 M pixels warns, 179 M raises): a 12500x12500 PNG
    (156 M pixels) and a 50000x50000 "decompression bomb" are refused from their header, without decoding.
    Video: at most ``max_video_bytes`` per file, ``max_video_pixels`` per frame, ``max_decoded_frames``
    decoded, ``max_samples`` sampled (one per ``seconds_per_hash``), ``max_decode_seconds`` of CPU time;
    only local files through ``demuxers`` (no network protocols, no playlists).
    """

    max_pixels: int = 40_000_000
    max_image_bytes: int = 64 << 20
    max_video_bytes: int = 1 << 30
    max_video_pixels: int = 4096 * 2304
    max_decoded_frames: int = 36_000
    max_samples: int = 900
    max_decode_seconds: float = 60.0
    seconds_per_hash: float = 1.0
    demuxers: str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,gif,ogg,mpegts,mpeg"


DEFAULT_LIMITS = Limits()


def confine(base: Path, ref: str) -> Path:
    """The real path of `ref` inside `base`; `MediaRefused` when it is absolute, climbs out with ``..``,
    or resolves (through symlinks) outside `base`. The file itself is never opened here."""
    if not ref or "\x00" in ref:
        raise MediaRefused(f"media path is empty or has a NUL byte: {ref!r}")
    posix, windows = PurePosixPath(ref), PureWindowsPath(ref)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or ref.startswith(("\\", "/", "~")):
        raise MediaRefused(f"media path is absolute: {ref!r}")
    if ".." in posix.parts or ".." in windows.parts:
        raise MediaRefused(f"media path leaves the export folder: {ref!r}")
    root = Path(os.path.realpath(base))
    target = Path(os.path.realpath(root / ref))
    if target != root and root not in target.parents:
        raise MediaRefused(f"media path leaves the export folder through a symlink: {ref!r}")
    return target
