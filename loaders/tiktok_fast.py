"""Fast path of the TikTok ``zeeschuimer-ndjson`` format (see `loaders._fast`): the same posts as
`loaders.tiktok._map_item_struct`, column by column.

Examples
--------
>>> import tempfile
>>> line = (b'{"source_platform": "tiktok.com", "data": {"id": "7", "desc": "hi #Tag", "createTime": 1700000000,'
...         b' "author": {"id": "1", "uniqueId": "ann"}}}\\n')
>>> p = Path(tempfile.mkdtemp(), "z.ndjson"); _ = p.write_bytes(line)
>>> posts = zeeschuimer_posts(p, "zeeschuimer-ndjson", min_bytes=0)
>>> posts.select("uid", "account_uid", "hashtags", "post_url").row(0)
('tiktok:7', 'tiktok:1', ['tag'], 'https://www.tiktok.com/@ann/video/7')
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cib.schema import MEDIA_STRUCT
from loaders._fast import (
    FAST_MIN_BYTES,
    epoch_ts,
    json_lines_file,
    mapped_list,
    strict_str,
    text_columns,
    to_posts,
)

__all__ = ["zeeschuimer_posts"]

PLATFORM = "tiktok"
_S, _I = pl.String(), pl.Int64()
SCHEMA: dict[str, pl.DataType] = {"data": pl.Struct({
    "id": _S, "desc": _S, "createTime": _I,
    "author": pl.Struct({"id": _S, "uniqueId": _S, "nickname": _S, "createTime": _I}),
    "authorStats": pl.Struct({"followerCount": _I}),
    "music": pl.Struct({"id": _S}),
    "textExtra": pl.List(pl.Struct({"hashtagName": _S, "userUniqueId": _S})),
    "effectStickers": pl.List(pl.Struct({"ID": _S, "id": _S})),
    "duetInfo": pl.Struct({"duetFromId": _S}),
})}
_INT64_MIN = -(2**63)


MIN_BYTES = FAST_MIN_BYTES


def zeeschuimer_posts(path: Path, fmt: str, *, min_bytes: int | None = None) -> pl.DataFrame | None:
    """The posts of a Zeeschuimer TikTok capture, exactly as the per-record path maps them, or None when the
    file needs the per-record path (see `loaders._fast`); files under `min_bytes` (default `MIN_BYTES`) too."""
    raw = json_lines_file(path, SCHEMA, MIN_BYTES if min_bytes is None else min_bytes)
    if raw is None:
        return None
    item = pl.col("data")
    author = item.struct.field("author")
    frame = raw.select(
        item.is_null().alias("no_item"),
        item.struct.field("id").alias("video_id"),
        item.struct.field("desc").alias("desc"),
        item.struct.field("createTime").alias("created"),
        author.struct.field("id").alias("author_id"),
        author.struct.field("uniqueId").alias("unique_id"),
        author.struct.field("nickname").alias("nickname"),
        author.struct.field("createTime").alias("author_created"),
        item.struct.field("authorStats").struct.field("followerCount").alias("followers"),
        item.struct.field("music").struct.field("id").alias("sound"),
        item.struct.field("textExtra").alias("extra"),
        item.struct.field("effectStickers").alias("effects"),
        item.struct.field("duetInfo").struct.field("duetFromId").alias("duet"),
    )
    del raw
    created, created_ok = epoch_ts(pl.col("created"))
    author_created, author_created_ok = epoch_ts(pl.col("author_created"))
    raw_aid = pl.when(pl.col("author_id").is_not_null() & (pl.col("author_id") != "")).then(
        pl.col("author_id")).otherwise(pl.col("unique_id"))
    frame = frame.with_columns(
        strict_str(pl.col("video_id")).alias("post_id"), strict_str(raw_aid).alias("account_id"),
        created.alias("created_at"), created_ok.alias("created_ok"),
        pl.when(author_created_ok).then(author_created).alias("account_created_at"),
        pl.col("extra").list.eval(pl.element().struct.field("hashtagName")).alias("tags"),
        pl.col("extra").list.eval(pl.element().struct.field("userUniqueId")).alias("named"),
    )
    refuse = frame.select(
        pl.col("no_item").any()
        | pl.col("post_id").is_null().any()
        | pl.col("account_id").is_null().any()
        | pl.col("created").is_null().any() | (~pl.col("created_ok")).any()
        | (pl.col("followers") == _INT64_MIN).any()
        | (pl.col("author_id") == "0").any() | (pl.col("sound") == "0").any()  # int 0 and "0" differ there
        | pl.col("effects").list.len().fill_null(0).gt(0).any()
    ).item()
    if refuse:
        return None
    texts = text_columns(frame.get_column("desc"))
    tags = mapped_list(frame, "tags", lambda t: t.casefold().lstrip("#"))
    named = mapped_list(frame, "named", lambda m: m.casefold().lstrip("@"))
    handle = strict_str(pl.col("unique_id"))
    has_sound = pl.col("sound").is_not_null() & (pl.col("sound") != "")
    media = pl.when(has_sound).then(pl.concat_list(pl.struct(
        pl.concat_str(pl.lit("tiktok:sound:"), pl.col("sound")).alias("key"), pl.lit("sound").alias("kind"),
        *[pl.lit(None, pl.String).alias(k) for k in ("url", "path", "sha256", "pdq", "phash", "vpdq", "error")],
    ))).otherwise(pl.lit([], pl.List(MEDIA_STRUCT)))
    duet = pl.col("duet")
    frame = frame.with_columns(
        texts.get_column("text_norm"), texts.get_column("urls"),
        pl.when(tags.list.len().fill_null(0) > 0).then(tags).otherwise(texts.get_column("text_hashtags"))
        .alias("hashtags"),
        pl.when(named.list.len().fill_null(0) > 0).then(named).otherwise(texts.get_column("text_mentions"))
        .alias("mentions"),
    ).with_columns(
        pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col("post_id")).alias("uid"),
        pl.lit(PLATFORM).alias("platform"),
        pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col("account_id")).alias("account_uid"),
        handle.alias("handle"),
        strict_str(pl.col("nickname")).alias("display_name"),
        pl.when(pl.col("desc") != "").then(pl.col("desc")).alias("text"),
        pl.lit(None, pl.String).alias("lang"),
        *[pl.lit(None, pl.String).alias(k) for k in ("repost_of", "repost_account_uid", "reply_to")],
        pl.when(duet.is_not_null() & (duet != "") & (duet != "0")).then(
            pl.concat_str(pl.lit(f"{PLATFORM}:"), duet)).alias("quote_of"),
        media.alias("media"),
        strict_str(pl.col("sound")).alias("sound_id"),
        pl.lit([], pl.List(pl.String)).alias("effect_ids"),
        pl.concat_str(pl.lit("https://www.tiktok.com/@"), pl.col("unique_id").fill_null("None"),
                      pl.lit("/video/"), pl.col("video_id")).alias("post_url"),
        pl.lit(fmt).alias("format"),
        pl.lit(str(path)).alias("source_file"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_record"),
    )
    return to_posts(frame)
