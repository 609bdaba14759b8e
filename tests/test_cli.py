"""User-facing CLI paths: entry points, progress, batching, every `cib score` option, report and export options.

Detection figures live in test_scoring.py; here each option is shown to change what its help text says it does.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

import cib
from cib.cli import cli

DATA = Path(__file__).resolve().parent / "data"
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def lockstep_export(path: Path, *, gap_s: int = 120, sizes: tuple[int, ...] = (4,), shared: int = 3,
                    background: int = 30) -> None:
    """An X API v2 export: one group per entry of `sizes`, of that many accounts that each post the same
    `shared` rare links, one account every `gap_s` seconds, plus two links of their own each, among
    `background` ordinary accounts."""
    users, data = [], []

    def post(author: str, when: datetime, url: str) -> None:
        data.append({"id": str(9 * 10**17 + len(data)), "author_id": author, "created_at": _ts(when),
                     "text": f"look at this {len(data)}",
                     "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": url}]}})

    for g, members in enumerate(sizes):
        for m in range(members):
            uid = str(10**17 + 100 * g + m)
            users.append({"id": uid, "username": f"group{g}_member{m}", "name": f"G{g} M{m}"})
            for k in range(shared):
                post(uid, T0 + timedelta(days=g, hours=k, seconds=gap_s * m), f"https://rare{g}.example/{k}")
            for k in range(2):
                post(uid, T0 + timedelta(days=10 + g, hours=m, minutes=k), f"https://own.example/{g}/{m}/{k}")
    for b in range(background):
        uid = str(2 * 10**17 + b)
        users.append({"id": uid, "username": f"reader{b}", "name": "Reader"})
        post(uid, T0 + timedelta(days=20, minutes=b), f"https://news.example/{b}")
    path.write_text(json.dumps({"data": data, "includes": {"users": users}}) + "\n", "utf-8")


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def lockstep_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loaded workspace of two lockstep groups (4 and 5 accounts, 120 s apart); tests re-score it."""
    base = tmp_path_factory.mktemp("lockstep")
    lockstep_export(base / "export.jsonl", sizes=(4, 5))
    result = _run("load", base / "export.jsonl", "-w", base / "ws", "--silent")
    assert result.exit_code == 0, result.output
    return base / "ws"


def _score(ws: Path, *options: str) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    result = _run("score", "-w", ws, "--silent", *options)
    assert result.exit_code == 0, result.output
    params = json.loads((ws / "scores" / "params.json").read_text("utf-8"))
    return pl.read_parquet(ws / "scores" / "edges.parquet"), pl.read_parquet(ws / "scores" / "clusters.parquet"), params


# -- entry points ---------------------------------------------------------------------------------------------
def test_version_option_reports_the_installed_version() -> None:
    result = _run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"cib, version {version('cib')}" and version("cib") == cib.__version__


