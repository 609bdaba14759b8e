"""Every refusal and early stop of the image and video hashers, in process, on real files written here.

The hostile-media suite (tests/test_media_hostile.py) proves the limits hold memory down in child processes;
these tests pin each limit's own reason text and what is still returned when decoding stops early.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from cib.mediahash import MediaRefused
from cib.mediahash.image import hash_image
from cib.mediahash.limits import Limits
from cib.mediahash.video import hash_video, match_frames
from tests.conftest import need_module
from tests.media_gen import bomb_png, clip_frames, png_header, write_video


def _png(array: np.ndarray) -> io.BytesIO:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    buf.seek(0)
    return buf


def _texture(h: int, w: int, seed: int = 5) -> np.ndarray:
    from PIL import Image

    small = np.random.default_rng(seed).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


def _bits(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_image_bombs_oversize_and_broken_data_are_refused_with_the_reason() -> None:
    with pytest.raises(MediaRefused, match="^decompression bomb refused: "):
        hash_image(io.BytesIO(bomb_png()))  # Pillow itself refuses 2.5 G pixels at open
    with pytest.raises(MediaRefused, match=r"^image of 3000x2000 pixels exceeds the 5,000,000-pixel limit$"):
        hash_image(io.BytesIO(png_header(3000, 2000, b"")), Limits(max_pixels=5_000_000))
    with pytest.raises(MediaRefused, match="^image could not be decoded: "):
        hash_image(io.BytesIO(png_header(64, 64, b"\x78\x9c\x00\x00")))  # a header, then no pixel data
    with pytest.raises(MediaRefused, match="^not a readable image: "):
        hash_image(io.BytesIO(b"GIF89a but not really"))


def test_large_images_hash_like_their_smaller_copies() -> None:
    from PIL import Image

    big = _texture(900, 1200)
    small = np.asarray(Image.fromarray(big).resize((400, 300), Image.Resampling.BILINEAR))
    h_big, h_small = hash_image(_png(big)), hash_image(_png(small))
    assert (h_big.width, h_big.height) == (1200, 900)  # the original size is reported, not the working copy
    assert h_big.quality >= 50 and _bits(h_big.pdq, h_small.pdq) <= 16
    other = hash_image(_png(_texture(900, 1200, seed=6)))
    assert _bits(h_big.pdq, other.pdq) > 64


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_module("av")
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_video(path, clip_frames(21, seconds=4.0, fps=10, size=(96, 128)))
    return path


def test_video_limits_stop_decoding_and_say_why(clip: Path) -> None:
    frames, stopped = hash_video(clip)
    assert stopped is None and len(frames) == 4 and [f.seconds for f in frames] == [0.0, 1.0, 2.0, 3.0]
    few, stopped = hash_video(clip, Limits(max_decoded_frames=12))
    assert stopped == "stopped after 12 decoded frames (1 samples): frame limit"
    assert [f.seconds for f in few] == [0.0, 1.0]  # the sample in progress (1.0-1.3 s) is still hashed
    assert match_frames(few, frames).shares == (1.0, 0.5)
    capped, stopped = hash_video(clip, Limits(max_samples=2))
    assert len(capped) == 2 and stopped is not None and stopped.endswith("(2 samples): frame limit")
    with pytest.raises(MediaRefused, match=r"^stopped after -1 s of decoding: time limit$"):
        hash_video(clip, Limits(max_decode_seconds=-1.0))  # stopped before the first frame: nothing to return
    with pytest.raises(MediaRefused, match=r"^video frames of 128x96 exceed the 10,000-pixel limit$"):
        hash_video(clip, Limits(max_video_pixels=10_000))
    size = clip.stat().st_size
    with pytest.raises(MediaRefused, match=f"^video of {size:,} bytes exceeds the 1,000-byte limit$"):
        hash_video(clip, Limits(max_video_bytes=1_000))


def test_videos_without_frames_or_in_other_containers_are_refused(clip: Path, tmp_path: Path) -> None:
    av = need_module("av")
    audio = tmp_path / "voice.mkv"
    with av.open(str(audio), mode="w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(MediaRefused, match="^no video stream$"):
        hash_video(audio)
    with pytest.raises(MediaRefused, match="^not a video cib reads: "):
        hash_video(clip, Limits(demuxers="avi"))  # an mp4, but only AVI is allowed here
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[:600])
    with pytest.raises(MediaRefused):
        hash_video(cut)


def test_the_hasher_refuses_what_is_not_a_file_and_hashes_each_file_once(clip: Path, tmp_path: Path) -> None:
    from cib.mediahash import MediaHasher
    from cib.mediahash.limits import MediaMissing

    hasher = MediaHasher(cache_size=1)
    with pytest.raises(MediaMissing, match="^media file not found$"):
        hasher.hash_file(tmp_path / "gone.mp4")
    with pytest.raises(MediaRefused, match="^media path is not a regular file$"):
        hasher.hash_file(tmp_path)
    video = hasher.hash_file(clip)
    assert video.kind == "video" and video.error is None and video.quality == max(f.quality for f in video.frames)
    assert video.vpdq is not None and video.pdq == video.vpdq.split()[0]
    assert hasher.hash_file(clip) is video and hasher.computed == 1  # cached by device, inode, size and mtime
    picture = tmp_path / "p.png"
    picture.write_bytes(_png(_texture(64, 64)).getvalue())
    image = hasher.hash_file(picture)
    assert image.kind == "image" and image.image is not None and image.quality == image.image.quality
    assert image.vpdq is None and image.pdq == image.image.pdq
    assert hasher.hash_file(clip) is not video and hasher.computed == 3  # a cache of one: the clip was evicted
    small = MediaHasher(Limits(max_image_bytes=10, max_video_bytes=1 << 30))
    assert small.hash_file(picture).error == f"image of {picture.stat().st_size:,} bytes exceeds the 10-byte limit"
    with pytest.raises(MediaRefused, match="-byte limit$"):
        MediaHasher(Limits(max_video_bytes=100)).hash_file(clip)
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"plain bytes, no media at all")
    other = hasher.hash_file(junk)
    assert other.kind == "other" and other.error is not None and other.pdq is None and other.quality is None
