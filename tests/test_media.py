"""Media hashing: images and video frames get sha256 + perceptual hashes; re-encodes still match."""

from __future__ import annotations

from pathlib import Path

import av  # a runtime dependency (pyproject): never skipped
import numpy as np
import polars as pl

from cib.signals import perceptual_groups
from loaders._common import hash_media_file, media_item


def _video(path: Path, size: int, seed: int, bitrate: int) -> None:
    from PIL import Image

    base = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    frame_img = Image.fromarray(base).resize((size, size), Image.Resampling.BICUBIC)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bitrate
        for _ in range(5):
            for packet in stream.encode(av.VideoFrame.from_image(frame_img)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_reencoded_videos_match_by_frame_pdq(tmp_path: Path) -> None:
    _video(tmp_path / "a.mp4", 256, seed=5, bitrate=800_000)
    _video(tmp_path / "b.mp4", 192, seed=5, bitrate=200_000)  # smaller, lower quality re-upload
    _video(tmp_path / "c.mp4", 256, seed=6, bitrate=800_000)  # different content
    hashes = [hash_media_file(tmp_path / f"{n}.mp4") for n in "abc"]
    assert len({h[0] for h in hashes}) == 3
    assert all(h[1] and len(h[1]) == 64 for h in hashes)
    groups = dict(perceptual_groups(pl.Series([h[1] for h in hashes]), max_distance=31).iter_rows())
    assert hashes[0][1] in groups and groups[hashes[0][1]] == groups.get(hashes[1][1])
    assert hashes[2][1] not in groups


def test_missing_file_falls_back_to_platform_key(tmp_path: Path) -> None:
    item = media_item("x", "photo", "3_123", "https://pbs.example/img.jpg", tmp_path / "nope.jpg")
    assert item is not None and item["key"] == "x:photo:3_123" and item["sha256"] is None
    by_url = media_item("facebook", "photo", None, "https://cdn.example/i.jpg?utm_source=a")
    assert by_url is not None and by_url["key"] == "url:https://cdn.example/i.jpg"
