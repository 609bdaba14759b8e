"""Videos the vPDQ way: about one frame per second, letterbox/pillarbox bars cropped, each frame PDQ-hashed
with its quality; two videos compared by the share of one's good frames found (≤ 31 bits) in the other.

Sampling: the first decoded frame at or after each multiple of ``Limits.seconds_per_hash`` (1 s) of
presentation time. Cropping: rows/columns at the edges that are uniform (luminance spread < 6) and of the
edge's colour are bars; at most 40 % of a side is cropped, so a dark scene is never cropped away. Matching
follows ThreatExchange's vPDQ defaults: frames of quality < 50 are dropped, identical hashes counted once, a
frame matches at ≤ 31 bits, videos match at ≥ 80 % in either direction (all parameters).

Decoding is bounded (`Limits`): local files only (``protocol_whitelist=file``), an allow-list of container
demuxers (no HLS/DASH playlists, no concat lists, no image sequences), frame size, decoded frames, samples
and CPU seconds.

Examples
--------
>>> a = [Frame(0, 100, "f" * 64, 0.0), Frame(1, 100, "0" * 64, 1.0)]
>>> b = [Frame(0, 100, "e" + "f" * 63, 0.0)]
>>> match_frames(a, b).shares
(0.5, 1.0)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from cib.mediahash.image import pdq_array
from cib.mediahash.limits import DEFAULT_LIMITS, Limits, MediaRefused

__all__ = ["Frame", "Match", "crop_bars", "hash_video", "match_frames", "read_vpdq", "write_vpdq"]

QUALITY_MIN, DISTANCE_MAX, SHARE_MIN = 50, 31, 0.8


class Frame(NamedTuple):
    """One sampled frame: decode index, PDQ quality, PDQ hex, presentation time (s) — vpdq's line format."""

    number: int
    quality: int
    pdq: str
    seconds: float


@dataclass(frozen=True)
class Match:
    """Shares of A's good frames found in B and of B's found in A; `matched` when either reaches the bar."""

    shares: tuple[float, float]
    frames: tuple[int, int]
    matched: bool


def crop_bars(rgb: np.ndarray, *, spread: float = 6.0, max_share: float = 0.4) -> np.ndarray:
    """`rgb` without uniform bars along its edges (letterbox, pillarbox, or both).

    >>> img = np.zeros((100, 60, 3), dtype=np.uint8); img[20:80] = 40 + np.arange(60)[None, :, None] * 3
    >>> crop_bars(img).shape
    (60, 60, 3)
    """
    top, bottom, left, right = bar_box(rgb, spread=spread, max_share=max_share)
    return rgb[top:bottom, left:right]


