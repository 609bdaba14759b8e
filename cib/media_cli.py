"""``cib media``: hash media files and compare two of them the way hash-sharing programmes do.

Examples (shell)::

    cib media hash clip.mp4 photo.jpg                 # kind, sha256, PDQ or frame count, quality, file
    cib media hash --format threatexchange clip.mp4   # pdq / video_md5 / vpdq signal lines for HMA
    cib media hash --format vpdq clip.mp4 -o hashes/  # Meta's vpdq text, one file per video
    cib media match a.mp4 b.mp4                       # exit 0 match, 1 no match, 2 error
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from cib.mediahash import (
    DISTANCE_MAX,
    QUALITY_MIN,
    SHARE_MIN,
    Frame,
    MediaHash,
    MediaHasher,
    MediaRefused,
    match_frames,
    match_hashes,
    read_vpdq,
    threatexchange_lines,
    write_vpdq,
)
from cib.textsafe import terminal_safe

__all__ = ["media"]

_VPDQ_LINE = re.compile(r"^\d+,\d+,[0-9a-fA-F]{64},[\d.]+\s*$")


@click.group()
def media() -> None:
    """Hash media files and match two of them (PDQ for images, vPDQ for videos)."""


@media.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "threatexchange", "vpdq"]), default="text",
              show_default=True, help="text: one line per file; threatexchange: signal lines HMA ingests; "
                                      "vpdq: Meta's vpdq text per video.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="vpdq: directory for <name>.txt files (default: stdout).")
def media_hash(files: tuple[Path, ...], fmt: str, output: Path | None) -> None:
    """Hash media files: kind, sha256, PDQ (images) or sampled-frame count (videos), quality.

    \b
    Example:
        cib media hash clip.mp4 photo.jpg
        cib media hash --format threatexchange clip.mp4 > signals.txt
    """
    hasher = MediaHasher(vpdq_compatible=fmt != "text")
    failed = False
    for path in files:
        name = terminal_safe(str(path))
        try:
            h = hasher.hash_file(path)
        except MediaRefused as exc:
            click.echo(f"error: {name}: {terminal_safe(str(exc))}", err=True)
            failed = True
            continue
        if fmt == "text":
            detail = h.pdq if h.image is not None else f"{len(h.frames)} frames" if h.kind == "video" else "-"
            click.echo(f"{h.kind}\t{h.sha256}\t{detail or '-'}\t{h.quality if h.quality is not None else '-'}\t{name}"
                       + (f"\t({terminal_safe(h.error)})" if h.error else ""))
        elif fmt == "threatexchange":
            for line in threatexchange_lines(h):
                click.echo(line)
        elif h.kind == "video":
            if output is None:
                write_vpdq(h.frames, sys.stdout)
            else:
                output.mkdir(parents=True, exist_ok=True)
                with open(output / f"{path.stem}.txt", "w", encoding="utf-8") as fh:
                    write_vpdq(h.frames, fh)
        if h.error and fmt != "text":
            click.echo(f"note: {name}: {terminal_safe(h.error)}", err=True)
    if failed:
        sys.exit(2)


@media.command("match")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--distance", type=click.IntRange(0, 256), default=DISTANCE_MAX, show_default=True,
              help="PDQ bits within which two frames (or images) match.")
@click.option("--share", type=click.FloatRange(0, 1), default=SHARE_MIN, show_default=True,
              help="Share of one video's frames found in the other for a match (either direction).")
@click.option("--quality", type=click.IntRange(0, 100), default=QUALITY_MIN, show_default=True,
              help="Frames (and images) below this PDQ quality are not compared.")
def media_match(a: Path, b: Path, distance: int, share: float, quality: int) -> None:
    """Do two media files (or vpdq hash files) show the same thing? Exit 0 match, 1 no match, 2 error.

    \b
    Example:
        cib media match upload-1.mp4 upload-2.mp4
        cib media match clip.mp4 reference-vpdq.txt
    """
    try:
        va, vb = _vpdq_file(a), _vpdq_file(b)
        hasher = MediaHasher(vpdq_compatible=va is not None or vb is not None)
        if va is not None or vb is not None:
            fa = va if va is not None else _frames(hasher.hash_file(a))
            fb = vb if vb is not None else _frames(hasher.hash_file(b))
            result = match_frames(fa, fb, distance=distance, quality_min=quality, share=share)
        else:
            result = match_hashes(hasher.hash_file(a), hasher.hash_file(b), distance=distance, share=share)
    except (MediaRefused, OSError) as exc:
        click.echo(f"error: {terminal_safe(str(exc))}", err=True)
        sys.exit(2)
    verdict = "match" if result.matched else "no match"
    click.echo(f"{verdict}: {result.shares[0]:.0%} of A's {result.frames[0]} frames found in B, "
               f"{result.shares[1]:.0%} of B's {result.frames[1]} frames found in A")
    sys.exit(0 if result.matched else 1)


def _vpdq_file(path: Path) -> list[Frame] | None:
    """Frames of a vpdq text file, or None when `path` is not one."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(200).decode("ascii", errors="replace")
    except OSError as exc:
        raise MediaRefused(f"{path}: {exc.strerror}") from exc
    if not _VPDQ_LINE.match(first):
        return None
    with open(path, encoding="ascii", errors="replace") as fh:
        return read_vpdq(fh, source=str(path))


def _frames(h: MediaHash) -> list[Frame]:
    if h.kind != "video":
        raise MediaRefused(f"{h.path}: not a video ({h.error or h.kind})")
    return h.frames