def test_python_dash_m_cib_is_the_cli(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "cib", "--version"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.strip() == f"cib, version {cib.__version__}"
    run = subprocess.run([sys.executable, "-m", "cib", "score", "-w", str(tmp_path / "never-loaded")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("Error: no posts in workspace "), run.stderr
    assert "run `cib load" in run.stderr and "Traceback" not in run.stderr


def test_score_without_posts_is_a_one_line_error(tmp_path: Path) -> None:
    for ws in (tmp_path / "missing", tmp_path):  # never created, and an existing empty directory
        result = _run("score", "-w", ws, "--silent")
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.output.splitlines() == [f"Error: no posts in workspace {ws}: run `cib load EXPORTS` with "
                                              "the same workspace first"]
    assert not (tmp_path / "scores").exists()


def test_posts_with_nothing_in_common_score_to_no_clusters(tmp_path: Path) -> None:
    export = tmp_path / "e.jsonl"
    export.write_text(json.dumps({"data": [{"id": "1", "author_id": "9", "created_at": _ts(T0), "text": "hello"}],
                                  "includes": {"users": [{"id": "9", "username": "a"}]}}) + "\n")
    assert _run("load", export, "-w", tmp_path / "ws", "--silent").exit_code == 0
    edges, clusters, _ = _score(tmp_path / "ws")
    assert edges.height == 0 and clusters.height == 0
    # ... and the takedown list is empty but complete: header, manifest, no per-platform files
    out = tmp_path / "t" / "takedown.csv"
    result = _run("export", "takedown", "-w", tmp_path / "ws", "-o", out, "--stix")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "0 accounts in 0 flagged clusters"
    from cib.schema import EXPORT

    assert out.read_text("utf-8").splitlines() == [",".join(EXPORT.names())]
    manifest = json.loads((out.parent / "takedown.manifest.json").read_text())
    assert manifest["accounts"] == 0 and manifest["clusters"] == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["takedown.csv", "takedown.manifest.json",
                                                             "takedown.stix.json"]
    as_json = tmp_path / "t" / "takedown.json"
    assert _run("export", "takedown", "-w", tmp_path / "ws", "-o", as_json, "--format", "json").exit_code == 0
    assert json.loads(as_json.read_text()) == []


def test_demo_runs_every_step(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = _run("demo", "-o", out, "--accounts", "50", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("scenario: ")
    figures = json.loads(result.output[result.output.index("\n{") + 1:])
    assert figures["precision"] >= 0.9 and figures["recall"] > 0.5, figures
    clusters = pl.read_parquet(out / "workspace" / "scores" / "clusters.parquet")
    flagged = clusters.filter(pl.col("flagged"))
    assert f"{clusters.height} clusters, {flagged.height} flagged" in result.output
    for cid in clusters["cluster_id"]:
        assert (out / "report" / f"cluster-{cid}.html").exists()
    with open(out / "takedown.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    members = pl.read_parquet(out / "workspace" / "scores" / "members.parquet")
    assert len(rows) == members.join(flagged, on="cluster_id", how="semi").height > 0
    assert (out / "takedown.stix.json").exists()
    assert f"accounts in {flagged.height} flagged clusters" in result.output


# -- load: progress and batching -----------------------------------------------------------------------------
def test_load_shows_per_file_progress_on_a_terminal(tmp_path: Path) -> None:
    src = DATA / "facebook" / "crowdtangle.csv"
    env = {**os.environ, "TTY_COMPATIBLE": "1", "COLUMNS": "200"}
    run = subprocess.run([sys.executable, "-m", "cib", "load", str(src), "-w", str(tmp_path / "a"),
                          "--batch-size", "1"], capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", run.stderr)  # without the terminal's colour codes
    assert "1/1 files 3 records" in shown, shown
    assert "files" not in run.stdout.split("records read")[0]  # the summary goes to stdout, progress to stderr
    quiet = subprocess.run([sys.executable, "-m", "cib", "load", str(src), "-w", str(tmp_path / "b"), "--silent"],
                           capture_output=True, text=True, env=env, check=False)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_score_prints_each_stage_unless_silent(lockstep_ws: Path) -> None:
    loud = _run("score", "-w", lockstep_ws)
    assert loud.exit_code == 0, loud.output
    stages = [line.split(":")[0].strip() for line in loud.stderr.splitlines()]
    assert stages == ["actions", "co-timing pairs", "edges", "clustering", "cluster scores"]
    assert all(" rows " in line and "rss" in line for line in loud.stderr.splitlines())
    assert _run("score", "-w", lockstep_ws, "--silent").stderr == ""


def test_batch_size_flushes_inside_a_file(tmp_path: Path) -> None:
    src = DATA / "facebook" / "crowdtangle.csv"
    whole = _run("load", src, "-w", tmp_path / "whole", "--silent", "--json")
    batched = _run("load", src, "-w", tmp_path / "batched", "--silent", "--json", "--batch-size", "1")
    assert whole.exit_code == batched.exit_code == 0
    n = json.loads(batched.output)["files"][0]["posts"]
    assert n == json.loads(whole.output)["files"][0]["posts"] >= 2
    assert len(list((tmp_path / "whole" / "parts" / "posts").glob("*.parquet"))) == 1
    assert len(list((tmp_path / "batched" / "parts" / "posts").glob("*.parquet"))) == n
    a = pl.read_parquet(tmp_path / "whole" / "posts.parquet")
    b = pl.read_parquet(tmp_path / "batched" / "posts.parquet")
    assert a.equals(b) and a.height == n


def test_standalone_account_records(samples: Path, tmp_path: Path) -> None:
    """A TikTok user-info response is an account without posts; the real sample lacks the username and is
    quarantined with the reason, the same response with one is loaded."""
    real = samples / "tiktok" / "research_api_user_info_response.json"
    result = _run("load", real, "-w", tmp_path / "ws", "--silent", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["quarantined"] == 1 and summary["loaded"] == 0
    assert "carries no username" in next(iter(summary["quarantine_reasons"]))
    named = json.loads(real.read_text("utf-8"))
    named["data"]["username"] = "my_handle"
    (tmp_path / "user.json").write_text(json.dumps(named))
    summary = json.loads(_run("load", tmp_path / "user.json", "-w", tmp_path / "ws", "--silent", "--json").output)
    assert summary["files"][0]["accounts"] == 1 and summary["workspace"]["posts"] == 0
    accounts = pl.read_parquet(tmp_path / "ws" / "accounts.parquet")
    row = accounts.row(0, named=True)
    assert accounts.height == 1 and row["uid"] == "tiktok:my_handle"
    assert (row["followers"], row["following"], row["posts_count"], row["bio"], row["verified"]) == (
        232, 45, 44, "my_bio", False)
    assert row["display_name"] == "my nick name" and row["profile_url"] == "https://www.tiktok.com/@my_handle"
    # the score command still refuses a workspace with accounts but no posts
    assert _run("score", "-w", tmp_path / "ws", "--silent").exit_code == 1


# -- score options --------------------------------------------------------------------------------------------
def test_window_bounds_the_gap_between_co_posts(lockstep_ws: Path) -> None:
    edges, _, params = _score(lockstep_ws, "--window", "480")
    assert edges.height == 6 + 10 and params["window_s"] == 480  # every pair of both groups (4 and 5 accounts)
    edges, _, params = _score(lockstep_ws, "--window", "120")
    assert edges.height == 3 + 4 and params["window_s"] == 120  # only accounts posting next to each other
    assert set(edges["min_gap_s"]) == {120.0}
    edges, clusters, params = _score(lockstep_ws, "--window", "119")
    assert params["window_s"] == 119 and edges.height == 0 and clusters.height == 0


def test_min_shared_counts_distinct_co_posts(lockstep_ws: Path) -> None:
    edges, _, params = _score(lockstep_ws, "--min-shared", "3")
    assert edges.height == 16 and set(edges["n_shared"]) == {3} and params["min_shared"] == 3
    edges, _, params = _score(lockstep_ws, "--min-shared", "4")
    assert edges.height == 0 and params["min_shared"] == 4


def test_min_weight_drops_lighter_edges(lockstep_ws: Path) -> None:
    edges, _, _ = _score(lockstep_ws, "--min-weight", "0")
    weights = sorted(set(edges["weight"].round(6)))
    assert edges.height == 16 and 0 < weights[0] < 1
    cut = weights[0] + 1e-6
    heavier, _, params = _score(lockstep_ws, "--min-weight", str(cut))
    assert params["min_weight"] == pytest.approx(cut)
    assert heavier.height == edges.filter(pl.col("weight") >= cut).height < 16
    assert heavier["weight"].min() is None or heavier["weight"].min() >= cut


def test_threshold_decides_which_clusters_are_flagged(lockstep_ws: Path) -> None:
    _, clusters, params = _score(lockstep_ws, "--threshold", "0")
    assert clusters.height == 2 and clusters["flagged"].all() and params["cluster"]["flag_threshold"] == 0
    top = clusters["score"].max()
    _, clusters, _ = _score(lockstep_ws, "--threshold", str(top))
    # the stored (rounded) score is what a user sees and passes back: flagged exactly when score >= threshold
    assert clusters["flagged"].to_list() == (clusters["score"] >= top).to_list() == [True, False]
    _, clusters, _ = _score(lockstep_ws, "--threshold", "1")
    assert not clusters["flagged"].any() and clusters.height == 2  # clusters are kept, only not flagged


def test_seed_is_recorded_and_reproducible(lockstep_ws: Path, tmp_path: Path) -> None:
    _, first, params = _score(lockstep_ws, "--seed", "7")
    assert params["cluster"]["seed"] == 7
    _, again, _ = _score(lockstep_ws, "--seed", "7")
    assert first.equals(again)
    out = tmp_path / "t.csv"
    assert _run("export", "takedown", "-w", lockstep_ws, "-o", out).exit_code == 0
    assert json.loads((tmp_path / "t.manifest.json").read_text())["seed"] == 7


def test_score_table_lists_the_top_clusters(lockstep_ws: Path) -> None:
    result = _run("score", "-w", lockstep_ws, "--silent", "--top", "1")
    assert result.exit_code == 0, result.output
    clusters = pl.read_parquet(lockstep_ws / "scores" / "clusters.parquet")
    n_flagged = int(clusters["flagged"].sum())
    assert f"{clusters.height} clusters, {n_flagged} flagged" in result.output
    first, second = clusters["cluster_id"].to_list()
    assert first in result.output and second not in result.output
    assert second in _run("score", "-w", lockstep_ws, "--silent", "--top", "2").output


# -- report and export options --------------------------------------------------------------------------------
def _drawn_edges(page: Path) -> int:
    text = page.read_text("utf-8")
    start = text.index("edges = new vis.DataSet(") + len("edges = new vis.DataSet(")
    return len(json.JSONDecoder().raw_decode(text[start:])[0])


def test_report_flagged_only_and_max_edges(lockstep_ws: Path, tmp_path: Path) -> None:
    _, clusters, _ = _score(lockstep_ws)
    edges = pl.read_parquet(lockstep_ws / "scores" / "edges.parquet")
    top = clusters["score"].max()
    _score(lockstep_ws, "--threshold", str(top))  # exactly the best cluster(s) flagged
    clusters = pl.read_parquet(lockstep_ws / "scores" / "clusters.parquet")
    flagged = set(clusters.filter(pl.col("flagged"))["cluster_id"])
    assert 0 < len(flagged) < clusters.height
    out = tmp_path / "flagged"
    assert _run("report", "-w", lockstep_ws, "-o", out, "--flagged-only").exit_code == 0
    assert {p.name[len("cluster-"):-len(".html")] for p in out.glob("cluster-*.html")} == flagged
    index = (out / "index.html").read_text("utf-8")
    assert all((cid in index) == (cid in flagged) for cid in clusters["cluster_id"])
    full = tmp_path / "full"
    assert _run("report", "-w", lockstep_ws, "-o", full).exit_code == 0
    assert len(list(full.glob("cluster-*.html"))) == clusters.height
    assert _drawn_edges(full / "overview.html") == edges.height == 16
    capped = tmp_path / "capped"
    assert _run("report", "-w", lockstep_ws, "-o", capped, "--max-edges", "2").exit_code == 0
    assert _drawn_edges(capped / "overview.html") == 2
    assert sorted(_drawn_edges(full / f"cluster-{cid}.html") for cid in clusters["cluster_id"]) == [6, 10]
    assert [_drawn_edges(capped / f"cluster-{cid}.html") for cid in clusters["cluster_id"]] == [2, 2]
