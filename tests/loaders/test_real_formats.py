"""Regression tests for issue 8: real export shapes that were lost, each on a real file or a faithful
reduction of one, and every loaded timestamp checked against its source."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cib.errors import LoaderError
from cib.ingest import detect, ingest_file
from cib.plugins import get_loaders
from cib.store import ParquetStore
from loaders._common import LoadOptions

from .test_samples import EXPECTED_FORMATS, OPTIONS


def _load(path: Path, tmp_path: Path, options: LoadOptions | None = None) -> tuple[pl.DataFrame, Any, str]:
    loaders = get_loaders()
    for loader in loaders:
        loader.options = options or LoadOptions()
    loader, fmt = detect(path, loaders)
    store = ParquetStore(tmp_path / "ws")
    report = ingest_file(path, loader, fmt, store)
    store.finalize()
    return store.posts().collect(), report, fmt


# -- timestamps against the source ---------------------------------------------------------------------------

def _source_time(value: Any) -> datetime | None:
    """Independent reading of a source timestamp (stdlib only)."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _walk(value: Any, out: dict[str, set[datetime]]) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(item, out)
    elif isinstance(value, dict):
        ident = value.get("id_str") or value.get("rest_id") or value.get("id") or value.get("platformId")
        legacy = value.get("legacy") if isinstance(value.get("legacy"), dict) else {}
        for key in ("created_at", "createTime", "date_unixtime", "create_time", "date"):
            stamp = value.get(key) or legacy.get(key)
            if ident is not None and stamp and key != "date" or (key == "date" and stamp and "date_unixtime" not in value):
                when = _source_time(stamp)
                if when and ident is not None:
                    out.setdefault(str(ident).rsplit("_", 1)[-1], set()).add(when)
                break
        for item in value.values():
            _walk(item, out)


def _source_times(path: Path) -> dict[str, set[datetime]]:
    out: dict[str, set[datetime]] = {}
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                ident = row.get("id") or row.get("content_id")
                stamp = row.get("timestamp_utc") or row.get("creation_time") or row.get("timestamp_share")
                out.setdefault(str(ident), set()).add(_source_time(stamp))  # type: ignore[arg-type]
        return out
    text = path.read_text("utf-8")
    try:
        _walk(json.loads(text), out)
    except json.JSONDecodeError:
        for line in text.split("\n"):
            if line.strip():
                _walk(json.loads(line), out)
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_every_loaded_timestamp_matches_its_source(samples: Path, tmp_path: Path, name: str) -> None:
    posts, _, _ = _load(samples / name, tmp_path, OPTIONS.get(name))
    source = _source_times(samples / name)
    checked = 0
    for post_id, created in posts.select("post_id", "created_at").iter_rows():
        key = post_id.rsplit("/", 1)[-1]  # Telegram post ids are <chat>/<message>
        assert key in source, f"{name}: post {post_id} not found in the source"
        assert created in source[key], f"{name}: post {post_id} loaded at {created}, source says {source[key]}"
        checked += 1
    assert checked == posts.height


# -- 1. twarc2 pages: one JSON line of 300-800 KB per page; U+2028/U+0085 inside captions ---------------------

def test_twarc2_pages_with_long_lines_load_every_tweet(samples: Path, tmp_path: Path) -> None:
    posts, report, fmt = _load(samples / "x" / "twarc2_search_pages_twarc2sql.jsonl", tmp_path)
    assert fmt == "api-v2-jsonl"
    assert report.read == 1333 and posts["source_record"].max() == 5  # five page lines
    pages = (samples / "x" / "twarc2_search_pages_twarc2sql.jsonl").read_text("utf-8").split("\n")
    data_ids = {t["id"] for page in pages if page.strip() for t in json.loads(page)["data"]}
    assert len(data_ids) == 500 and data_ids <= set(posts["post_id"].to_list())


def test_line_separators_inside_a_caption_are_not_line_breaks(samples: Path, tmp_path: Path) -> None:
    page = json.loads((samples / "x" / "v2_response_two_tweets.jsonl").read_text("utf-8").split("\n")[0])
    page["data"][0]["text"] = "first\u2028second\u0085third\rfourth " + "x" * 70_000
    path = tmp_path / "page.jsonl"
    path.write_text(json.dumps(page, ensure_ascii=False) + "\n", "utf-8")
    posts, report, fmt = _load(path, tmp_path)
    assert fmt == "api-v2-jsonl" and report.quarantined == 0
    assert any("first\u2028second\u0085third\rfourth" in (t or "") for t in posts["text"].to_list())


