"""Loaders on synthetic fixtures for formats with no public sample (tests/data/<platform>/)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cib.ingest import detect, ingest_file
from cib.plugins import get_loaders
from cib.store import ParquetStore

DATA = Path(__file__).resolve().parents[1] / "data"


def _load(path: Path, tmp_path: Path) -> tuple[pl.DataFrame, list[dict], object]:
    loader, fmt = detect(path, get_loaders())
    store = ParquetStore(tmp_path)
    report = ingest_file(path, loader, fmt, store)
    store.finalize()
    rejects = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text("utf-8").splitlines()]
    return store.posts().collect().sort("uid"), rejects, report


def test_io_archive_csv(tmp_path: Path) -> None:
    posts, rejects, report = _load(DATA / "x" / "io_archive.csv", tmp_path)
    assert report.format == "io-archive-csv" and report.reconciled
    first = posts.row(0, named=True)
    assert first["uid"] == "x:1234567890123456789"
    assert first["urls"] == ["https://news.example/a"]  # utm_source dropped
    assert first["hashtags"] == ["зерно"]
    assert first["created_at"].isoformat() == "2022-03-01T10:15:00+00:00"
    rt = posts.row(1, named=True)
    assert rt["repost_of"] == "x:1234567890123456789" and rt["repost_account_uid"] == "x:a1b2c3d4e5f6"
    assert [(r["source_record"], r["reason"]) for r in rejects] == [(4, "missing required field 'tweet_time'")]


def test_telegram_channel_export(tmp_path: Path) -> None:
    posts, rejects, report = _load(DATA / "telegram" / "result.json", tmp_path)
    assert report.format == "tdesktop-json" and (report.read, report.posts, report.quarantined) == (4, 3, 1)
    fwd = posts.filter(pl.col("uid") == "telegram:1234567890/2").row(0, named=True)
    assert fwd["account_uid"] == "telegram:channel1234567890"
    assert fwd["repost_account_uid"] == "telegram:name:Source One"
    assert fwd["urls"] == ["https://news.example/b"] and fwd["hashtags"] == ["правда"]
    photo = posts.filter(pl.col("uid") == "telegram:1234567890/3").row(0, named=True)
    assert photo["text"] == "bell\x07here"  # the \x07 quirk was repaired, not fatal
    media = photo["media"][0]
    assert media["key"].startswith("sha256:") and len(media["pdq"]) == 64 and len(media["phash"]) == 16
    local_only = posts.filter(pl.col("uid") == "telegram:1234567890/4").row(0, named=True)
    assert local_only["media"] == []  # "(File not included...)" is no media
    assert rejects[0]["reason"].startswith("service message")


def test_tiktok_research_pages(tmp_path: Path) -> None:
    posts, rejects, report = _load(DATA / "tiktok" / "research_pages.jsonl", tmp_path)
    assert report.format == "research-api-json" and report.reconciled
    assert posts["uid"].to_list() == ["tiktok:7288995634328177926", "tiktok:7288995634328177927"]
    assert posts["sound_id"].to_list() == ["7288995737794005765"] * 2
    assert posts["effect_ids"].to_list() == [["112233"], []]  # "0" means no effect
    assert posts["text_norm"].to_list() == ["they are lying #a #b #c", "they are lyng #a #b #c"]
    reasons = sorted(r["reason"].split(":")[0] for r in rejects)
    assert reasons == ["API error rate_limit_exceeded", "invalid JSON", "video has no 'username' (request fields=...,username); cannot attribute it"]


def test_crowdtangle_csv_time_zones(tmp_path: Path) -> None:
    posts, rejects, report = _load(DATA / "facebook" / "crowdtangle.csv", tmp_path)
    assert report.format == "crowdtangle-csv"
    times = dict(zip(posts["account_id"].to_list(), posts["created_at"].dt.strftime("%H:%M").to_list(), strict=True))
    assert times == {"100064123456789": "10:00", "100064123456790": "10:01"}  # EET -2h, EST +5h
    assert posts.filter(pl.col("account_id") == "100064123456789")["urls"].to_list() == [["https://news.example/c"]]
    assert rejects[0]["reason"] == "unknown time-zone abbreviation 'XYZT'; pass --tz ZONE"


def test_meta_content_library_csv(tmp_path: Path) -> None:
    posts, _, report = _load(DATA / "facebook" / "meta_content_library.csv", tmp_path)
    assert report.format == "meta-content-library-csv" and report.posts == 2
    assert posts["repost_of"].to_list() == [None, "facebook:1029384756102938"]


@pytest.mark.parametrize("text", ["", "just some text\n", "a,b,c\n1,2,3\n"])
def test_unknown_content_is_refused_with_the_file_name(tmp_path: Path, text: str) -> None:
    from cib.errors import LoaderError

    path = tmp_path / "export.json"
    path.write_text(text)
    with pytest.raises(LoaderError, match="export.json: not a recognised export"):
        detect(path, get_loaders())
