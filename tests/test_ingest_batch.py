"""Small files share part folders (`cib.ingest._Batch`): the load is the same as one part folder per file.

A load worker gathers the rows of files up to `SMALL_FILE_BYTES` into one Parquet part per table per batch, so
10,000 small channel exports do not pay 20,000 part writes. Every per-file guarantee must still hold: the same
tables as a file-by-file load (checked on the real samples), a value the store cannot hold quarantined against
its own file, a file read again replacing only its own rows, and a kill at any write step leaving the previous
generation or the new one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from cib.ingest import SMALL_FILE_BYTES, _ingest_many, ingest_file, plan, record
from cib.plugins import get_loaders
from cib.schema import ACCOUNTS, PART_KEY, POSTS
from cib.store import ParquetStore
from cib.store.parquet import BATCH_PREFIX, _scan
from tests.hostile_loader import SurrogateLoader

DATA = Path(__file__).resolve().parent / "data"
SEED = 20261127


def _tables(ws: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(ws / f"{name}.parquet") for name in ("posts", "accounts", "media", "links")}


def _batched(jobs: list, ws: Path, batch_size: int = 50_000) -> list:
    """What a load worker does with its files (in this process), then what the parent records and commits."""
    store = ParquetStore(ws)
    store.begin_load([str(path) for path, _, _ in jobs])
    reports = _ingest_many(jobs, store, "quarantine", batch_size)
    for report in reports:
        record(store, report)
    store.finalize()
    store.close()
    return reports


def _one_by_one(jobs: list, ws: Path) -> list:
    store = ParquetStore(ws)
    store.begin_load([str(path) for path, _, _ in jobs])
    reports = [ingest_file(path, loader, fmt, store) for path, loader, fmt in jobs]
    store.finalize()
    store.close()
    return reports


def test_batched_samples_load_exactly_as_file_by_file(samples: Path, tmp_path: Path) -> None:
    jobs = plan([samples], get_loaders()).jobs
    small = [job for job in jobs if job[0].stat().st_size <= SMALL_FILE_BYTES]
    assert len(small) >= 10 and len(jobs) - len(small) >= 2  # most real sample files are small, two are not
    batched = _batched(jobs, tmp_path / "batched", batch_size=20)  # several batches
    single = _one_by_one(jobs, tmp_path / "single")
    assert [r.as_dict() for r in batched] == [r.as_dict() for r in single]
    folders = sorted(p.name for p in (tmp_path / "batched" / "files").iterdir())
    shared = [name for name in folders if name.startswith(BATCH_PREFIX)]
    assert 1 < len(shared) < len(small) and len(folders) - len(shared) == len(jobs) - len(small)
    one, two = _tables(tmp_path / "batched"), _tables(tmp_path / "single")
    for name, frame in one.items():
        assert PART_KEY not in frame.columns
        assert frame.equals(two[name]), name
    assert (tmp_path / "batched" / "rejected.jsonl").read_text("utf-8").splitlines() == \
        (tmp_path / "single" / "rejected.jsonl").read_text("utf-8").splitlines()
    with ParquetStore(tmp_path / "batched") as a, ParquetStore(tmp_path / "single") as b:
        assert a.inputs() == b.inputs()




def test_a_value_the_store_cannot_hold_is_quarantined_against_its_own_file(tmp_path: Path) -> None:
    paths = []
    for name in ("a", "b"):
        paths.append(tmp_path / f"{name}.jsonl")
        paths[-1].write_text(f"{name}\n")
    reports = _batched([(path, SurrogateLoader(), "api-v2-jsonl") for path in paths], tmp_path / "ws")
    for report in reports:
        assert (report.read, report.posts, report.quarantined) == (3, 2, 1) and report.reconciled
        assert report.part_folder and report.part_folder.startswith(BATCH_PREFIX)
    assert len({r.part_folder for r in reports}) == 1  # both in one shared folder
    posts = pl.read_parquet(tmp_path / "ws" / "posts.parquet")
    assert sorted(posts["post_id"]) == ["a-1", "a-3", "b-1", "b-3"]
    rejects = [json.loads(line) for line in (tmp_path / "ws" / "rejected.jsonl").read_text("utf-8").splitlines()]
    assert sorted((Path(r["source_file"]).name, r["source_record"]) for r in rejects) == [("a.jsonl", 2),
                                                                                          ("b.jsonl", 2)]
    with ParquetStore(tmp_path / "ws") as store:
        assert {info["quarantined"] for info in store.inputs().values()} == {1}


def test_a_batched_file_read_again_replaces_only_its_own_rows(tmp_path: Path) -> None:
    paths = []
    for name in ("a", "b", "c"):
        paths.append(tmp_path / f"{name}.jsonl")
        paths[-1].write_text(f"{name}\n")
    ws = tmp_path / "ws"
    _batched([(path, SurrogateLoader(), "api-v2-jsonl") for path in paths], ws)
    store = ParquetStore(ws)  # the same content again, file by file: its rows now live in their own folder
    store.begin_load([str(paths[0])])
    ingest_file(paths[0], SurrogateLoader(), "api-v2-jsonl", store)
    store.finalize()
    parts = store._manifest()["parts"]
    store.close()
    assert sum(name.startswith(BATCH_PREFIX) for name in parts.values()) == 2  # b and c still in the batch
    assert not parts[_key(paths[0])].startswith(BATCH_PREFIX)
    rows = _scan(ws / "files", parts, "posts", POSTS).collect()  # before de-duplication: nothing twice
    assert rows.height == 6 and rows["uid"].n_unique() == 6 and rows.columns == POSTS.names()
    assert _scan(ws / "files", parts, "accounts", ACCOUNTS).collect().height == 3
    rejects = (ws / "rejected.jsonl").read_text("utf-8").splitlines()
    assert len(rejects) == 3  # one per file, not one more for the file read twice


def _key(path: Path) -> str:
    from cib.ingest import file_sha256

    return file_sha256(path)


def test_the_same_content_twice_in_one_batch_keeps_its_second_reading(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("same\n")
    second.write_text("same\n")
    jobs = [(first, SurrogateLoader(), "api-v2-jsonl"), (second, SurrogateLoader(), "api-v2-jsonl")]
    _batched(jobs, tmp_path / "batched")
    _one_by_one(jobs, tmp_path / "single")
    one, two = _tables(tmp_path / "batched"), _tables(tmp_path / "single")
    assert set(one["posts"]["source_file"]) == {str(second)}
    for name in one:
        assert one[name].equals(two[name]), name


# -- a kill at any write step of a batched load --------------------------------------------------------------

_LOAD = """
import sys
from pathlib import Path
from cib.ingest import _ingest_many, plan, record
from cib.plugins import get_loaders
from cib.store import ParquetStore
jobs = plan([Path(sys.argv[1])], get_loaders()).jobs
store = ParquetStore(sys.argv[2])
store.begin_load([str(path) for path, _, _ in jobs])
for half in (jobs[: len(jobs) // 2], jobs[len(jobs) // 2:]):  # two worker tasks, as run_jobs sends them
    for report in _ingest_many(half, store, "quarantine", 400):
        record(store, report)
store.finalize()
"""


def _run(folder: Path, ws: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CIB_FAULT", "COV_CORE_", "COVERAGE_"))}
    return subprocess.run([sys.executable, "-c", _LOAD, str(folder), str(ws)], env={**clean, **env},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_kill_at_any_batched_write_step_leaves_one_whole_generation(tmp_path: Path) -> None:
    from cib.scenario import generate

    scenario = tmp_path / "scenario"
    generate(scenario, seed=5, accounts=30, days=2, posts_per_account=2)
    base = tmp_path / "base"
    assert _run(scenario / "x", base).returncode == 0  # an earlier load the killed one must not damage
    before = pl.read_parquet(base / "posts.parquet").sort("uid")
    reference = tmp_path / "reference"
    shutil.copytree(base, reference, symlinks=True)
    trace = tmp_path / "trace.tsv"
    assert _run(scenario, reference, CIB_FAULT_TRACE=str(trace)).returncode == 0
    expected = pl.read_parquet(reference / "posts.parquet").sort("uid")
    steps = [line.split("\t")[1] for line in trace.read_text().splitlines()]
    assert "batch posts written" in steps and steps.count("batch begun") >= 2
    # every step except the big file's own part writes (alike), plus a seeded few of those
    points = [n for n, step in enumerate(steps, start=1) if not step.startswith("part ")]
    points += random.Random(SEED).sample(sorted(set(range(1, len(steps) + 1)) - set(points)), 3)
    reruns = set(random.Random(SEED + 1).sample(points, 4))  # a re-run after a kill converges (a sample: slow)
    outcomes = set()
    for point in sorted(points):
        ws = tmp_path / f"kill{point}"
        shutil.copytree(base, ws, symlinks=True)
        assert _run(scenario, ws, CIB_FAULT_KILL_AT=str(point)).returncode == -signal.SIGKILL, steps[point - 1]
        with ParquetStore(ws) as store:
            posts = store.posts().collect().sort("uid")
            present = set(posts["source_file"])
            assert {info["path"] for info in store.inputs().values()} == present, steps[point - 1]
        assert posts.equals(before) or posts.equals(expected), steps[point - 1]
        outcomes.add("before" if posts.equals(before) else "after")
        if point in reruns:
            assert _run(scenario, ws).returncode == 0
            assert pl.read_parquet(ws / "posts.parquet").sort("uid").equals(expected)
            with ParquetStore(ws) as store:
                assert {p.name for p in (ws / "files").iterdir()} == set(store._manifest()["parts"].values())
        shutil.rmtree(ws)
    assert outcomes == {"before", "after"}



def test_many_small_files_in_one_process_are_batched_and_journaled_once(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from cib.cli import cli
    from cib.ingest import MANY_FILES

    folder = tmp_path / "channels"
    for n in range(MANY_FILES + 4):
        messages = [{"id": m, "type": "message", "date_unixtime": str(1709287200 + 60 * m + n), "from_id":
                     f"channel{1000 + n}", "text": f"post {m} of channel {n} #tag{m % 3} https://example.org/{m}"}
                    for m in range(1, 4)]
        (folder / f"{n:04d}").mkdir(parents=True)
        (folder / f"{n:04d}" / "result.json").write_text(json.dumps(
            {"name": f"channel {n}", "type": "public_channel", "id": 1000 + n, "messages": messages}))
    trace = tmp_path / "trace.tsv"
    monkeypatch.setenv("CIB_FAULT_TRACE", str(trace))
    run = CliRunner().invoke(cli, ["load", str(folder), "-w", str(tmp_path / "ws"), "--jobs", "1", "--silent",
                                   "--json"])
    monkeypatch.delenv("CIB_FAULT_TRACE")
    assert run.exit_code == 0, run.output
    summary = json.loads(run.output)
    assert summary["reconciled"] and summary["workspace"]["posts"] == 3 * (MANY_FILES + 4)
    steps = [line.split("\t")[1] for line in trace.read_text().splitlines()]
    assert steps.count("file recorded") == MANY_FILES + 4 and steps.count("file begun") == 0
    names = [p.name for p in (tmp_path / "ws" / "files").iterdir()]
    assert 1 < len(names) <= (MANY_FILES + 4) // 64 + 1 and all(n.startswith(BATCH_PREFIX) for n in names)
    jobs = plan([folder], get_loaders()).jobs
    _one_by_one(jobs, tmp_path / "single")
    one, two = _tables(tmp_path / "ws"), _tables(tmp_path / "single")
    for name in one:
        assert one[name].equals(two[name]), name
