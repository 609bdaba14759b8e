"""Hostile media references and files (issue 11): each ends as a refused media reference with a reason,
the load completes, and cost is bounded: the load runs in a subprocess under RLIMIT_AS (memory) and
RLIMIT_CPU (time) limits, so an unbounded decode would kill it instead of passing slowly."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from cib.cli import cli
from cib.mediahash import MediaHasher, MediaRefused, default_hasher
from cib.store import ParquetStore
from tests.media_gen import big_valid_png, bomb_png, clip_frames, live_hls, telegram_export, write_video

MEMORY_LIMIT = 1536 << 20  # the old code took 4.4 GB per message on the 12500x12500 PNG; the bomb 7.5 GB
CPU_LIMIT = 60  # seconds of CPU for the whole load of 60 messages (one old-style decode took 27 s)


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))


def _msg(n: int, **media: str) -> dict[str, object]:
    return {"date": "2024-03-01T10:00:00", "date_unixtime": str(1709287200 + 60 * n), "from": f"user {n % 5}",
            "from_id": f"user{n % 5}", "text": f"message {n}", **media}


@pytest.fixture()
def hostile_export(tmp_path: Path) -> dict[str, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.jpg"
    secret.write_bytes(b"analyst's private file " * 10)
    export = tmp_path / "export"
    (export / "photos").mkdir(parents=True)
    (export / "files").mkdir()
    (export / "photos" / "bomb.png").write_bytes(bomb_png())
    big_valid_png(export / "photos" / "big.png")
    (export / "files" / "live.m3u8").write_bytes(live_hls())
    (export / "files" / "live.mp4").write_bytes(live_hls())  # a playlist under a video name
    os.symlink(secret, export / "photos" / "link.jpg")
    write_video(export / "files" / "ok.mp4", clip_frames(3, seconds=2.0))
    refs = [{"photo": f"../outside/{secret.name}"}, {"photo": "../../../../../../etc/passwd"},
            {"photo": str(secret)}, {"photo": "photos/link.jpg"}, {"photo": "photos/bomb.png"},
            {"photo": "photos/big.png"}, {"file": "files/live.m3u8", "media_type": "video_file"},
            {"file": "files/live.mp4", "media_type": "video_file"}, {"file": "files/ok.mp4", "media_type": "video_file"},
            {"photo": "C:\\Windows\\win.ini"}]
    messages = [_msg(n, **refs[n % len(refs)]) for n in range(60)]
    telegram_export(export, messages)
    return {"export": export, "secret": secret, "ws": tmp_path / "ws"}


def test_hostile_export_loads_within_memory_and_cpu_limits(hostile_export: dict[str, Path]) -> None:
    cib = Path(sys.executable).with_name("cib")
    proc = subprocess.run([str(cib), "load", str(hostile_export["export"] / "result.json"), "-w",
                           str(hostile_export["ws"]), "--silent", "--json"], preexec_fn=_limited,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "POLARS_MAX_THREADS": "1", "NUMBA_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)
    assert ParquetStore(hostile_export["ws"]).posts().collect().height == 60
    media = ParquetStore(hostile_export["ws"]).media().collect()
    secret_sha = hashlib.sha256(hostile_export["secret"].read_bytes()).hexdigest()
    assert secret_sha not in str(media.rows())  # the outside file was never read
    export_root = str(hostile_export["export"].resolve())
    assert all(p.startswith(export_root) for p in media["path"].drop_nulls())  # nothing outside is recorded
    errors = media.group_by("error").agg(pl.len()).sort("error")
    reasons = dict(errors.iter_rows())
    assert sum(n for e, n in reasons.items() if e and "leaves the export folder" in e) == 18  # .., ../.., symlink
    assert sum(n for e, n in reasons.items() if e and "is absolute" in e) == 12  # posix and windows
    assert sum(n for e, n in reasons.items() if e and "decompression bomb" in e) == 6
    assert sum(n for e, n in reasons.items() if e and "12500x12500" in e) == 6
    assert sum(n for e, n in reasons.items() if e and "playlists" in e) == 12
    refused = media.filter(pl.col("error").str.contains("export folder|absolute"))
    assert refused["sha256"].null_count() == refused.height and refused["path"].null_count() == refused.height
    assert refused["key"].n_unique() == refused.height  # a refused reference links nobody
    ok = media.filter(pl.col("path").str.ends_with("ok.mp4"))
    assert ok.height == 6 and ok["vpdq"].null_count() == 0 and ok["error"].null_count() == 6


def test_each_distinct_file_is_hashed_once_per_load(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "photos").mkdir(parents=True)
    big_valid_png(export / "photos" / "big.png", side=9000)  # 81 M pixels: refused from its header
    write_video(export / "photos" / "clip.mp4", clip_frames(4, seconds=2.0))
    messages = [_msg(n, photo="photos/big.png") for n in range(20)]
    messages += [_msg(n, file="photos/clip.mp4", media_type="video_file") for n in range(20, 40)]
    telegram_export(export, messages)
    before = default_hasher().computed
    result = CliRunner().invoke(cli, ["load", str(export / "result.json"), "-w", str(tmp_path / "ws"), "--silent"])
    assert result.exit_code == 0, result.output
    assert default_hasher().computed - before == 2
    media = ParquetStore(tmp_path / "ws").media().collect()
    assert media.height == 40 and media["sha256"].n_unique() == 2


def test_limits_refuse_without_decoding(tmp_path: Path) -> None:
    (tmp_path / "bomb.png").write_bytes(bomb_png())
    hashed = MediaHasher().hash_file(tmp_path / "bomb.png")
    assert hashed.kind == "image" and hashed.image is None and "decompression bomb" in (hashed.error or "")
    (tmp_path / "live.m3u8").write_bytes(live_hls())
    assert "playlists" in (MediaHasher().hash_file(tmp_path / "live.m3u8").error or "")
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    junk = MediaHasher().hash_file(tmp_path / "junk.mp4")
    assert junk.kind == "other" and junk.error and junk.vpdq is None
    with pytest.raises(MediaRefused, match="not a regular file"):
        MediaHasher().hash_file(tmp_path)
    with pytest.raises(MediaRefused, match="leaves the export folder"):
        MediaHasher().ref_hash(tmp_path, "a/../../x")
    with pytest.raises(MediaRefused, match="NUL"):
        MediaHasher().ref_hash(tmp_path, "a\x00b")
