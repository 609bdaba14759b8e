"""Generators for media tests: hostile PNGs, moving-texture clips and their re-edits, Telegram exports."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_header(width: int, height: int, idat: bytes) -> bytes:
    """A PNG with the given declared size and raw IDAT payload."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))


def bomb_png() -> bytes:
    """74 bytes declaring 50000x50000 RGB pixels (7.5 GB decoded)."""
    data = png_header(50000, 50000, zlib.compress(b"\x00" * 4096)[:17])
    assert len(data) == 74
    return data


def big_valid_png(path: Path, side: int = 12500) -> None:
    """A valid, fully decodable side x side RGB PNG of black pixels, streamed (never held in memory)."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + side * 3)
    parts = [comp.compress(row) for _ in range(side)]
    idat = b"".join(parts) + comp.flush()
    path.write_bytes(png_header(side, side, idat))


def live_hls() -> bytes:
    """A live HLS playlist (no #EXT-X-ENDLIST) whose segments are on the network."""
    segs = "".join(f"#EXTINF:10.0,\nhttp://127.0.0.1:9/seg{i}.ts\n" for i in range(3))
    return f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n{segs}".encode()


def clip_frames(seed: int, seconds: float = 6.0, fps: int = 10, size: tuple[int, int] = (240, 320)) -> list[np.ndarray]:
    """A moving smooth texture (its own content per seed): RGB frames of `size` (h, w)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = size
    big = np.asarray(Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
                     .resize((w * 2, h * 2), Image.Resampling.BICUBIC))
    frames = []
    for k in range(int(seconds * fps)):
        y, x = k, int(k * 1.5)
        frames.append(np.ascontiguousarray(big[y:y + h, x:x + w]))
    return frames


def letterbox(f: np.ndarray) -> np.ndarray:
    h, w, _ = f.shape
    out = np.zeros((h + 80, w, 3), dtype=np.uint8)
    out[40:40 + h] = f
    return out


def grey(f: np.ndarray) -> np.ndarray:
    g = np.rint(f @ np.array([0.299, 0.587, 0.114]))[..., None].astype(np.uint8)  # luma, as ffmpeg's gray
    return np.repeat(g, 3, axis=2)


def watermark(f: np.ndarray) -> np.ndarray:
    """A semi-transparent channel logo in the bottom-right corner (about 2 % of the frame)."""
    out = f.astype(np.float32)
    h, w, _ = f.shape
    box = out[h - h // 10 - 6:h - 6, w - w // 5 - 6:w - 6]
    box[:] = 0.5 * box + 0.5 * 255
    box[::4, ::3] = 0
    return out.astype(np.uint8)


def shrink(f: np.ndarray) -> np.ndarray:
    from PIL import Image

    h, w, _ = f.shape
    return np.asarray(Image.fromarray(f).resize((w * 3 // 4 // 2 * 2, h * 3 // 4 // 2 * 2)))


EDITS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"letterbox": letterbox, "grey": grey,
                                                         "watermark": watermark, "shrink": shrink}


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int = 10, bitrate: int = 600_000) -> None:
    import av

    frames = list(frames)
    h, w, _ = frames[0].shape
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bitrate
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def reedit(seed: int, edits: list[str], trim_s: float = 0.0, fps: int = 10) -> list[np.ndarray]:
    frames = clip_frames(seed, fps=fps)[int(trim_s * fps):]
    for name in edits:
        frames = [EDITS[name](f) for f in frames]
    return frames


def telegram_export(folder: Path, messages: list[dict[str, object]], chat_id: int = 4242) -> Path:
    """A Telegram Desktop single-chat ``result.json`` in `folder` with the given messages (ids filled in)."""
    folder.mkdir(parents=True, exist_ok=True)
    msgs = [{"id": n, "type": "message", **m} for n, m in enumerate(messages, start=1)]
    doc = {"name": "generated", "type": "public_supergroup", "id": chat_id, "messages": msgs}
    path = folder / "result.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path
