"""The load command's promises: reconciled counts, quarantine with reasons, no duplicates, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from cib.cli import cli

DATA = Path(__file__).resolve().parent / "data"


def _load(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["load", *args, "--silent"])
    return result.exit_code, result.stdout, result.stderr


def test_counts_reconcile_and_reasons_are_listed(tmp_path: Path) -> None:
    code, out, _ = _load(str(DATA / "tiktok"), str(DATA / "x" / "io_archive.csv"), "-w", str(tmp_path), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["reconciled"] and summary["read"] == summary["loaded"] + summary["quarantined"] == 8
    assert summary["quarantine_reasons"]["missing required field 'tweet_time'"] == 1
    lines = (tmp_path / "rejected.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == summary["quarantined"]
    assert all({"source_file", "source_record", "reason", "raw"} <= set(json.loads(x)) for x in lines)


def test_reloading_the_same_export_adds_nothing(tmp_path: Path) -> None:
    runs = [_load(str(DATA), "-w", str(tmp_path), "--json") for _ in range(2)]
    # tests/data holds one truncated file on purpose: both loads report it (exit 1) and load the rest alike
    assert [code for code, _, _ in runs] == [1, 1]
    assert runs[0][2] == runs[1][2] and "truncated_v11.json: record 4" in runs[1][2]
    first_summary, second_summary = (json.loads(out) for _, out, _ in runs)
    assert first_summary["workspace"] == second_summary["workspace"]
    posts = pl.read_parquet(tmp_path / "posts.parquet")
    assert posts["uid"].is_unique().all() and posts.height == first_summary["workspace"]["posts"] > 0
    first = posts.height
    # the same records in a different file (other bytes, so another file key) still merge by id
    header, *records = (DATA / "x" / "io_archive.csv").read_text("utf-8").splitlines(keepends=True)
    copy = tmp_path / "copy" / "reordered.csv"
    copy.parent.mkdir()
    copy.write_text(header + "".join(reversed(records)), "utf-8")
    code, out, _ = _load(str(copy), "-w", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)["files"][0]["posts"] > 0
    assert pl.read_parquet(tmp_path / "posts.parquet").height == first


def test_broken_file_names_file_and_record_and_keeps_the_rest(tmp_path: Path) -> None:
    good = DATA / "x" / "io_archive.csv"
    broken = DATA / "x" / "truncated_v11.json"
    code, out, err = _load(str(good), str(broken), "-w", str(tmp_path))
    assert code == 1
    assert "truncated_v11.json: record 4: invalid JSON document" in err
    assert "password" not in err.lower()
    assert pl.read_parquet(tmp_path / "posts.parquet").height == 2  # the good file is loaded


def test_abort_stops_at_the_first_bad_record(tmp_path: Path) -> None:
    code, _, err = _load(str(DATA / "x" / "io_archive.csv"), "-w", str(tmp_path), "--on-error", "abort")
    assert code == 1 and "io_archive.csv: record 4: missing required field 'tweet_time'" in err
    assert pl.read_parquet(tmp_path / "posts.parquet").height == 2  # rows before it are kept


def test_unrecognised_explicit_file_is_an_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    code, _, err = _load(str(junk), "-w", str(tmp_path / "ws"))
    assert code == 1 and "notes.txt: not a recognised export" in err


def test_workspace_from_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIB_WORKSPACE", str(tmp_path / "envws"))
    assert _load(str(DATA / "x" / "io_archive.csv"))[0] == 0
    assert (tmp_path / "envws" / "posts.parquet").exists()


def test_truncated_array_keeps_the_items_before_the_break(tmp_path: Path) -> None:
    tweet = {"id_str": "1552687856111566848", "created_at": "Thu Jul 28 16:10:07 +0000 2022", "full_text": "hi",
             "user": {"id_str": "415704821", "screen_name": "a"}}
    text = json.dumps([tweet, {**tweet, "id_str": "1552687856111566849"}], indent=1)
    broken = tmp_path / "tweets.json"
    broken.write_text(text[: len(text) - 40])
    code, _, err = _load(str(broken), "-w", str(tmp_path / "ws"))
    assert code == 1 and "tweets.json: record 2: invalid JSON after 1 items" in err
    assert pl.read_parquet(tmp_path / "ws" / "posts.parquet")["post_id"].to_list() == ["1552687856111566848"]
