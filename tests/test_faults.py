"""Fault injection: `cib load` SIGKILLed at seeded random points, and many loads and scores at once.

Every child runs under resource limits (address space and CPU seconds, ``resource.setrlimit``), so a hang or a
runaway allocation fails the test instead of the machine; nothing here asserts on wall-clock time.

Kill points are the store's fault points (``CIB_FAULT_KILL_AT=n``: the process SIGKILLs itself at its n-th
write step, exactly like ``kill -9`` would) — deterministic for a seed — plus a few kills from outside after a
seeded random delay.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from cib.store import ParquetStore

pytestmark = pytest.mark.slow

CIB = [sys.executable, "-m", "cib"]
SEED = 20260311
ADDRESS_SPACE = 3 << 30  # bytes per child
CPU_SECONDS = 120


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIB_FAULT")}
    return {**env, **extra}


def _cib(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CIB, *args], preexec_fn=_limits, env=_env(**env), capture_output=True, text=True,
                          timeout=600)


def _load_args(files: list[Path], ws: Path) -> list[str]:
    return ["load", *map(str, files), "-w", str(ws), "--silent", "--batch-size", "400"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from cib.scenario import generate

    root = tmp_path_factory.mktemp("faults")
    generate(root, seed=5, accounts=50, days=2, posts_per_account=3)
    return [root / "tiktok" / "zeeschuimer.ndjson", root / "x" / "tweets.jsonl", root / "facebook" / "crowdtangle.csv"]


def _state(ws: Path) -> tuple[pl.DataFrame, dict[str, dict]]:
    with ParquetStore(ws) as store:
        return store.posts().collect().sort("uid"), store.inputs()


def _assert_consistent(ws: Path) -> tuple[pl.DataFrame, dict[str, dict]]:
    """The workspace opens, and the manifest lists exactly the inputs whose data is present."""
    posts, inputs = _state(ws)
    with ParquetStore(ws) as store:
        accounts = store.accounts().collect()
        assert store.counts()["posts"] == posts.height
    present = set(posts["source_file"].unique()) | set(accounts["source_file"].unique())
    assert {info["path"] for info in inputs.values()} == present
    for key, info in inputs.items():
        assert info["sha256"] == key and info["error"] is None
        kept = posts.filter(pl.col("source_file") == info["path"]).height  # repeated ids in a file merge
        assert 0 < kept <= info["posts"]
    return posts, inputs


def _assert_clean(ws: Path, *, readers_were_running: bool = False) -> None:
    """After a committed load: one generation (more only if a reader still pinned an older one at the last
    commit), only referenced part folders, no journal, no temporaries."""
    with ParquetStore(ws) as store:
        manifest_parts = set(store._manifest()["parts"].values())
        assert store.interrupted() == []
    assert {p.name for p in (ws / "files").iterdir()} == manifest_parts
    generations = sorted(p.name for p in (ws / "generations").iterdir() if p.name != "CURRENT")
    current = (ws / "generations" / "CURRENT").read_text().strip()
    assert generations[-1] == current and (len(generations) == 1 or readers_were_running), generations
    assert list((ws / "loads").iterdir()) == []
    assert [p for p in ws.rglob("*.tmp")] == []


def test_sigkill_at_random_points_never_corrupts_and_a_rerun_converges(exports: list[Path], tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    assert _cib(*_load_args(exports, reference)).returncode == 0
    expected, expected_inputs = _assert_consistent(reference)
    assert len(expected_inputs) == 3 and expected.height > 500

    base = tmp_path / "base"  # an earlier load of the first file: what a killed load must leave intact
    assert _cib(*_load_args(exports[:1], base)).returncode == 0
    before, _ = _assert_consistent(base)

    trace = tmp_path / "trace.tsv"
    traced = tmp_path / "traced"
    shutil.copytree(base, traced, symlinks=True)
    assert _cib(*_load_args(exports, traced), CIB_FAULT_TRACE=str(trace)).returncode == 0
    steps = trace.read_text().splitlines()
    assert len(steps) >= 30, steps
    rng = random.Random(SEED)
    points = sorted(rng.sample(range(1, len(steps) + 1), 22))
    delays = [rng.uniform(0.2, 2.5) for _ in range(3)]
    outcomes: dict[str, int] = {"previous state": 0, "committed": 0}
    for trial, point in enumerate([*points, *(-i - 1 for i in range(len(delays)))]):
        ws = tmp_path / f"trial{trial}"
        shutil.copytree(base, ws, symlinks=True)
        if point > 0:
            killed = _cib(*_load_args(exports, ws), CIB_FAULT_KILL_AT=str(point))
            assert killed.returncode == -signal.SIGKILL, (steps[point - 1], killed.stderr)
        else:
            child = subprocess.Popen([*CIB, *_load_args(exports, ws)], preexec_fn=_limits, env=_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delays[-point - 1])
            child.send_signal(signal.SIGKILL)
            child.wait()
        posts, inputs = _assert_consistent(ws)
        if posts.equals(before):
            outcomes["previous state"] += 1
        else:  # the commit is atomic: the new state is complete or absent
            assert posts.equals(expected) and inputs == expected_inputs, steps[point - 1]
            outcomes["committed"] += 1
        with ParquetStore(ws) as store:
            interrupted = store.interrupted()
        if posts.equals(before) and point > 0 and "journal started" in [s.split("\t")[1] for s in steps[:point]]:
            assert len(interrupted) == 1 and "interrupted load" in interrupted[0], steps[point - 1]
            scored = _cib("score", "-w", str(ws), "--silent")
            assert scored.returncode == 0, scored.stderr
            assert "interrupted load by pid" in scored.stderr and "Run that load again" in scored.stderr
        rerun = _cib(*_load_args(exports, ws))
        assert rerun.returncode == 0, rerun.stderr
        assert ("discarding the interrupted load" in rerun.stderr) == bool(interrupted)
        posts, inputs = _assert_consistent(ws)
        assert posts.equals(expected) and inputs == expected_inputs
        _assert_clean(ws)
        shutil.rmtree(ws)
    print(f"\n{len(points)} kill points out of {len(steps)} write steps + {len(delays)} timed kills: {outcomes}")
    assert outcomes["previous state"] >= 10 and outcomes["committed"] >= 1, outcomes


def test_twelve_concurrent_loads_and_scores_all_land(exports: list[Path], tmp_path: Path) -> None:
    lines = exports[1].read_text("utf-8").splitlines()
    chunks = []
    for i in range(12):  # twelve distinct exports: slices of one X export
        chunk = tmp_path / "in" / f"part{i:02d}.jsonl"
        chunk.parent.mkdir(exist_ok=True)
        chunk.write_text("\n".join(lines[i::12]) + "\n", "utf-8")
        chunks.append(chunk)
    ws = tmp_path / "ws"
    assert _cib(*_load_args(exports[:1], ws)).returncode == 0  # scorers start with data to score,
    assert _cib("score", "-w", str(ws), "--silent").returncode == 0  # the exporter with scores to export
    loads = [subprocess.Popen([*CIB, *_load_args([chunk], ws)], preexec_fn=_limits, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for chunk in chunks]
    readers: list[subprocess.CompletedProcess[str]] = []

    def loop(*args: str) -> None:  # two scorers and an exporter, over and over while the loads run
        runs = 0
        while any(p.poll() is None for p in loads) or runs < 2:
            readers.append(_cib(*args))
            runs += 1

    threads = [threading.Thread(target=loop, args=args) for args in (
        ("score", "-w", str(ws), "--silent"), ("score", "-w", str(ws), "--silent"),
        ("export", "takedown", "-w", str(ws), "-o", str(tmp_path / "out" / "t.csv")))]
    for thread in threads:
        thread.start()
    results = [(p.wait(), *p.communicate()) for p in loads]
    for thread in threads:
        thread.join()
    assert [code for code, _, _ in results] == [0] * 12, [err for _, _, err in results]
    assert sum("is being loaded by pid" in err for _, _, err in results) >= 1  # they queued, with a message
    for reader in readers:
        assert reader.returncode == 0 and "Traceback" not in reader.stderr, reader.stderr
    waited = sum("is being loaded by pid" in err for _, _, err in results)
    print(f"\n12 concurrent loads: all landed, {waited} waited for the lock; {len(readers)} score/export runs, "
          "none failed")
    posts, inputs = _assert_consistent(ws)
    assert len(inputs) == 13
    reference = tmp_path / "reference"
    assert _cib(*_load_args([exports[0], *chunks], reference)).returncode == 0
    assert posts.equals(_state(reference)[0])
    _assert_clean(ws, readers_were_running=True)


def test_no_wait_names_the_pid_holding_the_workspace(exports: list[Path], tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    holder = ParquetStore(ws)
    holder.begin_load(["x.json"])
    try:
        refused = _cib(*_load_args(exports[:1], ws), "--no-wait")
        assert refused.returncode == 1
        assert f"workspace {ws} is being loaded by pid {os.getpid()}; try again when it has finished" in refused.stderr
        assert "Traceback" not in refused.stderr
        with ParquetStore(ws) as reader:
            assert reader.interrupted() == []  # a live load is not an interrupted one
    finally:
        holder.close()
    with ParquetStore(ws) as reader:
        assert len(reader.interrupted()) == 1  # abandoned without commit: reported
