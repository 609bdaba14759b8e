"""Turn posts into co-action *actions*: (account, post, time, object, signal).

An object is anything two accounts can "do the same thing" with: a canonical URL, a repost/forward target,
an exact caption fingerprint, a near-duplicate caption group, a media fingerprint (sha256 or platform media
key), a perceptual media group, a hashtag set, a TikTok sound or effect. Object keys are platform-neutral
where the thing is (URLs, captions, media hashes), which is how cross-platform clusters appear.

One specification, two executions (cib.engines): `actions` = `post_base` → `group_inputs` (row-local) →
`object_groups` (global: near-duplicate captions, perceptual media) → `post_actions` (row-local). The polars
engine runs the four on the whole table; the Spark engine runs the row-local kernels per partition
(``mapInArrow``) and `object_groups` once on the distinct inputs.
"""

from __future__ import annotations

import polars as pl

from cib.signals.captions import near_duplicate_groups
from cib.signals.media import perceptual_groups, video_groups

__all__ = ["ACTIONS", "GROUPS", "GROUP_INPUTS", "SIGNALS", "actions", "group_inputs", "object_groups", "post_actions",
           "post_base"]

SIGNALS = ("co_url", "co_repost", "co_caption", "co_media", "co_hashtags", "co_sound")

ACTIONS = pl.Schema({"account_uid": pl.String(), "post_uid": pl.String(), "ts": pl.Int64(),
                     "object": pl.String(), "signal": pl.String()})
GROUP_INPUTS = pl.Schema({"kind": pl.String(), "value": pl.String()})  # kind: caption, pdq, phash, vpdq
GROUPS = pl.Schema({"kind": pl.String(), "value": pl.String(), "group": pl.String()})
_HASHES = ("pdq", "phash", "vpdq")


def actions(posts: pl.LazyFrame, *, min_caption_tokens: int = 4, min_hashtags: int = 3,
            caption_threshold: float = 0.6, pdq_distance: int = 31, phash_distance: int = 8,
            near_duplicates: bool = True, seed: int = 0) -> pl.DataFrame:
    """All actions of `posts`, one per (account, post, object), in no particular order.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from cib.schema import POSTS
    >>> row = {"uid": "x:1", "account_uid": "x:a", "created_at": datetime(2024, 1, 1, tzinfo=UTC),
    ...        "urls": ["https://e.com/a"], "hashtags": [], "media": [], "effect_ids": []}
    >>> p = pl.DataFrame([row], schema={k: POSTS[k] for k in row}).with_columns(
    ...     [pl.lit(None, POSTS[c]).alias(c) for c in ("repost_of", "repost_account_uid", "text_norm", "sound_id")])
    >>> actions(p.lazy())["object"].to_list()
    ['url:https://e.com/a']
    """
    base = post_base(posts)
    inputs = group_inputs(base, min_caption_tokens=min_caption_tokens, near_duplicates=near_duplicates)
    groups = object_groups(inputs, caption_threshold=caption_threshold, pdq_distance=pdq_distance,
                           phash_distance=phash_distance, seed=seed)
    return post_actions(base, groups, min_caption_tokens=min_caption_tokens, min_hashtags=min_hashtags)


