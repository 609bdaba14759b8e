"""The load command's promises: reconciled counts, quarantine with reasons, no duplicates, clear errors."""

from __future__ import annotations

import json
import shutil
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


def test_skipped_data_files_are_named_and_exit_3_unless_skip_unknown(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(DATA / "x", folder, ignore=shutil.ignore_patterns("truncated*"))
    (folder / "mystery.jsonl").write_text('{"hello": "world"}\n')
    (folder / "table.csv").write_text("a,b\n1,2\n")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "notes.md").write_text("# notes\n")
    code, out, err = _load(str(folder), "-w", str(tmp_path / "ws"))
    assert code == 3, (out, err)
    assert f"skipped  {folder / 'mystery.jsonl'}: data file that is not a recognised export" in out
    assert f"skipped  {folder / 'table.csv'}" in out
    assert f"ignored  {folder / 'photo.jpg'}: media file" in out and f"ignored  {folder / 'notes.md'}" in out
    assert "partial: 2 data file(s) skipped" in err
    code, out, _ = _load(str(folder), "-w", str(tmp_path / "ws"), "--skip-unknown", "--json")
    summary = json.loads(out)
    assert code == 0 and {f["path"] for f in summary["skipped_files"]} == {str(folder / "mystery.jsonl"),
                                                                          str(folder / "table.csv")}
    assert {f["path"] for f in summary["ignored_files"]} == {str(folder / "photo.jpg"), str(folder / "notes.md")}


def test_empty_folder_says_no_exports_found(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = _load(str(tmp_path / "empty"), "-w", str(tmp_path / "ws"))
    assert code == 1 and "no exports found" in err
    assert not (tmp_path / "ws").exists()


def test_missing_path_fails_before_anything_is_created(tmp_path: Path) -> None:
    code, _, err = _load(str(DATA / "x" / "io_archive.csv"), str(tmp_path / "nope.json"), "-w", str(tmp_path / "ws"))
    assert code == 2 and "nope.json" in err and "does not exist" in err
    assert not (tmp_path / "ws").exists()


def test_inputs_index_is_written_once_with_every_file(tmp_path: Path) -> None:
    code, _, _ = _load(str(DATA / "tiktok"), str(DATA / "x" / "io_archive.csv"), "-w", str(tmp_path))
    assert code == 0
    inputs = json.loads((tmp_path / "inputs.json").read_text("utf-8"))
    assert len(inputs) == len(list((DATA / "tiktok").iterdir())) + 1
    assert all({"path", "read", "assumptions"} <= set(v) for v in inputs.values())


def test_process_pool_gives_the_same_workspace(tmp_path: Path) -> None:
    from cib.scenario import generate

    generate(tmp_path / "sc", seed=3, accounts=120)
    for jobs in ("1", "2"):
        code, out, _ = _load(str(tmp_path / "sc"), "-w", str(tmp_path / f"ws{jobs}"), "--jobs", jobs, "--json")
        assert code == 0, out
    one, two = (pl.read_parquet(tmp_path / f"ws{j}" / "posts.parquet").sort("uid") for j in ("1", "2"))
    assert one.height > 0 and one.equals(two)


def test_a_value_the_store_cannot_hold_costs_one_record(tmp_path: Path) -> None:
    """A lone surrogate that reached a record (e.g. via a streamed document) is quarantined at write time."""
    from cib.ingest import ingest_file
    from cib.store import ParquetStore
    from tests.hostile_loader import SurrogateLoader

    path = tmp_path / "in.jsonl"
    path.write_text("{}\n")
    store = ParquetStore(tmp_path / "ws")
    report = ingest_file(path, SurrogateLoader(), "api-v2-jsonl", store)
    store.finalize()
    assert (report.read, report.posts, report.quarantined) == (3, 2, 1) and report.reconciled
    assert pl.read_parquet(tmp_path / "ws" / "posts.parquet")["post_id"].sort().to_list() == ["in-1", "in-3"]
    reject = json.loads((tmp_path / "ws" / "rejected.jsonl").read_text("utf-8"))
    assert reject["source_record"] == 2 and reject["reason"].startswith("value cannot be stored")


def test_hidden_folders_are_not_read_but_named_and_media_grouped(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(DATA / "x", folder, ignore=shutil.ignore_patterns("truncated*"))
    (folder / ".git" / "objects").mkdir(parents=True)
    (folder / ".git" / "objects" / "ab12").write_text('{"not": "an export"}')
    (folder / "photos").mkdir()
    for i in range(5):
        (folder / "photos" / f"p{i}.jpg").write_bytes(b"\xff\xd8\xff")
    code, out, _ = _load(str(folder), "-w", str(tmp_path / "ws"))
    assert code == 0, out
    assert f"ignored  {folder / '.git'}: hidden folder, not read" in out
    assert f"ignored  5 files in {folder / 'photos'}: media file" in out
