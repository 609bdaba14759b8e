import typing
from datetime import UTC, datetime

import polars as pl
import pytest

from cib.errors import SchemaError
from cib.schema import ACCOUNTS, LINKS, POSTS, AccountRecord, PostRecord, conform, uid


def test_post_record_keys_are_the_posts_schema():
    assert list(typing.get_type_hints(PostRecord)) == POSTS.names()


def test_account_record_keys_are_the_accounts_schema():
    assert list(typing.get_type_hints(AccountRecord)) == ACCOUNTS.names()


def test_timestamps_are_utc_microseconds():
    for schema in (POSTS, ACCOUNTS):
        for name, dtype in schema.items():
            if isinstance(dtype, pl.Datetime):
                assert dtype == pl.Datetime("us", "UTC"), name


def test_ids_are_strings():
    for name in ("uid", "post_id", "account_id", "account_uid", "repost_of", "sound_id"):
        assert POSTS[name] == pl.String()


def test_uid_refuses_floats():
    assert uid("x", 2**60 + 1) == f"x:{2**60 + 1}"
    with pytest.raises(SchemaError):
        uid("x", 1.5e18)


def test_conform_names_missing_columns():
    with pytest.raises(SchemaError, match="kind, target"):
        conform(pl.DataFrame({"post_uid": ["x:1"]}), LINKS)


def test_conform_casts_and_orders():
    frame = pl.DataFrame({"target": ["t"], "post_uid": ["p"], "kind": ["url"]})
    assert conform(frame, LINKS).columns == ["post_uid", "kind", "target"]
    numbers = conform(pl.DataFrame({"post_uid": ["p"], "kind": ["url"], "target": [12]}), LINKS)
    assert numbers.schema == LINKS and numbers["target"].to_list() == ["12"]
    moment = datetime(2024, 1, 1, 12, 30, tzinfo=UTC)
    ms = pl.DataFrame({"t": [moment]}, schema={"t": pl.Datetime("ms", "UTC")})
    cast = conform(ms, pl.Schema({"t": pl.Datetime("us", "UTC")}))
    assert cast.schema["t"] == pl.Datetime("us", "UTC") and cast["t"].to_list() == [moment]
