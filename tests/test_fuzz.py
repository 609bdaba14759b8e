"""Property tests: malformed input never crashes a loader and never silently drops a record."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cib.ingest import ingest_file
from loaders import FacebookLoader, TelegramLoader, TikTokLoader, XLoader

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
tweet_like = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=20), st.integers(), st.none()),
     "author_id": st.one_of(st.text(max_size=20), st.none()),
     "created_at": st.one_of(st.text(max_size=30), st.integers(), st.none()),
     "text": st.one_of(st.text(max_size=60), st.none()),
     "entities": json_values, "referenced_tweets": json_values, "attachments": json_values},
)


class _Sink:
    def __init__(self) -> None:
        self.posts = self.accounts = self.rejects = 0

    def begin_file(self, key: str) -> None:
        pass

    def write_file(self, key, part, posts, accounts) -> None:  # noqa: ANN001
        self.posts += posts.height

    def write_rejects(self, key, rows) -> None:  # noqa: ANN001
        self.rejects += len(rows)

    def record_input(self, key, info) -> None:  # noqa: ANN001
        pass


def _run(loader, fmt: str, text: str) -> None:  # noqa: ANN001
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input"
        path.write_text(text, encoding="utf-8")
        sink = _Sink()
        report = ingest_file(path, loader, fmt, sink)
        assert report.reconciled
        assert sink.rejects == report.quarantined
        assert sink.posts == report.posts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(tweet_like, json_values), min_size=1, max_size=6),
       st.lists(st.text(max_size=30), max_size=3))
def test_x_v2_pages_never_crash(tweets: list, junk_lines: list[str]) -> None:
    lines = [json.dumps({"data": tweets, "includes": {"users": [{"id": "1", "username": "u"}]}})]
    lines += [j.replace("\n", " ") for j in junk_lines]
    _run(XLoader(), "api-v2-jsonl", "\n".join(lines))


@settings(max_examples=100, deadline=None)
@given(st.lists(json_values, max_size=6))
def test_telegram_messages_never_crash(messages: list) -> None:
    _run(TelegramLoader(), "tdesktop-json", json.dumps({"name": "c", "type": "public_channel", "id": 5,
                                                        "messages": messages}))


@settings(max_examples=100, deadline=None)
@given(st.lists(json_values, max_size=6))
def test_tiktok_items_never_crash(items: list) -> None:
    text = "\n".join(json.dumps({"source_platform": "tiktok.com", "data": item}) for item in items)
    _run(TikTokLoader(), "zeeschuimer-ndjson", text or "{}")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=25), min_size=3,
                         max_size=9), max_size=6))
def test_crowdtangle_rows_never_crash(rows: list[list[str]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Page Name", "Facebook Id", "Post Created", "URL", "Message", "Link", "Type"])
    for row in rows:
        writer.writerow(row)
    _run(FacebookLoader(), "crowdtangle-csv", buf.getvalue())
