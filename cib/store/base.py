"""The store interface and the derivations every store shares."""

from __future__ import annotations

from typing import Protocol

import polars as pl

from cib.schema import LINKS, MEDIA

__all__ = ["GraphStore", "Scores", "derive_links", "derive_media"]


class Scores(Protocol):
    edges: pl.DataFrame
    evidence: pl.DataFrame
    clusters: pl.DataFrame
    members: pl.DataFrame


class GraphStore(Protocol):
    """What ingest, scoring and reporting need from a store."""

    def write_file(self, file_key: str, part: int, posts: pl.DataFrame, accounts: pl.DataFrame) -> None: ...

    def posts(self) -> pl.LazyFrame: ...

    def accounts(self) -> pl.LazyFrame: ...

    def media(self) -> pl.LazyFrame: ...

    def links(self) -> pl.LazyFrame: ...


def derive_media(posts: pl.LazyFrame) -> pl.LazyFrame:
    """One MEDIA row per (post, media item)."""
    return (
        posts.select("uid", "account_uid", "platform", "created_at", "media")
        .explode("media")
        .drop_nulls("media")
        .unnest("media")
        .rename({"uid": "post_uid"})
        .select(MEDIA.names())
    )


def derive_links(posts: pl.LazyFrame) -> pl.LazyFrame:
    """post -> url / hashtag / mention / repost / reply / quote / media / sound / effect links."""
    frames = []
    for kind, column in (("url", "urls"), ("hashtag", "hashtags"), ("mention", "mentions"), ("effect", "effect_ids")):
        frames.append(posts.select(pl.col("uid").alias("post_uid"), pl.lit(kind).alias("kind"),
                                   pl.col(column).alias("target")).explode("target"))
    for kind, column in (("repost", "repost_of"), ("reply", "reply_to"), ("quote", "quote_of"), ("sound", "sound_id"),
                         ("forward", "repost_account_uid")):
        frames.append(posts.select(pl.col("uid").alias("post_uid"), pl.lit(kind).alias("kind"),
                                   pl.col(column).alias("target")))
    frames.append(posts.select(pl.col("uid").alias("post_uid"), pl.lit("media").alias("kind"),
                               pl.col("media").list.eval(pl.element().struct.field("key")).alias("target"))
                  .explode("target"))
    return (pl.concat(frames).drop_nulls("target").select([pl.col(c).cast(t) for c, t in LINKS.items()])
            .unique().sort("post_uid", "kind", "target"))