def post_base(posts: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """The POSTS columns actions are made of (row-local: any slice of the posts gives its own rows)."""
    return posts.lazy().select(
        "account_uid", pl.col("uid").alias("post_uid"),
        (pl.col("created_at").dt.epoch("s")).alias("ts"),
        "urls", "media", "hashtags", "effect_ids",
        *[pl.col(c).cast(pl.String()) for c in ("repost_of", "repost_account_uid", "text_norm", "sound_id")],
    ).collect()


def group_inputs(base: pl.DataFrame, *, min_caption_tokens: int = 4, near_duplicates: bool = True) -> pl.DataFrame:
    """The values that global grouping needs (GROUP_INPUTS, distinct): captions long enough for near-duplicate
    grouping, and the perceptual hashes of the media (row-local; distinct again after concatenating slices).

    >>> base = post_base(pl.DataFrame({"uid": ["x:1"], "account_uid": ["x:a"], "created_at": [0], "urls": [[]],
    ...     "media": [[{"kind": "image", "key": "k", "pdq": "f" * 64}]], "hashtags": [[]], "effect_ids": [[]],
    ...     "repost_of": [None], "repost_account_uid": [None], "text_norm": ["one two three four"],
    ...     "sound_id": [None]}).with_columns(pl.col("created_at").cast(pl.Datetime("us", "UTC"))))
    >>> group_inputs(base).sort("kind").rows()
    [('caption', 'one two three four'), ('pdq', 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')]
    """
    parts = [pl.DataFrame(schema=GROUP_INPUTS)]
    if near_duplicates:
        parts.append(_captions(base, min_caption_tokens).select(kind=pl.lit("caption"), value="text_norm"))
    media = _media(base)
    for column in _HASHES:
        if column in media.columns:
            parts.append(media.filter(pl.col(column).is_not_null()).select(kind=pl.lit(column), value=column))
    return pl.concat([p.select([pl.col(c).cast(t) for c, t in GROUP_INPUTS.items()]) for p in parts]).unique()


def object_groups(inputs: pl.DataFrame, *, caption_threshold: float = 0.6, pdq_distance: int = 31,
                  phash_distance: int = 8, seed: int = 0) -> pl.DataFrame:
    """GROUPS (``kind, value -> group``) over ALL group inputs: near-duplicate captions (MinHash/LSH) and
    perceptual media groups. Global: it must see every distinct input at once (its result is the same for any
    order or repetition of the inputs)."""
    parts = [pl.DataFrame(schema=GROUPS)]
    captions = inputs.filter(pl.col("kind") == "caption")["value"]
    if captions.len():
        parts.append(near_duplicate_groups(captions, threshold=caption_threshold, seed=seed)
                     .select(kind=pl.lit("caption"), value="text_norm", group="group"))
    for column, distance in (("pdq", pdq_distance), ("phash", phash_distance), ("vpdq", pdq_distance)):
        hashed = inputs.filter(pl.col("kind") == column)["value"]
        if hashed.len():  # videos: vPDQ frame-set matching (cib.signals.media.video_groups)
            groups = (video_groups if column == "vpdq" else perceptual_groups)(hashed, max_distance=distance)
            parts.append(groups.select(kind=pl.lit(column), value="hash", group="group"))
    return pl.concat([p.select([pl.col(c).cast(t) for c, t in GROUPS.items()]) for p in parts])


def post_actions(base: pl.DataFrame, groups: pl.DataFrame, *, min_caption_tokens: int = 4,
                 min_hashtags: int = 3) -> pl.DataFrame:
    """ACTIONS of the posts in `base` (row-local given the global `groups`), one per (account, post, object)."""
    parts = [
        base.select("account_uid", "post_uid", "ts", object=pl.col("urls")).explode("object")
        .with_columns(object="url:" + pl.col("object"), signal=pl.lit("co_url")),
        base.filter(pl.col("repost_of").is_not_null())
        .select("account_uid", "post_uid", "ts", object="repost:" + pl.col("repost_of"), signal=pl.lit("co_repost")),
        # Telegram forwards name the source channel, not the message: source + caption identify the item.
        base.filter(pl.col("repost_of").is_null() & pl.col("repost_account_uid").is_not_null())
        .select("account_uid", "post_uid", "ts",
                object="fwd:" + pl.col("repost_account_uid") + ":"
                + pl.col("text_norm").fill_null("").hash().cast(pl.String()), signal=pl.lit("co_repost")),
    ]
    captions = _captions(base, min_caption_tokens)
    parts.append(captions.select("account_uid", "post_uid", "ts",
                                 object="cap:" + pl.col("text_norm").hash().cast(pl.String()),
                                 signal=pl.lit("co_caption")))
    caption_groups = groups.filter(pl.col("kind") == "caption")
    if caption_groups.height and captions.height:
        parts.append(captions.join(caption_groups, left_on="text_norm", right_on="value")
                     .select("account_uid", "post_uid", "ts", object="capn:" + pl.col("group"),
                             signal=pl.lit("co_caption")))
    media = _media(base)
    if media.height:
        parts.append(media.filter(pl.col("kind") != "sound")
                     .select("account_uid", "post_uid", "ts", object="media:" + pl.col("key"),
                             signal=pl.lit("co_media")))
        for column in _HASHES:
            found = groups.filter(pl.col("kind") == column)
            if column in media.columns and found.height:
                parts.append(media.filter(pl.col(column).is_not_null()).join(found, left_on=column, right_on="value")
                             .select("account_uid", "post_uid", "ts", object=f"{column}:" + pl.col("group"),
                                     signal=pl.lit("co_media")))
    parts.append(base.filter(pl.col("hashtags").list.len() >= min_hashtags)
                 .select("account_uid", "post_uid", "ts",
                         object="tags:" + pl.col("hashtags").list.sort().list.join(" "), signal=pl.lit("co_hashtags")))
    parts.append(base.filter(pl.col("sound_id").is_not_null())
                 .select("account_uid", "post_uid", "ts", object="sound:" + pl.col("sound_id"),
                         signal=pl.lit("co_sound")))
    parts.append(base.select("account_uid", "post_uid", "ts", object=pl.col("effect_ids")).explode("object")
                 .drop_nulls("object").with_columns(object="effect:" + pl.col("object"), signal=pl.lit("co_sound")))
    frames = [p.select([pl.col(c).cast(t) for c, t in ACTIONS.items()]) for p in parts]
    return pl.concat(frames).drop_nulls("object").unique(["account_uid", "post_uid", "object"])


def _captions(base: pl.DataFrame, min_caption_tokens: int) -> pl.DataFrame:
    return base.filter(pl.col("repost_of").is_null() & pl.col("text_norm").is_not_null()
                       & (pl.col("text_norm").str.count_matches(" ") >= min_caption_tokens - 1))


def _media(base: pl.DataFrame) -> pl.DataFrame:
    return base.select("account_uid", "post_uid", "ts", "media").explode("media").drop_nulls("media").unnest("media")