# -- 3. academictwitteR storage --------------------------------------------------------------------------------

def test_academictwitter_pair_joins_authors(samples: Path, tmp_path: Path) -> None:
    posts, report, fmt = _load(samples / "x" / "academictwitteR_extdata_data_1402939532849319939.json", tmp_path)
    assert fmt == "academictwitter-json" and report.posts == 25
    assert posts["handle"].null_count() == 0  # every author found in users_<id>.json
    retweets = posts.filter(pl.col("repost_of").is_not_null())
    assert retweets.height > 0 and retweets["repost_account_uid"].null_count() == 0


def test_academictwitter_data_without_users_file_still_loads_posts(samples: Path, tmp_path: Path) -> None:
    alone = tmp_path / "in" / "data_1402939532849319939.json"
    alone.parent.mkdir()
    shutil.copy(samples / "x" / "academictwitteR_extdata_data_1402939532849319939.json", alone)
    posts, report, _ = _load(alone, tmp_path)
    assert report.posts == 25 and report.quarantined == 0
    assert posts["handle"].null_count() == 25


# -- 4. TikTok user info saved bare, one object per line ---------------------------------------------------------

def test_tiktok_bare_user_objects_load_profiles(samples: Path, tmp_path: Path) -> None:
    user = json.loads((samples / "tiktok" / "research_api_user_info_response.json").read_text("utf-8"))["data"]
    path = tmp_path / "users.jsonl"
    path.write_text("\n".join(json.dumps({**user, "username": name}) for name in ("alice", "bob")) + "\n")
    _, report, fmt = _load(path, tmp_path)
    assert fmt == "research-api-user-jsonl" and report.accounts == 2
    accounts = pl.read_parquet(tmp_path / "ws" / "accounts.parquet")
    row = accounts.filter(pl.col("handle") == "alice").row(0, named=True)
    assert row["followers"] == user["follower_count"] and row["bio"] == user["bio_description"]
    assert row["verified"] == user["is_verified"]


# -- 5. CrowdTangle CSV zones ------------------------------------------------------------------------------------

def _ct_csv(path: Path, stamps: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Page Name", "User Name", "Facebook Id", "Post Created", "URL", "Message", "Link", "Type"])
        for i, stamp in enumerate(stamps):
            writer.writerow(["Page", "page", "100064123456789", stamp,
                             f"https://www.facebook.com/page/posts/10{i:06d}", "hello", "", "Status"])
    return path


@pytest.mark.parametrize(("stamp", "utc"), [
    ("2021-01-12 17:03:40 BRT", "2021-01-12T20:03:40"),
    ("2021-01-12 17:03:40 NZDT", "2021-01-12T04:03:40"),
    ("2021-01-12 17:03:40 SGT", "2021-01-12T09:03:40"),
    ("2021-07-12 17:03:40 AEST", "2021-07-12T07:03:40"),
    ("2021-01-12 17:03:40 EET", "2021-01-12T15:03:40"),
    ("2021-01-12 17:03:40 UTC", "2021-01-12T17:03:40"),
])
def test_crowdtangle_abbreviations_from_the_tz_database(tmp_path: Path, stamp: str, utc: str) -> None:
    posts, report, _ = _load(_ct_csv(tmp_path / "ct.csv", [stamp]), tmp_path)
    assert report.quarantined == 0
    assert posts["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S").to_list() == [utc]


@pytest.mark.parametrize("abbr", ["CST", "IST", "BST", "PST"])
def test_ambiguous_abbreviation_fails_the_file_naming_tz(tmp_path: Path, abbr: str) -> None:
    _, report, _ = _load(_ct_csv(tmp_path / "ct.csv", [f"2021-01-12 17:03:40 {abbr}"] * 3), tmp_path)
    assert report.error and "ambiguous" in report.error and "--tz" in report.error
    assert report.posts == 0


def test_tz_option_overrides_the_abbreviation(tmp_path: Path) -> None:
    path = _ct_csv(tmp_path / "ct.csv", ["2021-01-12 17:03:40 CST"])
    posts, report, _ = _load(path, tmp_path, LoadOptions(tz="Asia/Shanghai"))
    assert report.error is None
    assert posts["created_at"].dt.strftime("%H:%M").to_list() == ["09:03"]


# -- 6. Meta Content Library ---------------------------------------------------------------------------------------

def test_mcl_multimedia_json_and_derived_owners(samples: Path, tmp_path: Path) -> None:
    path = samples / "facebook" / "mcl_pope_francis_download_1741692148.csv"
    posts, report, _ = _load(path, tmp_path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with_media = {r["id"] for r in rows if json.loads(r["multimedia"] or "[]")}
    loaded = set(posts.filter(pl.col("media").list.len() > 0)["post_id"].to_list())
    assert len(with_media) > 3400 and loaded == with_media
    keys = posts.explode("media")["media"].struct.field("key").drop_nulls()
    assert keys.str.starts_with("facebook:").all()
    derived = posts.filter(pl.col("account_id").str.starts_with("name:"))
    nameless = [r for r in rows if not r["post_owner.id"] and r["post_owner.name"]]
    assert report.quarantined == 0 and derived.height == len(nameless) == 29
    first = nameless[0]
    assert derived.filter(pl.col("post_id") == first["id"])["account_id"].item() == f"name:{first['post_owner.name']}"


# -- 7. formats that name no platform ------------------------------------------------------------------------------

def test_coortweet_csv_needs_a_platform(samples: Path) -> None:
    with pytest.raises(LoaderError, match="names no platform; pass --platform"):
        detect(samples / "facebook" / "coortweet_pope_sick_from_mcl.csv", get_loaders())


def test_coortweet_csv_with_platform_is_facebook(samples: Path, tmp_path: Path) -> None:
    posts, report, _ = _load(samples / "facebook" / "coortweet_pope_sick_from_mcl.csv", tmp_path,
                             LoadOptions(platform="facebook"))
    assert report.platform == "facebook" and set(posts["platform"].to_list()) == {"facebook"}
    accounts = pl.read_parquet(tmp_path / "ws" / "accounts.parquet")
    assert accounts["profile_url"].str.starts_with("https://www.facebook.com/").all()


def test_coortweet_platform_inferred_from_id_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text("account_id,content_id,object_id,timestamp_share\n"
                    "tw_1,tw_10,https://a.example/x,1741681262\ntw_2,tw_11,https://a.example/x,1741681263\n")
    posts, _, _ = _load(path, tmp_path)
    assert posts["account_uid"].to_list() == ["x:1", "x:2"] and posts["urls"].to_list()[0] == ["https://a.example/x"]


# -- 8. Telegram -------------------------------------------------------------------------------------------------

def _telegram(path: Path, messages: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"name": "c", "type": "personal_chat", "id": 42, "messages": messages}), "utf-8")
    return path


