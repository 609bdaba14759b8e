"""Golden tests: every real export in ../shared/samples loads, and its normalised rows match the goldens.

Regenerate after an intended change with ``CIB_UPDATE_GOLDEN=1 pytest tests/loaders/test_samples.py`` and
review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from cib.ingest import detect, ingest_file
from cib.plugins import get_loaders
from cib.store import ParquetStore
from loaders._common import LoadOptions

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED_FORMATS = {
    "facebook/coortweet_pope_sick_from_mcl.csv": "coortweet-csv",
    "facebook/mcl_pope_francis_download_1741692148.csv": "meta-content-library-csv",
    "x/academictwitteR_extdata_data_1402939532849319939.json": "academictwitter-json",
    "x/academictwitteR_extdata_users_1402939532849319939.json": "academictwitter-users-json",
    "x/twarc2_search_pages_twarc2sql.jsonl": "api-v2-jsonl",
    "facebook/crowdtangle_api_posts_MOCK_values.json": "crowdtangle-api-json",
    "telegram/tdesktop_result_personal_chat.json": "tdesktop-json",
    "tiktok/research_api_comments_response.json": "research-api-comments-json",
    "tiktok/research_api_user_info_response.json": "research-api-user-json",
    "tiktok/research_api_video_query_response.json": "research-api-json",
    "tiktok/zeeschuimer_tiktok_items.ndjson": "zeeschuimer-ndjson",
    "x/twitwi_normalized_export.csv": "twitwi-csv",
    "x/v11_tweet_show_extended.json": "api-v1.1-json",
    "x/v11_tweet_stream.json": "api-v1.1-json",
    "x/v2_compliance_tweets.jsonl": "compliance-jsonl",
    "x/v2_response_edited.jsonl": "api-v2-jsonl",
    "x/v2_response_media_video.jsonl": "api-v2-jsonl",
    "x/v2_response_quote_reply.jsonl": "api-v2-jsonl",
    "x/v2_response_retweet_twitwi.json": "api-v2-jsonl",
    "x/v2_response_two_tweets.jsonl": "api-v2-jsonl",
    "x/v2_response_video_twitwi.json": "api-v2-jsonl",
    "x/v2_response_withheld_and_errors.jsonl": "api-v2-jsonl",
    "x/v2_twarc2_flattened.jsonl": "twarc2-flat-jsonl",
    "x/zeeschuimer_x_graphql.ndjson": "zeeschuimer-ndjson",
}
# read, posts, accounts, quarantined per sample file (pinned: a change here is a change in what loads).
EXPECTED_COUNTS = {
    "facebook/coortweet_pope_sick_from_mcl.csv": (3546, 3546, 0, 0),
    "facebook/crowdtangle_api_posts_MOCK_values.json": (2, 2, 0, 0),
    "facebook/mcl_pope_francis_download_1741692148.csv": (3575, 3575, 0, 0),
    "telegram/tdesktop_result_personal_chat.json": (8, 6, 0, 2),
    "tiktok/research_api_comments_response.json": (1, 0, 0, 1),
    "tiktok/research_api_user_info_response.json": (1, 0, 0, 1),
    "tiktok/research_api_video_query_response.json": (2, 0, 0, 2),
    "tiktok/zeeschuimer_tiktok_items.ndjson": (3, 3, 0, 0),
    "x/academictwitteR_extdata_data_1402939532849319939.json": (25, 25, 0, 0),
    "x/academictwitteR_extdata_users_1402939532849319939.json": (33, 9, 24, 0),
    "x/twarc2_search_pages_twarc2sql.jsonl": (1333, 1327, 0, 6),
    "x/twitwi_normalized_export.csv": (4, 4, 0, 0),
    "x/v11_tweet_show_extended.json": (2, 2, 0, 0),
    "x/v11_tweet_stream.json": (3, 3, 0, 0),
    "x/v2_compliance_tweets.jsonl": (2, 0, 0, 2),
    "x/v2_response_edited.jsonl": (3, 3, 0, 0),
    "x/v2_response_media_video.jsonl": (2, 2, 0, 0),
    "x/v2_response_quote_reply.jsonl": (4, 4, 0, 0),
    "x/v2_response_retweet_twitwi.json": (11, 11, 0, 0),
    "x/v2_response_two_tweets.jsonl": (2, 2, 0, 0),
    "x/v2_response_video_twitwi.json": (1, 1, 0, 0),
    "x/v2_response_withheld_and_errors.jsonl": (4, 3, 0, 1),
    "x/v2_twarc2_flattened.jsonl": (3, 3, 0, 0),
    "x/zeeschuimer_x_graphql.ndjson": (6, 6, 0, 0),
}
# Why each quarantined record of a real file is not a post (anything else quarantined fails the test).
NOT_POSTS = ("API error", "service message", "Research API comment has no author", "compliance event",
             "user info response carries no username", "video has no 'username'")
BIG = {name for name in EXPECTED_FORMATS if name.startswith(("facebook/coortweet", "facebook/mcl", "x/twarc2",
                                                             "x/academictwitteR"))}
OPTIONS = {"facebook/coortweet_pope_sick_from_mcl.csv": LoadOptions(platform="facebook")}
GOLDEN_COLUMNS = ["uid", "account_uid", "handle", "created_at", "text_norm", "urls", "hashtags", "mentions",
                  "repost_of", "repost_account_uid", "reply_to", "quote_of", "sound_id", "media_keys"]


def _loaders(name: str) -> list[object]:
    loaders = get_loaders()
    for loader in loaders:
        loader.options = OPTIONS.get(name, LoadOptions())
    return loaders


def _ingest(samples: Path, tmp_path: Path, name: str) -> tuple[ParquetStore, object, str]:
    path = samples / name
    loader, fmt = detect(path, _loaders(name))
    store = ParquetStore(tmp_path)
    report = ingest_file(path, loader, fmt, store)
    store.finalize()
    return store, report, fmt


def test_every_sample_file_is_covered(samples: Path) -> None:
    present = {str(p.relative_to(samples)) for p in samples.rglob("*") if p.is_file() and p.name != "SOURCES.txt"}
    assert present == set(EXPECTED_FORMATS) == set(EXPECTED_COUNTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_sample_loads_with_pinned_counts_and_nothing_real_quarantined(samples: Path, tmp_path: Path,
                                                                       name: str) -> None:
    store, report, fmt = _ingest(samples, tmp_path, name)
    assert fmt == EXPECTED_FORMATS[name]
    assert report.error is None and report.reconciled
    assert (report.read, report.posts, report.accounts, report.quarantined) == EXPECTED_COUNTS[name]
    assert all(reason.startswith(NOT_POSTS) for reason in report.reasons), report.reasons
    assert store.posts().collect()["uid"].is_unique().all()


@pytest.mark.parametrize("name", sorted(set(EXPECTED_FORMATS) - BIG))
def test_sample_loads_and_matches_golden(samples: Path, tmp_path: Path, name: str) -> None:
    store, report, fmt = _ingest(samples, tmp_path, name)
    assert report.error is None
    assert report.read > 0 and report.reconciled
    rows = (store.posts().collect()
            .with_columns(created_at=pl.col("created_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          media_keys=pl.col("media").list.eval(pl.element().struct.field("key")))
            .select(GOLDEN_COLUMNS).sort("uid").to_dicts())
    rejects = sorted(r["reason"] for r in (json.loads(line) for line in
                                           (tmp_path / "rejected.jsonl").read_text("utf-8").splitlines()))
    actual = {"format": fmt, "read": report.read, "posts": report.posts, "accounts": report.accounts,
              "quarantined": report.quarantined, "rejects": rejects, "rows": rows}
    golden = GOLDEN / (name.replace("/", "__") + ".json")
    if os.environ.get("CIB_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    assert actual == json.loads(golden.read_text("utf-8"))


def test_big_ids_survive_as_exact_strings(samples: Path, tmp_path: Path) -> None:
    path = samples / "tiktok" / "zeeschuimer_tiktok_items.ndjson"
    loader, fmt = detect(path, get_loaders())
    store = ParquetStore(tmp_path)
    ingest_file(path, loader, fmt, store)
    store.finalize()
    ids = store.posts().collect()["post_id"].to_list()
    assert "7288995634328177926" in ids  # > 2**53: a float would have changed the last digits
