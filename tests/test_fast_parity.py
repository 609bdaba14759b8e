"""The vectorised fast path (`loaders._fast`, `loaders.tiktok_fast`) must not drift from the per-record path.

Every file is loaded twice — fast path allowed (and forced for small files) and fast path off (``CIB_NO_FAST``)
— and the committed tables (posts, accounts, media, links), the quarantine (rows and reasons) and the file
report (counts, reasons) must be identical. Run on every file in ``../shared/samples``, on a generated
scenario, and on a hostile corpus of Zeeschuimer lines (wrong JSON types, surrogates, control characters,
blank lines, duplicate keys, deep nesting, out-of-range numbers and timestamps …): where the fast path cannot
guarantee the result it must decline the file, and the per-record path then loads it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import loaders.facebook_fast as facebook_fast
import loaders.telegram_fast as telegram_fast
import loaders.tiktok_fast as tiktok_fast
import loaders.x_fast as x_fast
from cib.ingest import detect, ingest_file
from cib.plugins import get_loaders
from cib.store.parquet import ParquetStore
from loaders._common import LoadOptions
from loaders._fast import _text_derived, clean_json_lines, text_columns


def _load(path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch, *, fast: bool, batch_size: int) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        if fast:
            patch.delenv("CIB_NO_FAST", raising=False)
            patch.setattr(tiktok_fast, "MIN_BYTES", 0)
            patch.setattr(x_fast, "MIN_BYTES", 0)
            patch.setattr(facebook_fast, "MIN_BYTES", 0)
            patch.setattr(telegram_fast, "MIN_BYTES", 0)
        else:
            patch.setenv("CIB_NO_FAST", "1")
        loaders = get_loaders()
        for loader in loaders:
            loader.options = LoadOptions()
        try:
            loader, fmt = detect(path, loaders)
        except Exception as exc:  # noqa: BLE001 - both paths must refuse alike
            return {"refused": str(exc)}
        store = ParquetStore(ws)
        report = ingest_file(path, loader, fmt, store, batch_size=batch_size)
        store.finalize()
        return {"report": report.as_dict(), "posts": store.posts().collect(), "accounts": store.accounts().collect(),
                "media": store.media().collect(), "links": store.links().collect(), "rejects": store.rejects()}


def _same(path: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch, *, batch_size: int = 50_000) -> bool:
    """Assert both paths load `path` identically; True when the fast path took the file."""
    used: list[bool] = []

    def spy(original: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> pl.DataFrame | None:
            result = original(*args, **kwargs)
            used.append(result is not None)
            return result
        return run

    with monkeypatch.context() as patch:
        patch.setattr(tiktok_fast, "zeeschuimer_posts", spy(tiktok_fast.zeeschuimer_posts))
        patch.setattr(x_fast, "v2_posts", spy(x_fast.v2_posts))
        patch.setattr(facebook_fast, "crowdtangle_posts", spy(facebook_fast.crowdtangle_posts))
        patch.setattr(telegram_fast, "export_posts", spy(telegram_fast.export_posts))
        fast = _load(path, tmp / "fast", monkeypatch, fast=True, batch_size=batch_size)
        slow = _load(path, tmp / "slow", monkeypatch, fast=False, batch_size=batch_size)
    assert fast.keys() == slow.keys()
    for key, value in fast.items():
        if isinstance(value, pl.DataFrame):
            assert_frame_equal(value, slow[key], check_exact=True)
        else:
            assert value == slow[key], (path.name, key)
    return any(used)


def test_every_sample_file_loads_identically_on_both_paths(samples: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(p for p in samples.rglob("*") if p.is_file() and p.name != "SOURCES.txt")
    assert len(files) >= 20
    used = {path.name: _same(path, tmp_path / f"{n}", monkeypatch) for n, path in enumerate(files)}
    # the Zeeschuimer TikTok capture and the plain X API v2 pages take the fast path; the others decline
    assert used["zeeschuimer_tiktok_items.ndjson"] and used["v2_response_two_tweets.jsonl"], used
    assert not used["mcl_pope_francis_download_1741692148.csv"]  # not CrowdTangle CSV


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cib.scenario import generate

    root = tmp_path_factory.mktemp("fast-scenario")
    generate(root, seed=3, accounts=60, days=2, posts_per_account=4)
    return root


def test_generated_scenario_loads_identically_and_takes_the_fast_path(scenario: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("tiktok/zeeschuimer.ndjson", "x/tweets.jsonl", "facebook/crowdtangle.csv", "telegram/result.json"):
        path = scenario / name
        assert _same(path, tmp_path / name / "a", monkeypatch)
        # small batches: an author's account row comes from its last post per batch, on both paths
        assert _same(path, tmp_path / name / "b", monkeypatch, batch_size=7)


def _item(n: int, **data: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"7{n:06d}", "desc": f"caption {n} #Tag{n % 3} @Friend https://www.Example.com/a?utm_source=x&b={n}",
        "createTime": 1_700_000_000 + n,
        "author": {"id": f"9{n % 4}", "uniqueId": f"user{n % 4}", "nickname": f"User {n % 4}",
                   "createTime": 1_500_000_000},
        "authorStats": {"followerCount": n * 10}, "music": {"id": f"55{n % 2}", "title": "x"},
        "textExtra": [{"hashtagName": f"Tag{n % 3}", "type": 1}], "stats": {"playCount": 1},
    }
    item.update(data)
    return {"source_platform": "tiktok.com", "item_id": item.get("id"), "data": item}


def _lines(*records: Any) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n"
                    for r in records)


BASE = [_item(n) for n in range(6)]
deep = "[" * 1500 + "]" * 1500
HOSTILE: dict[str, bytes] = {
    "id as integer": _lines(*BASE, _item(9, id=123)),
    "id as float": _lines(*BASE, _item(9, id=1.5)),
    "id missing": _lines(*BASE, _item(9, id=None)),
    "caption as number": _lines(*BASE, _item(9, desc=5)),
    "caption as object": _lines(*BASE, _item(9, desc={"a": 1})),
    "author as string": _lines(*BASE, _item(9, author="bob")),
    "author id empty": _lines(*BASE, _item(9, author={"id": "", "uniqueId": "ann"})),
    "author id zero": _lines(*BASE, _item(9, author={"id": "0", "uniqueId": "ann"})),
    "author id blank": _lines(*BASE, _item(9, author={"id": " ", "uniqueId": "ann"})),
    "no author": _lines(*BASE, _item(9, author=None)),
    "sound zero": _lines(*BASE, _item(9, music={"id": "0"})),
    "sound empty": _lines(*BASE, _item(9, music={"id": ""})),
    "no music": _lines(*BASE, _item(9, music=None)),
    "time as string": _lines(*BASE, _item(9, createTime="1700000000")),
    "time negative": _lines(*BASE, _item(9, createTime=-5)),
    "time in milliseconds": _lines(*BASE, _item(9, createTime=1_700_000_000_123)),
    "time past 2099": _lines(*BASE, _item(9, createTime=5_000_000_000_000)),
    "time too large for seconds": _lines(*BASE, _item(9, createTime=200_000_000_000)),
    "author created out of range": _lines(*BASE, _item(9, author={"id": "1", "createTime": -1})),
    "followers 1e400": _lines(*BASE) + b'{"data": {"id": "1", "createTime": 1700000000, "author": {"id": "2"},'
                                      b' "authorStats": {"followerCount": 1e400}}}\n',
    "followers beyond 64 bits": _lines(*BASE, _item(9, authorStats={"followerCount": 99999999999999999999})),
    "followers int64 min": _lines(*BASE, _item(9, authorStats={"followerCount": -(2**63)})),
    "followers as text": _lines(*BASE, _item(9, authorStats={"followerCount": "1,234"})),
    "odd tags": _lines(*BASE, _item(9, textExtra=[{"hashtagName": "#"}, {"hashtagName": ""}, None,
                                                  {"hashtagName": "ÄÖ"}, {"userUniqueId": "Bob"}])),
    "tag entries not objects": _lines(*BASE, _item(9, textExtra=[5, "x"])),
    "textExtra as string": _lines(*BASE, _item(9, textExtra="abc")),
    "effects": _lines(*BASE, _item(9, effectStickers=[{"ID": "12"}, {"id": "0"}, {}])),
    "duets": _lines(*BASE, _item(9, duetInfo={"duetFromId": "0"}), _item(10, duetInfo={"duetFromId": "77"})),
    "captions of every kind": _lines(*BASE, *[_item(20 + k, desc=d, textExtra=[]) for k, d in enumerate([
        "Вони БРЕШУТЬ!!! 🔥 #b #a", "RT @bot1: copy #X", "＃fullwidth tag", "", None, "  ", "a@b.c @x_y #_",
        "www.Example.org/x). and HTTP://a.b/c?ref=1", "tab\there\nnewline #t", "e\u0301 NFKC ﬁ", "#a#b ##c @d@e"])]),
    "handle with spaces": _lines(*BASE, _item(9, author={"id": "5", "uniqueId": " bob ", "nickname": "  "})),
    "lone surrogate escape": _lines(*BASE) + b'{"data": {"id": "1", "desc": "a\\ud800", "createTime": 1700000000,'
                                            b' "author": {"id": "2"}}}\n',
    "escaped emoji": _lines(*BASE) + b'{"data": {"id": "1", "desc": "\\ud83d\\ude00", "createTime": 1700000000,'
                                     b' "author": {"id": "2"}}}\n',
    "control escape": _lines(*BASE, _item(9, desc="a\x1cb")),
    "raw control byte": _lines(*BASE)[:-1] + b'\n{"data": {"id": "1", "desc": "a\x01", "createTime": 1}}\n',
    "blank line": _lines(*BASE[:3]) + b"\n" + _lines(*BASE[3:]),
    "crlf": _lines(*BASE).replace(b"\n", b"\r\n"),
    "bom": b"\xef\xbb\xbf" + _lines(*BASE),
    "no final newline": _lines(*BASE)[:-1],
    "array line": _lines(*BASE, [BASE[0]]),
    "invalid json line": _lines(*BASE) + b'{"data": {"id": "1"\n',
    "duplicate key": _lines(*BASE) + b'{"data": {"id": "1", "id": "2", "createTime": 1700000000,'
                                     b' "author": {"id": "2"}}}\n',
    "deep nesting in an ignored field": _lines(*BASE)[:-1] + b'\n{"x": ' + deep.encode() + b', "data": {"id": "1",'
                                        b' "createTime": 1700000000, "author": {"id": "2"}}}\n',
    "invalid utf-8": _lines(*BASE) + b'{"data": {"id": "1", "desc": "\xff", "createTime": 1700000000}}\n',
    "data null": _lines(*BASE, {"source_platform": "tiktok.com", "data": None}),
    "no data": _lines(*BASE, {"source_platform": "tiktok.com"}),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_zeeschuimer_lines_load_identically(case: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "capture.ndjson"
    path.write_bytes(HOSTILE[case])
    _same(path, tmp_path, monkeypatch)


def test_clean_files_take_the_fast_path_and_risky_ones_do_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "capture.ndjson"
    for case, fast in [("captions of every kind", True), ("odd tags", True), ("time in milliseconds", True),
                       ("id as float", False), ("blank line", False), ("lone surrogate escape", False),
                       ("duplicate key", False), ("effects", False), ("time past 2099", False)]:
        path.write_bytes(HOSTILE[case])
        assert _same(path, tmp_path / case, monkeypatch) is fast, case
    assert clean_json_lines(b"") is None


def test_plain_text_expressions_match_the_python_functions() -> None:
    """`normalize_text`, URL, hashtag and mention extraction re-done as polars expressions for plain ASCII
    captions: identical to the per-record functions on 60,000 random strings built from the characters those
    regexes care about."""
    rng = random.Random(8)
    pieces = [*"aAbZz019_ #@:/.-wWhHtTpPsSrR\t\n\r()!?'\",;&=%+~", "http://", "https://", "www.", "RT @", "rt ",
              "HTTPS://WWW.Ex.com/a?utm_source=1&b=2", "#Tag", "@User", "é", "\x1c"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 25))) for _ in range(60_000)] + [None, ""]
    got = text_columns(pl.Series(texts, dtype=pl.String))
    assert got.height == len(texts)
    for row in got.iter_rows(named=True):
        assert (row["text_norm"], row["urls"], row["text_hashtags"], row["text_mentions"]) == \
            _text_derived(row["text"]), row["text"]


def _v2(n: int, **tweet: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": f"5{n:05d}", "author_id": f"1{n % 3}", "created_at": "2022-03-01T10:00:00.000Z",
                            "text": f"tweet {n} #Tag @Bob", "lang": "en",
                            "entities": {"hashtags": [{"tag": "Tag"}], "mentions": [{"username": "Bob"}],
                                         "urls": [{"url": "https://t.co/x", "expanded_url": f"https://a.example/{n}"}]}}
    base.update(tweet)
    return base


def _page(*tweets: dict[str, Any], users: Any = None, included: Any = None, **extra: Any) -> dict[str, Any]:
    users = [{"id": f"1{k}", "username": f"user{k}", "name": f"User {k}", "created_at": "2015-05-05T05:05:05.000Z",
              "public_metrics": {"followers_count": k}} for k in range(3)] if users is None else users
    return {"data": list(tweets), "includes": {"users": users, "tweets": included or []}, **extra}


PAGES = [_page(*[_v2(10 * p + k) for k in range(5)],
               included=[_v2(900 + p, author_id="77")]) for p in range(3)]
X_HOSTILE: dict[str, bytes] = {
    "plain": _lines(*PAGES),
    "retweets, replies, quotes": _lines(*PAGES, _page(
        _v2(1, referenced_tweets=[{"type": "retweeted", "id": "900"}, {"type": "other", "id": "1"}]),
        _v2(2, referenced_tweets=[{"type": "replied_to", "id": "3"}, {"type": "quoted", "id": "4"}]),
        included=[_v2(900, author_id="77")])),
    "two references of one type": _lines(*PAGES, _page(
        _v2(3, referenced_tweets=[{"type": "retweeted", "id": "1"}, {"type": "retweeted", "id": "2"}]))),
    "unknown author and odd text": _lines(*PAGES, _page(_v2(1, author_id="99", text="Вони #Б"),
                                                        _v2(2, note_tweet={"text": "long"}, lang=""))),
    "timestamps": _lines(*PAGES, _page(_v2(1, created_at="2022-03-01T10:00:00Z"),
                                       _v2(2, created_at="2022-02-30T10:00:00.000Z"))),
    "timestamp before 1970": _lines(*PAGES, _page(_v2(1, created_at="1960-03-01T10:00:00.000Z"))),
    "user created odd": _lines(*PAGES, _page(_v2(1), users=[{"id": "11", "created_at": "0001-01-01T00:00:00Z"}])),
    "errors": _lines(*PAGES, _page(_v2(1), errors=[{"title": "Not Found Error"}])),
    "media": _lines(*PAGES, _page(_v2(1, attachments={"media_keys": ["3_1"]}))),
    "duplicate users": _lines(*PAGES, _page(_v2(1), users=[{"id": "11"}, {"id": "11", "username": "b"}])),
    "repeated tweet in a page": _lines(*PAGES, _page(_v2(1), _v2(1, text="again"), included=[_v2(1)])),
    "null hashtag entry": _lines(*PAGES, _page(_v2(1, entities={"hashtags": [None]}))),
    "id as integer": _lines(*PAGES) + b'{"data": [{"id": 5, "author_id": "1", "created_at": "2022-01-01T00:00:00Z"}]}\n',
    "missing author": _lines(*PAGES, _page(_v2(1, author_id=None))),
    "null tweet": _lines(*PAGES, {"data": [None], "includes": {}}),
}


@pytest.mark.parametrize("case", sorted(X_HOSTILE))
def test_x_v2_pages_load_identically(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pages.jsonl"
    path.write_bytes(X_HOSTILE[case])
    used = _same(path, tmp_path, monkeypatch)
    assert used == (case in ("plain", "retweets, replies, quotes", "unknown author and odd text",
                             "user created odd", "repeated tweet in a page")), case


CT_HEADER = ("Page Name,User Name,Facebook Id,Page Created,Likes at Posting,Followers at Posting,Post Created,"
             "Type,URL,Message,Link,Final Link")


def _ct(n: int, **cells: str) -> str:
    row = {"Page Name": f"Page {n % 3}", "User Name": f"page{n % 3}", "Facebook Id": f"10{n % 3}",
           "Page Created": "2019-10-03 12:43:53", "Likes at Posting": "12", "Followers at Posting": str(n),
           "Post Created": f"2021-03-2{n % 9} 0{n % 10}:30:00 CET", "Type": "Status",
           "URL": f"https://www.facebook.com/10{n % 3}/posts/{1000000 + n}", "Message": f"post {n} #A @b",
           "Link": "", "Final Link": ""}
    row.update(cells)
    return ",".join(row[c] for c in CT_HEADER.split(","))


CT_ROWS = [_ct(n) for n in range(12)]
CT_HOSTILE: dict[str, str] = {
    "plain": "\n".join([CT_HEADER, *CT_ROWS]) + "\n",
    "crlf and zones": "\r\n".join([CT_HEADER, *CT_ROWS, _ct(20, **{"Post Created": "2021-03-28 02:30:00 CEST"}),
                                    _ct(21, **{"Post Created": "2021-01-12 17:03:40 BRT"}),
                                    _ct(22, **{"Post Created": "2021-01-12 17:03:40"})]),
    "ambiguous zone": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, **{"Post Created": "2021-01-12 17:03:40 CST"})]),
    "unknown zone": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, **{"Post Created": "2021-01-12 17:03:40 QQQ"})]),
    "media and links": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, Type="Photo", Link="https://www.x.example/p.jpg"),
                                  _ct(21, Type="Native Video", Link="nota url"), _ct(22, Type="Link",
                                  Link="https://a.example/?utm_source=1", **{"Final Link": "https://b.example/#x"}),
                                  _ct(23, URL="https://www.facebook.com/permalink.php?story_fbid=42&id=1"),
                                  _ct(24, URL="https://www.facebook.com/page/videos/abc/"),
                                  _ct(25, URL="https://123456789.example/x")]),
    "counts": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, **{"Followers at Posting": ""}),
                         _ct(21, **{"Followers at Posting": "1234.0"}), _ct(22, **{"Followers at Posting": "n/a"})]),
    "infinite count": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, **{"Followers at Posting": "inf"})]),
    "quoted cell": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, Message='"a, b"')]),
    "short row": "\n".join([CT_HEADER, *CT_ROWS, "a,b"]),
    "blank line": "\n".join([CT_HEADER, *CT_ROWS[:3], "", *CT_ROWS[3:]]),
    "no account": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, **{"Page Name": "", "User Name": "", "Facebook Id": ""})]),
    "spaces and unicode": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, **{"User Name": " x ", "Message": "Слава #Україні"}),
                                     _ct(21, **{"Page Name": "\u3000", "Message": "", "Facebook Id": " 7 "})]),
    "control character": "\n".join([CT_HEADER, *CT_ROWS, _ct(20, Message="a\x1cb")]),
}


@pytest.mark.parametrize("case", sorted(CT_HOSTILE))
def test_crowdtangle_csv_loads_identically(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(CT_HOSTILE[case], encoding="utf-8", newline="")
    used = _same(path, tmp_path, monkeypatch)
    assert used == (case in ("plain", "crlf and zones", "media and links", "counts", "spaces and unicode")), case


def _msg(n: int, **fields: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"id": n, "type": "message", "date": "2024-03-01T10:00:00", "date_unixtime": str(1709287200 + n),
                           "from": f"Chan {n % 2}", "from_id": f"channel{n % 2}",
                           "text": f"msg {n}", "text_entities": [{"type": "plain", "text": f"msg {n} "},
                                                                 {"type": "hashtag", "text": "#News"},
                                                                 {"type": "link", "text": "https://a.example/?utm_source=1"}]}
    msg.update(fields)
    return msg


def _export(*messages: dict[str, Any], chat: dict[str, Any] | None = None, **top: Any) -> bytes:
    head = chat or {"name": "Chan", "type": "public_channel", "id": 1001}
    doc = {"about": "x", "chats": {"list": [{**head, "messages": list(messages)},
                                            {"name": "Other", "type": "private_group", "id": 5,
                                             "messages": [_msg(100, from_id="user9", **{"from": ""})]}]}, **top}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()


MSGS = [_msg(n) for n in range(1, 6)]
TG_HOSTILE: dict[str, bytes] = {
    "plain": _export(*MSGS),
    "entities of every kind": _export(*MSGS, _msg(9, text_entities=[
        {"type": "mention", "text": "@Bob"}, {"type": "text_link", "text": "here", "href": "https://b.example/x"},
        {"type": "text_link", "text": "there", "href": ""}, {"type": "hashtag", "text": "#"},
        {"type": "plain", "text": "Вони БРЕШУТЬ ＃тег"}]), _msg(10, text_entities=[{"type": "plain", "text": "no links"}])),
    "peers and forwards": _export(*MSGS, _msg(9, from_id=" 42 "), _msg(10, from_id=None),
                                  _msg(11, forwarded_from="Hub", reply_to_message_id=3),
                                  _msg(12, forwarded_from_id="channel7", saved_from="S", reply_to_message_id=0)),
    "milliseconds and odd dates": _export(*MSGS, _msg(9, date_unixtime="1709287200123"),
                                          _msg(10, date_unixtime="1709287200.5")),
    "photos beside the export": _export(*MSGS, _msg(9, photo="photos/missing.jpg"),
                                        _msg(10, photo="(File not included. Change data exporting settings)"),
                                        _msg(11, file="../../etc/passwd", media_type="video_file")),
    "service message": _export(*MSGS, {"id": 9, "type": "service", "action": "pin_message"}),
    "no date_unixtime": _export(*MSGS, _msg(9, date_unixtime=None)),
    "empty entities": _export(*MSGS, _msg(9, text="", text_entities=[])),
    "from_id as integer": _export(*MSGS, _msg(9, from_id=19)),
    "chat with username": _export(*MSGS, chat={"name": "C", "type": "public_channel", "id": 1, "username": "chan_name"}),
    "chat keys after messages": _export(*MSGS).replace(b'"name": "Chan",', b"", 1)[:-1] + b"}",
    "top-level messages and chats": _export(*MSGS, messages=[]),
    "single chat": json.dumps({"name": "Chan", "type": "public_channel", "id": 1001, "messages": MSGS}).encode(),
    "single chat, id last": json.dumps({"name": "Chan", "type": "public_channel", "messages": MSGS, "id": 1001}).encode(),
    "lone surrogate": _export(*MSGS).replace(b"msg 1 ", b"msg \\ud800", 1),
    "deep nesting": _export(*MSGS, _msg(9, extra="DEEP")).replace(b'"DEEP"', b"[" * 1100 + b"]" * 1100),
    "bad timestamp": _export(*MSGS, _msg(9, date_unixtime="soon")),
}


@pytest.mark.parametrize("case", sorted(TG_HOSTILE))
def test_telegram_exports_load_identically(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(TG_HOSTILE[case])
    used = _same(path, tmp_path, monkeypatch)
    assert used == (case in ("plain", "entities of every kind", "peers and forwards", "milliseconds and odd dates",
                             "photos beside the export", "single chat")), case