def test_telegram_bare_integer_and_zero_from_ids(tmp_path: Path) -> None:
    msgs = [{"id": 1, "type": "message", "date": "2019-07-12T19:55:32", "date_unixtime": "1562950532",
             "from": "a", "from_id": 19, "text": "x"},
            {"id": 2, "type": "message", "date": "2019-07-12T19:55:33", "date_unixtime": "1562950533",
             "from": "b", "from_id": "user19", "text": "y"},
            {"id": 3, "type": "message", "date": "2019-07-12T19:55:34", "date_unixtime": "1562950534",
             "from": "z", "from_id": 0, "text": "z"}]
    posts, report, _ = _load(_telegram(tmp_path / "result.json", msgs), tmp_path)
    assert report.quarantined == 0
    assert posts.sort("post_id")["account_uid"].to_list() == ["telegram:user19", "telegram:user19", "telegram:user0"]


def test_telegram_local_date_needs_tz_or_is_recorded(tmp_path: Path) -> None:
    msgs = [{"id": 1, "type": "message", "date": "2019-07-12T19:55:32", "from": "a", "from_id": "user1",
             "text": "x"}]
    path = _telegram(tmp_path / "result.json", msgs)
    posts, report, _ = _load(path, tmp_path)
    assert posts["created_at"].dt.strftime("%H:%M").to_list() == ["19:55"] and sum(report.notes.values()) == 1
    assert "local time" in json.dumps(ParquetStore(tmp_path / "ws").inputs())
    posts, report, _ = _load(path, tmp_path / "b", LoadOptions(tz="Europe/Moscow"))
    assert posts["created_at"].dt.strftime("%H:%M").to_list() == ["16:55"] and not report.notes


# -- streaming paths (documents over the whole-document limit) and line limits ---------------------------------

