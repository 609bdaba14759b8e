"""THE place for columns and dtypes.

Every table cib writes or reads is declared here once as a `pl.Schema`; `conform` casts a frame to it.
Timestamps are always ``pl.Datetime("us", "UTC")``; platform ids are always strings, because TikTok and X
ids exceed 2**53 and must never pass through a float.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

import polars as pl

from cib.errors import SchemaError

__all__ = [
    "ACCOUNTS",
    "CLUSTERS",
    "EDGES",
    "EVIDENCE",
    "EXPORT",
    "LINKS",
    "MEDIA",
    "MEMBERS",
    "PART_KEY",
    "POSTS",
    "RAW_ERROR",
    "RAW_FILE",
    "RAW_FORMAT",
    "RAW_NOTE",
    "RAW_RECORD",
    "REJECTS",
    "TS",
    "AccountRecord",
    "MediaItem",
    "PostRecord",
    "conform",
    "empty",
    "uid",
]

TS = pl.Datetime("us", "UTC")

# Keys every raw record from a loader's ``iter_raw`` carries: record number, read error, format, file.
RAW_RECORD, RAW_ERROR, RAW_FORMAT, RAW_FILE = "_cib_record", "_cib_error", "_cib_format", "_cib_file"
# Optional: an assumption the loader had to make for this record (counted per file, warned about, recorded).
RAW_NOTE = "_cib_note"
# Column of the load's shared part files only (``<part folder>/<file key>``; never in a committed table).
PART_KEY = "_cib_part"
_STR = pl.String()
_STRS = pl.List(pl.String())

MEDIA_STRUCT = pl.Struct(
    {
        "key": _STR,  # sha256:<hex> when the file was hashed, else <platform>:<kind>:<platform media key>
        "kind": _STR,  # photo | video | audio | sound | effect | other
        "url": _STR,
        "path": _STR,
        "sha256": _STR,
        "pdq": _STR,  # 64 hex chars (256 bits)
        "phash": _STR,  # 16 hex chars (64 bits)
        "vpdq": _STR,  # videos: distinct good sampled-frame PDQs, space-separated (cib.mediahash)
        "error": _STR,  # why the file was not (fully) hashed, or why its reference was refused
    }
)

POSTS = pl.Schema(
    {
        "uid": _STR,  # "<platform>:<post id>"
        "platform": _STR,
        "post_id": _STR,
        "account_uid": _STR,
        "account_id": _STR,
        "handle": _STR,
        "display_name": _STR,
        "account_created_at": TS,
        "followers": pl.Int64(),
        "created_at": TS,
        "text": _STR,
        "text_norm": _STR,
        "lang": _STR,
        "urls": _STRS,
        "hashtags": _STRS,
        "mentions": _STRS,
        "repost_of": _STR,  # uid of the reposted / forwarded / shared post
        "repost_account_uid": _STR,  # uid of the account (or channel) that was reposted / forwarded
        "reply_to": _STR,
        "quote_of": _STR,
        "media": pl.List(MEDIA_STRUCT),
        "sound_id": _STR,
        "effect_ids": _STRS,
        "post_url": _STR,
        "format": _STR,
        "source_file": _STR,
        "source_record": pl.Int64(),
    }
)

ACCOUNTS = pl.Schema(
    {
        "uid": _STR,
        "platform": _STR,
        "account_id": _STR,
        "handle": _STR,
        "display_name": _STR,
        "created_at": TS,
        "followers": pl.Int64(),
        "following": pl.Int64(),
        "posts_count": pl.Int64(),
        "bio": _STR,
        "verified": pl.Boolean(),
        "profile_url": _STR,
        "format": _STR,
        "source_file": _STR,
        "source_record": pl.Int64(),
    }
)

MEDIA = pl.Schema(
    {
        "post_uid": _STR,
        "account_uid": _STR,
        "platform": _STR,
        "created_at": TS,
        **dict(MEDIA_STRUCT.to_schema()),
    }
)

LINKS = pl.Schema(
    {
        "post_uid": _STR,
        "kind": _STR,  # url | hashtag | mention | repost | reply | quote | media | sound | effect
        "target": _STR,
    }
)

REJECTS = pl.Schema(
    {
        "source_file": _STR,
        "source_record": pl.Int64(),
        "format": _STR,
        "reason": _STR,
        "raw": _STR,
    }
)

EDGES = pl.Schema(
    {
        "src": _STR,  # account uid, src < dst
        "dst": _STR,
        "signals": _STRS,  # sorted signal names
        "weight": pl.Float64(),  # in [0, 1]
        "n_shared": pl.Int64(),  # distinct objects co-acted on
        "min_gap_s": pl.Float64(),
        "median_gap_s": pl.Float64(),
        "evidence": _STRS,  # post uid pairs "a|b", strongest first, capped
        "expected": pl.Float64(),  # co-posting events the null model expects for this pair by chance
        "log10_p": pl.Float64(),  # log10 Poisson P(observed or more | expected)
    }
)

EVIDENCE = pl.Schema(
    {
        "src": _STR,
        "dst": _STR,
        "signal": _STR,
        "object": _STR,  # the shared object key
        "post_a": _STR,
        "post_b": _STR,
        "gap_s": pl.Float64(),
        "idf": pl.Float64(),
        "src_first": pl.Boolean(),  # src acted first on this object (leader/follower)
        "expected": pl.Float64(),  # chance of this one co-action under the null model (a probability)
    }
)

CLUSTERS = pl.Schema(
    {
        "cluster_id": _STR,  # "c-" + sha1 of sorted member uids, stable across runs
        "rank": pl.Int64(),
        "score": pl.Float64(),
        "flagged": pl.Boolean(),
        "size": pl.Int64(),
        "platforms": _STRS,
        "signals": _STRS,
        "components": pl.String(),  # JSON object name -> value in [0, 1]
        "explanation": _STR,
        "n_posts": pl.Int64(),
        "first_seen": TS,
        "last_seen": TS,
        "cluster_class": _STR,  # "inauthentic" (flagged) | "authentic" (syndication) | "below-threshold"
        "observed": pl.Int64(),  # co-posting events between members (all candidate pairs inside)
        "expected": pl.Float64(),  # the same count expected by chance under the null model
        "z_score": pl.Float64(),  # (observed - expected) / sqrt(expected)
        "log10_p": pl.Float64(),  # log10 Poisson P(observed or more | expected)
        "log10_q": pl.Float64(),  # log10 Benjamini-Hochberg adjusted p over all clusters
        "k_core": pl.Int64(),  # largest k such that the cluster subgraph has a non-empty k-core
        "conductance": pl.Float64(),  # cut weight / min(volume in, volume out) against the whole graph
    }
)

MEMBERS = pl.Schema(
    {
        "cluster_id": _STR,
        "account_uid": _STR,
        "degree": pl.Int64(),
        "strength": pl.Float64(),
        "core_number": pl.Int64(),  # k-core number inside the cluster subgraph
        "lead_share": pl.Float64(),  # share of its evidence co-actions in which this account acted first
        "role": _STR,  # "leader" | "follower" | "peer" (from who posts first in the evidence)
    }
)

EXPORT = pl.Schema(
    {
        "platform": _STR,
        "account_id": _STR,
        "handle": _STR,
        "profile_url": _STR,
        "cluster_id": _STR,
        "cluster_score": pl.Float64(),
        "signals": _STR,
        "evidence_post_ids": _STR,
        "evidence_urls": _STR,
        "first_seen": _STR,
        "last_seen": _STR,
        "identity_note": _STR,  # empty when a public handle and link are known; else says only the id is known
    }
)


class MediaItem(TypedDict):
    key: str
    kind: str
    url: str | None
    path: str | None
    sha256: str | None
    pdq: str | None
    phash: str | None
    vpdq: str | None
    error: str | None


class PostRecord(TypedDict):
    uid: str
    platform: str
    post_id: str
    account_uid: str
    account_id: str
    handle: str | None
    display_name: str | None
    account_created_at: datetime | None
    followers: int | None
    created_at: datetime
    text: str | None
    text_norm: str | None
    lang: str | None
    urls: list[str]
    hashtags: list[str]
    mentions: list[str]
    repost_of: str | None
    repost_account_uid: str | None
    reply_to: str | None
    quote_of: str | None
    media: list[MediaItem]
    sound_id: str | None
    effect_ids: list[str]
    post_url: str | None
    format: str
    source_file: str
    source_record: int


class AccountRecord(TypedDict):
    uid: str
    platform: str
    account_id: str
    handle: str | None
    display_name: str | None
    created_at: datetime | None
    followers: int | None
    following: int | None
    posts_count: int | None
    bio: str | None
    verified: bool | None
    profile_url: str | None
    format: str
    source_file: str
    source_record: int


def uid(platform: str, platform_id: object) -> str:
    """Node id of a platform object: never a username, never a float.

    Examples
    --------
    >>> uid("tiktok", 7288995634328177926)
    'tiktok:7288995634328177926'
    """
    if isinstance(platform_id, float):
        raise SchemaError(f"{platform} id {platform_id!r} is a float: ids must be read as strings")
    return f"{platform}:{platform_id}"


def empty(schema: pl.Schema) -> pl.DataFrame:
    """An empty frame of `schema`.

    Examples
    --------
    >>> empty(LINKS).columns
    ['post_uid', 'kind', 'target']
    """
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame | pl.LazyFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select `schema`'s columns in order, cast to its dtypes, raise `SchemaError` on a missing column.

    Examples
    --------
    >>> conform(pl.DataFrame({"post_uid": ["x:1"], "kind": ["url"], "target": ["https://a.b/"], "extra": [1]}), LINKS).shape
    (1, 3)
    """
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    present = set(lf.collect_schema().names())
    missing = [name for name in schema.names() if name not in present]
    if missing:
        raise SchemaError(f"missing column(s): {', '.join(missing)}")
    return lf.select([pl.col(name).cast(dtype) for name, dtype in schema.items()]).collect()
