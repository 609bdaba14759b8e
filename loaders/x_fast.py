"""Fast path of the X ``api-v2-jsonl`` format (API v2 response pages, one per line; see `loaders._fast`): the
same posts as `loaders.x._v2_page` + `loaders.x._map_v2`, column by column, in the same order (each page's
``data`` tweets, then its distinct ``includes.tweets``).

It declines (the per-record path then reads the file) a page with ``errors``, a tweet with media keys, a
page whose ``includes`` repeat a user or tweet id, a tweet with two references of one type, and any row the
per-record path would quarantine.

Examples
--------
>>> import tempfile
>>> page = (b'{"data": [{"id": "2", "author_id": "1", "created_at": "2022-01-01T00:00:00.000Z", "text": "Hi",'
...         b' "referenced_tweets": [{"type": "retweeted", "id": "3"}]}], "includes": {"users": [{"id": "1",'
...         b' "username": "ann"}], "tweets": [{"id": "3", "author_id": "4", "created_at": "2021-12-31T00:00:00Z",'
...         b' "text": "Hi"}]}}\\n')
>>> p = Path(tempfile.mkdtemp(), "x.jsonl"); _ = p.write_bytes(page)
>>> posts = v2_posts(p, "api-v2-jsonl", min_bytes=0)
>>> posts.select("uid", "handle", "repost_of", "repost_account_uid", "post_url").rows()[0]
('x:2', 'ann', 'x:3', 'x:4', 'https://x.com/ann/status/2')
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cib.schema import MEDIA_STRUCT
from loaders._common import canonical_url, opt_ts, parse_ts
from loaders._fast import (
    FAST_MIN_BYTES,
    json_lines_file,
    mapped_list,
    strict_str,
    text_columns,
    timestamps,
    to_posts,
)

__all__ = ["v2_posts"]

PLATFORM = "x"
MIN_BYTES = FAST_MIN_BYTES
_S, _I = pl.String(), pl.Int64()
TWEET = pl.Struct({
    "id": _S, "author_id": _S, "created_at": _S, "text": _S, "lang": _S, "note_tweet": pl.Struct({"text": _S}),
    "entities": pl.Struct({"hashtags": pl.List(pl.Struct({"tag": _S})),
                           "mentions": pl.List(pl.Struct({"username": _S})),
                           "urls": pl.List(pl.Struct({"url": _S, "expanded_url": _S, "unwound_url": _S}))}),
    "referenced_tweets": pl.List(pl.Struct({"type": _S, "id": _S})),
    "attachments": pl.Struct({"media_keys": pl.List(_S)}),
})
USER = pl.Struct({"id": _S, "username": _S, "name": _S, "created_at": _S,
                  "public_metrics": pl.Struct({"followers_count": _I})})
SCHEMA: dict[str, pl.DataType] = {
    "data": pl.List(TWEET),
    "includes": pl.Struct({"users": pl.List(USER), "tweets": pl.List(TWEET)}),
    "errors": pl.List(pl.Struct({"title": _S})),
}
_INT64_MIN = -(2**63)


def v2_posts(path: Path, fmt: str, *, min_bytes: int | None = None) -> pl.DataFrame | None:
    """The posts of an X API v2 JSON-lines file, exactly as the per-record path maps them, or None when the
    file needs the per-record path; files under `min_bytes` (default `MIN_BYTES`) too."""
    pages = json_lines_file(path, SCHEMA, MIN_BYTES if min_bytes is None else min_bytes)
    if pages is None:
        return None
    pages = pages.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("line"))
    if pages.select(pl.col("errors").list.len().fill_null(0).gt(0).any()).item():
        return None
    data_rows = _explode(pages.select("line", pl.col("data").alias("t")), 0)
    included = _explode(pages.select("line", pl.col("includes").struct.field("tweets").alias("t")), 1)
    users = pages.select("line", pl.col("includes").struct.field("users").alias("u")).explode("u").drop_nulls("u")
    users = users.select("line", pl.col("u").struct.unnest())
    if (included.select(pl.struct("line", "id").is_duplicated().any()).item()
            or users.select(pl.struct("line", "id").is_duplicated().any()).item()):
        return None
    tweets = pl.concat([data_rows, included]).sort("line", "part", "pos").with_row_index("row")
    refs = tweets.select("row", pl.col("referenced_tweets").alias("r")).explode("r").drop_nulls("r").select(
        "row", pl.col("r").struct.unnest()).filter(pl.col("type").is_in(["retweeted", "replied_to", "quoted"]))
    if refs.select(pl.struct("row", "type").is_duplicated().any()).item():
        return None
    refs = refs.pivot(on="type", index="row", values="id", aggregate_function="first") if refs.height else refs
    for kind in ("retweeted", "replied_to", "quoted"):
        if kind not in refs.columns:
            refs = refs.with_columns(pl.lit(None, pl.String).alias(kind))
    originals = included.select("line", pl.col("id").alias("retweeted"), pl.col("author_id").alias("original_author"))
    users = users.select("line", pl.col("id").alias("author_id"), pl.col("username").alias("username"),
                         pl.col("name").alias("name"), pl.col("created_at").alias("user_created"),
                         pl.col("public_metrics").struct.field("followers_count").alias("followers"))
    frame = (tweets.join(refs.select("row", "retweeted", "replied_to", "quoted"), on="row", how="left")
             .join(originals, on=["line", "retweeted"], how="left")
             .join(users, on=["line", "author_id"], how="left")
             .sort("line", "part", "pos"))
    refuse = frame.select(
        pl.col("no_tweet").any() | pl.col("id").is_null().any() | (pl.col("id") == "").any()
        | pl.col("author_id").is_null().any() | (pl.col("author_id") == "").any()
        | strict_str(pl.col("id")).is_null().any() | strict_str(pl.col("author_id")).is_null().any()
        | pl.col("created_at").is_null().any() | (pl.col("created_at") == "").any()
        | pl.col("attachments").struct.field("media_keys").list.len().fill_null(0).gt(0).any()
        | (pl.col("followers") == _INT64_MIN).any()
        | pl.any_horizontal([pl.col("entities").struct.field(k).list.eval(pl.element().is_null()).list.any()
                             .fill_null(False).any() for k in ("hashtags", "mentions", "urls")])
    ).item()
    if refuse:
        return None
    created = timestamps(frame.get_column("created_at"), parse_ts)
    account_created = timestamps(frame.get_column("user_created"), opt_ts)
    if created is None or account_created is None or created.null_count():
        return None
    note = pl.col("note_tweet").struct.field("text")
    frame = frame.with_columns(
        pl.when(note.is_not_null() & (note != "")).then(note).otherwise(pl.col("text")).alias("body"),
        pl.col("entities").struct.field("hashtags").list.eval(pl.element().struct.field("tag")).alias("tags"),
        pl.col("entities").struct.field("mentions").list.eval(pl.element().struct.field("username")).alias("named"),
        pl.col("entities").struct.field("urls").list.eval(pl.coalesce(
            *[pl.when(pl.element().struct.field(k) != "").then(pl.element().struct.field(k))
              for k in ("unwound_url", "expanded_url", "url")])).alias("links"),
        created.alias("created_ts"),
    )
    texts = text_columns(frame.get_column("body"), norm_only=True)  # X takes URLs, tags from entities
    empty = pl.lit([], pl.List(pl.String))
    tags = mapped_list(frame, "tags", lambda t: t.casefold().lstrip("#")).fill_null(empty)
    named = mapped_list(frame, "named", lambda m: m.casefold().lstrip("@")).fill_null(empty)
    links = mapped_list(frame, "links", canonical_url).fill_null(empty)
    retweeted, original = pl.col("retweeted"), pl.col("original_author")
    frame = frame.with_columns(
        pl.concat_str(pl.lit(f"{PLATFORM}:"), strict_str(pl.col("id"))).alias("uid"),
        pl.lit(PLATFORM).alias("platform"),
        strict_str(pl.col("id")).alias("post_id"),
        pl.concat_str(pl.lit(f"{PLATFORM}:"), strict_str(pl.col("author_id"))).alias("account_uid"),
        strict_str(pl.col("author_id")).alias("account_id"),
        strict_str(pl.col("username")).alias("handle"),
        strict_str(pl.col("name")).alias("display_name"),
        account_created.alias("account_created_at"),
        pl.col("created_ts").alias("created_at"),
        pl.when(pl.col("body") != "").then(pl.col("body")).alias("text"),
        texts.get_column("text_norm"),
        strict_str(pl.col("lang")).alias("lang"),
        links.alias("urls"), tags.alias("hashtags"), named.alias("mentions"),
        pl.when(retweeted.is_not_null() & (retweeted != "")).then(
            pl.concat_str(pl.lit(f"{PLATFORM}:"), retweeted)).alias("repost_of"),
        pl.when(retweeted.is_not_null() & (retweeted != "") & original.is_not_null() & (original != "")).then(
            pl.concat_str(pl.lit(f"{PLATFORM}:"), original)).alias("repost_account_uid"),
        *[pl.when(pl.col(k).is_not_null() & (pl.col(k) != "")).then(pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col(k)))
          .alias(name) for k, name in (("replied_to", "reply_to"), ("quoted", "quote_of"))],
        pl.lit([], pl.List(pl.String)).alias("effect_ids"),
        pl.lit(None, pl.String).alias("sound_id"),
        pl.concat_str(pl.lit("https://x.com/"), pl.when(pl.col("username").is_not_null() & (pl.col("username") != ""))
                      .then(pl.col("username")).otherwise(pl.lit("i/web")), pl.lit("/status/"), pl.col("id"))
        .alias("post_url"),
        pl.lit(fmt).alias("format"),
        pl.lit(str(path)).alias("source_file"),
        pl.col("line").alias("source_record"),
        pl.lit([], pl.List(MEDIA_STRUCT)).alias("media"),
    )
    return to_posts(frame)


def _explode(frame: pl.DataFrame, part: int) -> pl.DataFrame:
    """One row per tweet of list column ``t``: its page ``line``, ``part`` (0 data, 1 includes), ``pos``."""
    rows = frame.with_columns(pl.col("t").list.len().fill_null(0).alias("n")).filter(pl.col("n") > 0)
    rows = rows.with_columns(pl.int_ranges(0, pl.col("n")).alias("pos")).explode("t", "pos")
    return rows.select("line", pl.lit(part).alias("part"), "pos", pl.col("t").is_null().alias("no_tweet"),
                       pl.col("t").struct.unnest())
