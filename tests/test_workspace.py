"""The workspace's own guarantees, in process: snapshots, the writer lock, journals, scores, legacy layouts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from cib.cli import cli
from cib.errors import StoreError
from cib.schema import ACCOUNTS, CLUSTERS, POSTS, empty
from cib.store import ParquetStore
from cib.store.snapshots import Versions, WriterLock

DATA = Path(__file__).resolve().parent / "data"
CSV = DATA / "x" / "io_archive.csv"


def _posts(*ids: str, source: str = "f.json") -> pl.DataFrame:
    rows = empty(POSTS).to_dicts()
    for i, pid in enumerate(ids):
        rows.append({c: None for c in POSTS.names()} | {
            "uid": f"x:{pid}", "platform": "x", "post_id": pid, "account_uid": "x:a", "account_id": "a",
            "source_file": source, "source_record": i, "urls": [], "hashtags": [], "mentions": [], "media": [],
            "effect_ids": []})
    return pl.DataFrame(rows, schema=POSTS)


def _load(store: ParquetStore, key: str, *ids: str) -> dict[str, int]:
    store.begin_file(key)
    store.write_file(key, 0, _posts(*ids, source=f"{key}.json"), empty(ACCOUNTS))
    store.write_rejects(key, [{"source_file": f"{key}.json", "source_record": 9, "reason": "bad", "raw": "{"}])
    store.record_input(key, {"path": f"{key}.json", "sha256": key, "posts": len(ids)})
    return store.finalize()


def test_a_reader_keeps_its_snapshot_while_loads_commit(tmp_path: Path) -> None:
    _load(ParquetStore(tmp_path), "a", "1", "2")
    reader = ParquetStore(tmp_path)
    lazy = reader.posts()  # pins generation 1; nothing is read yet
    assert reader.generation() == "g-000001"
    for n, key in enumerate("bcd"):
        _load(ParquetStore(tmp_path), key, str(10 + n))
    assert sorted(lazy.collect()["post_id"]) == ["1", "2"]  # still generation 1, complete
    assert reader.inputs().keys() == {"a"} and reader.rejects().height == 1
    assert (tmp_path / "generations" / "g-000001").exists()  # pinned: not collected
    reader.close()
    _load(ParquetStore(tmp_path), "e", "20")
    assert sorted(p.name for p in (tmp_path / "generations").iterdir()) == ["CURRENT", "g-000005"]
    with ParquetStore(tmp_path) as now:
        assert now.counts()["posts"] == 6 and set(now.inputs()) == set("abcde")
        assert now.rejects().height == 5
        assert len(list((tmp_path / "files").iterdir())) == 5
    assert pl.read_parquet(tmp_path / "posts.parquet").height == 6  # the convenience view follows


def test_reloading_a_file_replaces_its_parts(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    _load(store, "a", "1", "2")
    store.begin_file("a")
    store.write_file("a", 0, _posts("9"), empty(ACCOUNTS))
    store.begin_file("a")  # the same content met twice in one load: the second reading replaces the first
    store.write_file("a", 0, _posts("3"), empty(ACCOUNTS))
    store.record_input("a", {"path": "a.json", "sha256": "a", "posts": 1})
    assert store.finalize()["posts"] == 1
    assert store.posts().collect()["post_id"].to_list() == ["3"]
    assert len(list((tmp_path / "files").iterdir())) == 1


def test_a_file_begun_but_never_recorded_is_not_committed(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write_file("a", 0, _posts("1"), empty(ACCOUNTS))  # begins the file implicitly
    store.write_rejects("b", [])
    store.record_input("c", {"path": "c.json", "sha256": "c"})
    assert store.finalize()["posts"] == 0
    assert set(store.inputs()) == {"c"}


def test_abandoned_load_is_reported_then_discarded(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["load", str(CSV), "-w", str(tmp_path), "--silent"]).exit_code == 0
    abandoned = ParquetStore(tmp_path)
    assert abandoned.begin_load(["one.json", "two.json", "three.json", "four.json"]) == []
    abandoned.begin_file("b")
    abandoned.write_file("b", 0, _posts("2"), empty(ACCOUNTS))
    abandoned.record_input("b", {"path": "one.json", "sha256": "b"})
    abandoned.close()  # like a killed process: lock released, nothing committed
    with ParquetStore(tmp_path) as reader:
        [note] = reader.interrupted()
        assert f"pid {os.getpid()}" in note and "one.json, two.json, three.json and 1 more" in note
        assert "(1 of 4 files read, none committed)" in note
        assert reader.counts()["posts"] == 2
    result = CliRunner().invoke(cli, ["score", "-w", str(tmp_path), "--silent"])
    assert result.exit_code == 0 and "warning: the interrupted load by pid" in result.stderr
    store = ParquetStore(tmp_path)
    [discard] = store.begin_load()
    assert discard.startswith("discarding the interrupted load")
    store.finalize()
    assert ParquetStore(tmp_path).interrupted() == []
    assert not list((tmp_path / "loads").iterdir())


def test_unreadable_journal_is_still_reported(tmp_path: Path) -> None:
    (tmp_path / "loads").mkdir(parents=True)
    (tmp_path / "loads" / "x.jsonl").write_text("")
    assert ParquetStore(tmp_path).interrupted() == ["an interrupted load (x.jsonl) whose journal is unreadable"]


def test_a_waiting_load_says_who_holds_the_workspace(tmp_path: Path) -> None:
    holder = ParquetStore(tmp_path / "ws")
    holder.begin_load()
    child = subprocess.Popen([sys.executable, "-m", "cib", "load", str(CSV), "-w", str(tmp_path / "ws"), "--silent"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    line = child.stderr.readline()  # blocks until the child has met the lock
    assert line.strip() == f"workspace {tmp_path / 'ws'} is being loaded by pid {os.getpid()}; waiting for it to finish"
    holder.finalize()
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    with ParquetStore(tmp_path / "ws") as store:
        assert store.counts()["posts"] == 2 and len(store.inputs()) == 1


def test_writer_lock_refuses_without_waiting(tmp_path: Path) -> None:
    first, second = WriterLock(tmp_path / ".lock"), WriterLock(tmp_path / ".lock")
    with first.hold():
        assert first.held and second.busy()
        with pytest.raises(StoreError, match=f"is being loaded by pid {os.getpid()}"):
            second.acquire(wait=False)
    assert not first.held and not second.busy()
    assert WriterLock(tmp_path / "missing" / ".lock").busy() is False


def test_scores_are_versioned_and_readers_keep_theirs(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    with pytest.raises(StoreError, match="no scores yet"):
        store.scores("clusters")
    clusters = empty(CLUSTERS)
    store.write_scores({"clusters": clusters}, {"run": 1})
    reader = ParquetStore(tmp_path)
    assert reader.score_params()["run"] == 1 and reader.score_params()["workspace_generation"] is None
    for run in (2, 3):
        ParquetStore(tmp_path).write_scores({}, {"run": run})
    assert reader.score_params()["run"] == 1 and reader.scores("edges").height == 0
    reader.close()
    ParquetStore(tmp_path).write_scores({}, {"run": 4})
    assert json.loads((tmp_path / "scores" / "params.json").read_text())["run"] == 4
    assert sorted(p.name for p in (tmp_path / "scores").iterdir() if p.is_dir()) == ["s-000004"]


def test_export_warns_when_scores_are_older_than_the_data(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["load", str(CSV), "-w", str(tmp_path), "--silent"]).exit_code == 0
    assert runner.invoke(cli, ["score", "-w", str(tmp_path), "--silent"]).exit_code == 0
    _load(ParquetStore(tmp_path), "more", "77")
    for args in (["export", "takedown", "-o", str(tmp_path / "t.csv")], ["report", "-o", str(tmp_path / "r")]):
        result = runner.invoke(cli, [*args, "-w", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert "scores were computed on workspace generation g-000001, but g-000002" in result.stderr
    manifest = json.loads((tmp_path / "t.manifest.json").read_text())
    assert manifest["workspace_generation"] == "g-000001"


def test_older_workspace_layout_is_readable_but_not_loadable(tmp_path: Path) -> None:
    _posts("1").write_parquet(tmp_path / "posts.parquet")
    (tmp_path / "inputs.json").write_text(json.dumps({"k": {"path": "old.json"}}))
    (tmp_path / "scores").mkdir()
    empty(CLUSTERS).write_parquet(tmp_path / "scores" / "clusters.parquet")
    store = ParquetStore(tmp_path)
    assert store.posts().collect().height == 1 and store.inputs() == {"k": {"path": "old.json"}}
    assert store.scores("clusters").height == 0 and store.rejects().height == 0
    with pytest.raises(StoreError, match="written by an older cib"):
        store.begin_file("k")


def test_damaged_manifest_is_a_store_error(tmp_path: Path) -> None:
    _load(ParquetStore(tmp_path), "a", "1")
    (tmp_path / "generations" / "g-000001" / "manifest.json").write_text("{")
    with pytest.raises(StoreError, match="manifest.json: damaged"):
        ParquetStore(tmp_path).inputs()


def test_versions_collect_leftovers_and_skip_pinned(tmp_path: Path) -> None:
    versions = Versions(tmp_path / "v", "v-")
    assert versions.pin() is None and versions.collect_garbage() == []
    first = versions.publish(versions.new_tmp())
    pin = versions.pin()
    assert pin is not None and pin.path == first
    versions.publish(versions.new_tmp())
    stray = versions.new_tmp()  # a writer killed before publishing
    (stray / ".readers").unlink()
    (tmp_path / "v" / ".trash-old").mkdir()
    (tmp_path / "v" / ".CURRENT.1.x.tmp").write_text("g")
    assert versions.collect_garbage() == [stray.name]  # v-000001 is pinned, v-000002 is current
    pin.close()
    assert versions.collect_garbage() == ["v-000001"]
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["CURRENT", "v-000002"]


def test_a_full_disk_is_one_line_and_keeps_the_previous_generation(tmp_path: Path) -> None:
    _load(ParquetStore(tmp_path), "a", "1")
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"  # files over 4 KiB fail like a full disk
        "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "from cib.cli import cli\n"
        f"sys.argv = ['cib', 'load', {str(CSV)!r}, '-w', {str(tmp_path)!r}, '--silent']\n"
        "cli()\n"
    )
    # no coverage tracer in this child: its own data file could not be written under the 4 KiB limit either
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE_", "COVERAGE_"))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "nothing of this load is committed" in result.stderr or "cannot commit the load" in result.stderr
    with ParquetStore(tmp_path) as store:
        assert store.generation() == "g-000001" and set(store.inputs()) == {"a"}



def test_worker_processes_write_into_the_parent_load(tmp_path: Path) -> None:
    """`cib load --jobs N` sends the store to spawned workers (as `run_jobs` does): they write parts under the
    parent's lock, and the parent records the files and commits."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from cib.ingest import _ingest_many, detect, record
    from cib.plugins import get_loaders

    files = [CSV, DATA / "facebook" / "crowdtangle.csv"]
    jobs = [(path, *detect(path, get_loaders())) for path in files]
    store = ParquetStore(tmp_path)
    store.begin_load([str(p) for p in files])
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_ingest_many, [job], store, "quarantine", 1) for job in jobs]
        reports = [r for f in futures for r in f.result()]
    assert all(report.part_folder for report in reports)  # small files: rows in shared (batch) part folders
    for report in reports:
        record(store, report)
    counts = store.finalize()
    reference = tmp_path / "ref"
    assert CliRunner().invoke(cli, ["load", *map(str, files), "-w", str(reference), "--silent"]).exit_code == 0
    with ParquetStore(reference) as ref:
        assert counts == ref.counts() and counts["posts"] == 4
        assert store.posts().collect().sort("uid").equals(ref.posts().collect().sort("uid"))
    assert {v["path"] for v in store.inputs().values()} == {str(p) for p in files}


def test_cib_returns_freed_memory_promptly_unless_the_user_tunes_the_allocator() -> None:
    """The load's commit peaked ~350 MiB higher with polars' default allocator decay (README "Load speed")."""
    show = "import cib, os; print(os.environ['_RJEM_MALLOC_CONF'])"
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    out = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith(",muzzy_decay_ms:0")  # appended to polars' own setting, so it takes effect
    mine = subprocess.run([sys.executable, "-c", show], env={**env, "_RJEM_MALLOC_CONF": "narenas:2"},
                          capture_output=True, text=True, check=True).stdout
    assert mine.strip().endswith(",narenas:2") and "muzzy_decay_ms:0" not in mine
