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

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED_FORMATS = {
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
GOLDEN_COLUMNS = ["uid", "account_uid", "handle", "created_at", "text_norm", "urls", "hashtags", "mentions",
                  "repost_of", "repost_account_uid", "reply_to", "quote_of", "sound_id", "media_keys"]


def test_every_sample_file_is_covered(samples: Path) -> None:
    present = {str(p.relative_to(samples)) for p in samples.rglob("*") if p.is_file() and p.name != "SOURCES.txt"}
    assert present == set(EXPECTED_FORMATS)


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_sample_loads_and_matches_golden(samples: Path, tmp_path: Path, name: str) -> None:
    path = samples / name
    loader, fmt = detect(path, get_loaders())
    assert fmt == EXPECTED_FORMATS[name]
    store = ParquetStore(tmp_path)
    report = ingest_file(path, loader, fmt, store)
    assert report.error is None
    assert report.read > 0 and report.reconciled
    store.finalize()
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