def test_streamed_documents_load_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(__file__).resolve().parents[1] / "data"
    tweets = [{"id_str": str(10 + i), "created_at": "Thu Jul 28 16:10:07 +0000 2022", "full_text": f"t {i}",
               "user": {"id_str": "9", "screen_name": "a"}} for i in range(3)]
    array = tmp_path / "tweets.json"
    array.write_text(json.dumps(tweets, indent=1))
    whole = {name: _load(path, tmp_path / f"a-{name}")[0].sort("uid")
             for name, path in (("tg", data / "telegram" / "result.json"), ("arr", array))}
    import loaders._read
    import loaders.telegram

    monkeypatch.setattr(loaders._read, "WHOLE_DOCUMENT_BYTES", 16)
    monkeypatch.setattr(loaders.telegram, "WHOLE_DOCUMENT_BYTES", 16)
    for name, path in (("tg", data / "telegram" / "result.json"), ("arr", array)):
        streamed, report, _ = _load(path, tmp_path / f"b-{name}")
        assert report.error is None and streamed.height > 0
        assert streamed.sort("uid").drop("source_file").equals(whole[name].drop("source_file"))


def test_over_long_json_line_is_quarantined_and_reading_goes_on(samples: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    lines = (samples / "x" / "v2_response_two_tweets.jsonl").read_text("utf-8").strip().split("\n")
    path = tmp_path / "pages.jsonl"
    path.write_text(lines[0] + "\n" + lines[0].replace("}", "} ", 1) + " " * 5000 + "\n" + lines[0] + "\n")
    import loaders._read

    monkeypatch.setattr(loaders._read, "MAX_LINE_BYTES", 4096 + len(lines[0]))
    _, report, _ = _load(path, tmp_path)
    assert report.reasons == {"JSON line longer than " + f"{4096 + len(lines[0]):,} bytes": 1}


def test_progress_bar_counts_files_and_records() -> None:
    from types import SimpleNamespace

    from cib.progress import record_progress

    with record_progress(False, 2) as done:
        done(SimpleNamespace(read=3))
        done(SimpleNamespace(read=4))


def test_mcl_bad_cells_quarantine_their_row(tmp_path: Path) -> None:
    path = tmp_path / "mcl.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "creation_time", "text", "post_owner.id", "post_owner.name", "multimedia"])
        writer.writerow(["1", "2025-03-11T08:21:02+00:00", "ok", "5", "P",
                         '[{"id": "9", "type": "video", "url": "https://v.example/9"}, {"id": "8", "type": "x"}]'])
        writer.writerow(["2", "2025-03-11T08:21:02+00:00", "bad json", "5", "P", "[{"])
        writer.writerow(["3", "2025-03-11T08:21:02+00:00", "not a list", "5", "P", '{"id": 1}'])
        writer.writerow(["4", "2025-03-11T08:21:02+00:00", "no owner", "", "", ""])
    posts, report, _ = _load(path, tmp_path)
    assert (report.posts, report.quarantined) == (1, 3)
    assert sorted(report.reasons) == ["missing required field 'post_owner.id' (and no post_owner.name)",
                                      "multimedia column is not JSON", "multimedia column is not a JSON list"]
    kinds = posts.explode("media")["media"].struct.field("kind").to_list()
    assert kinds == ["video", "other"]


def test_crowdtangle_api_response_pages(tmp_path: Path) -> None:
    post = {"platformId": "1_2", "platform": "Facebook", "date": "2020-01-01 01:01:01", "postUrl": "https://f/1/2",
            "account": {"id": 1, "name": "n", "platformId": "1"}}
    path = tmp_path / "ct.jsonl"
    path.write_text(json.dumps({"status": 200, "result": {"posts": [post, {**post, "platformId": "1_3"}]}}) + "\n"
                    + json.dumps({"status": 200, "result": {"posts": None}, "account": {}, "platformId": None}) + "\n"
                    + json.dumps({"status": 200, "result": {}}) + "\n")
    posts, report, fmt = _load(path, tmp_path)
    assert fmt == "crowdtangle-api-json" and report.posts == 2 and report.quarantined >= 1


@pytest.mark.parametrize(("url", "canonical"), [
    ("example.com/a?utm_source=x", "https://example.com/a"),
    ("http://[::1", None),
    ("https://example.com:8443/x/", "https://example.com:8443/x"),
    ("ftp://example.com/x", None),
])
def test_canonical_url_edges(url: str, canonical: str | None) -> None:
    from loaders._common import canonical_url

    assert canonical_url(url) == canonical


def test_value_helpers_refuse_what_they_cannot_keep_exactly() -> None:
    from cib.errors import RecordError
    from loaders._common import account_record, opt_int, post_record

    assert opt_int("n/a") is None and opt_int("1,234") == 1234
    raw = {"_cib_record": 1, "_cib_format": "f", "_cib_file": "x"}
    with pytest.raises(RecordError, match="missing post id"):
        post_record(raw, platform="x", post_id=None, account_id="1", created_at=1633823999)
    with pytest.raises(RecordError, match="account record has no id"):
        account_record(raw, platform="x", account_id="")