def bar_box(rgb: np.ndarray, *, spread: float = 6.0, max_share: float = 0.4) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` bounds of `rgb` inside its uniform edge bars.

    A line belongs to a bar when its luminance spread is below `spread` and its mean within ``1.5 * spread``
    of the outermost line's (loose enough to take in the codec's ringing at the bar's edge).
    """
    luma = rgb.astype(np.float32).mean(axis=2)
    h, w = luma.shape

    def run(lines: np.ndarray, limit: int) -> int:
        edge = lines[0].mean()
        uniform = (lines.std(axis=1) < spread) & (np.abs(lines.mean(axis=1) - edge) < 1.5 * spread)
        count = int(np.argmin(uniform)) if not uniform.all() else len(uniform)
        return min(count, limit)

    top, bottom = run(luma, int(h * max_share)), run(luma[::-1], int(h * max_share))
    left, right = run(luma.T, int(w * max_share)), run(luma.T[::-1], int(w * max_share))
    return top, h - bottom, left, w - right


def hash_video(path: Path, limits: Limits = DEFAULT_LIMITS, *, crop: bool = True,
               window: float = 0.3) -> tuple[list[Frame], str | None]:
    """Sampled frames of a local video file, and why sampling stopped early (None when it did not).

    Each sample starts at the first frame at or after a multiple of ``limits.seconds_per_hash``; with
    ``window > 0`` it is the PDQ of the mean of the frames in ``[t, t + window)`` seconds (0.3 s: robust to
    the one-frame offsets between re-encodes of fast-moving clips), bars cropped by the first frame's box when
    `crop`. ``crop=False, window=0`` hashes single decoded frames as they are, as Meta's vpdq does.

    `MediaRefused` when the file is not a video cib may open (too big, a playlist, a network reference,
    an unknown container, an oversize frame).
    """
    import av

    size = path.stat().st_size
    if size > limits.max_video_bytes:
        raise MediaRefused(f"video of {size:,} bytes exceeds the {limits.max_video_bytes:,}-byte limit")
    with open(path, "rb") as fh:
        magic = fh.read(16)
    if magic.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"#EXTM3U", b"#EXT", b"[playlist]", b"ffconcat",
                                                          b"<?xml", b"<MPD")):
        raise MediaRefused("playlists and manifests are not read (they name other files or network streams)")
    options = {"protocol_whitelist": "file", "format_whitelist": limits.demuxers}
    try:
        container = av.open("file:" + str(path), container_options=options, timeout=5.0)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaRefused(f"not a video cib reads: {exc}") from exc
    frames: list[Frame] = []
    stopped: str | None = None
    started = time.process_time()
    with container:
        if not container.streams.video:
            raise MediaRefused("no video stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        if width * height > limits.max_video_pixels:
            raise MediaRefused(f"video frames of {width}x{height} exceed the {limits.max_video_pixels:,}-pixel limit")
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 30)
        sampler = _Sampler(limits.seconds_per_hash, window, crop)
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index >= limits.max_decoded_frames or len(frames) >= limits.max_samples:
                    stopped = f"stopped after {index:,} decoded frames ({len(frames)} samples): frame limit"
                    break
                if time.process_time() - started > limits.max_decode_seconds:
                    stopped = f"stopped after {limits.max_decode_seconds:.0f} s of decoding: time limit"
                    break
                if frame.width * frame.height > limits.max_video_pixels:
                    stopped = f"stopped at a {frame.width}x{frame.height} frame: pixel limit"
                    break
                seconds = float(frame.time) if frame.time is not None else index / rate
                done = sampler.feed(index, seconds, frame)
                if done:
                    frames.append(done)
        except (av.error.FFmpegError, ValueError) as exc:
            stopped = f"decoding stopped: {exc}"
        last = sampler.flush()
        if last and len(frames) < limits.max_samples:
            frames.append(last)
    if not frames:
        raise MediaRefused(stopped or "no decodable video frame")
    return frames, stopped


class _Sampler:
    """Accumulates the frames of one sample window and hashes their mean."""

    def __init__(self, every: float, window: float, crop: bool) -> None:
        self.every, self.window, self.crop = every, window, crop
        self.next_t = 0.0
        self.start: tuple[int, float] | None = None
        self.box: tuple[int, int, int, int] | None = None
        self.total: np.ndarray | None = None
        self.count = 0

    def feed(self, index: int, seconds: float, frame: object) -> Frame | None:
        done = None
        if self.start is not None and seconds >= self.start[1] + self.window:
            done = self.flush()
        if self.start is None:
            if seconds + 1e-6 < self.next_t:
                return done
            self.start = (index, seconds)
            self.next_t = float((np.floor(seconds / self.every + 1e-6) + 1) * self.every)
        rgb = frame.to_ndarray(format="rgb24")  # type: ignore[attr-defined]
        if self.box is None or self.total is None:
            self.box = bar_box(rgb) if self.crop else (0, rgb.shape[0], 0, rgb.shape[1])
        top, bottom, left, right = self.box
        part = rgb[top:bottom, left:right]
        if self.total is None:
            self.total, self.count = part.astype(np.float32), 1
        elif part.shape == self.total.shape:
            self.total += part
            self.count += 1
        if self.window <= 0:
            return done or self.flush()
        return done

    def flush(self) -> Frame | None:
        if self.start is None or self.total is None:
            return None
        mean = self.total / self.count if self.count > 1 else self.total
        pdq, quality = pdq_array(np.clip(np.rint(mean), 0, 255).astype(np.uint8))
        index, seconds = self.start
        self.start, self.total, self.box, self.count = None, None, None, 0
        return Frame(index, quality, pdq, round(seconds, 3))


def good_hashes(frames: Iterable[Frame], quality_min: int = QUALITY_MIN) -> list[str]:
    """Distinct PDQ hexes of frames of sufficient quality, in first-seen order (what matching counts)."""
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= quality_min))


def match_frames(a: Sequence[Frame], b: Sequence[Frame], *, distance: int = DISTANCE_MAX,
                 quality_min: int = QUALITY_MIN, share: float = SHARE_MIN) -> Match:
    """Compare two frame lists the vPDQ way (brute force: two videos are small)."""
    ha, hb = good_hashes(a, quality_min), good_hashes(b, quality_min)
    if not ha or not hb:
        return Match((0.0, 0.0), (len(ha), len(hb)), False)
    wa = np.frombuffer(bytes.fromhex("".join(ha)), dtype=">u8").reshape(len(ha), -1).astype(np.uint64)
    wb = np.frombuffer(bytes.fromhex("".join(hb)), dtype=">u8").reshape(len(hb), -1).astype(np.uint64)
    dist = np.zeros((len(ha), len(hb)), dtype=np.int32)
    for k in range(wa.shape[1]):
        dist += np.bitwise_count(wa[:, None, k] ^ wb[None, :, k]).astype(np.int32)
    close = dist <= distance
    shares = (float(close.any(axis=1).mean()), float(close.any(axis=0).mean()))
    return Match(shares, (len(ha), len(hb)), max(shares) >= share)


def write_vpdq(frames: Iterable[Frame], out: IO[str]) -> None:
    """Meta's vpdq text format: ``frame,quality,pdq_hex,seconds`` per line.

    >>> import io; buf = io.StringIO(); write_vpdq([Frame(0, 100, "a" * 64, 0.0)], buf); buf.getvalue()[:8]
    '0,100,aa'
    """
    for f in frames:
        out.write(f"{f.number},{f.quality},{f.pdq},{f.seconds:.3f}\n")


def read_vpdq(lines: Iterable[str], source: str = "vpdq") -> list[Frame]:
    """Frames from vpdq text; `MediaRefused` naming the line for anything malformed.

    >>> read_vpdq(["0,100," + "a" * 64 + ",0.000"])[0].quality
    100
    """
    frames = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        try:
            index, quality, pdq, seconds = int(parts[0]), int(parts[1]), parts[2].lower(), float(parts[3])
            if len(parts) != 4 or len(pdq) != 64:
                raise ValueError("expected frame,quality,64-hex PDQ,seconds")
            bytes.fromhex(pdq)
        except (ValueError, IndexError) as exc:
            raise MediaRefused(f"{source} line {n}: not a vpdq line: {exc}") from exc
        frames.append(Frame(index, quality, pdq, seconds))
    return frames
