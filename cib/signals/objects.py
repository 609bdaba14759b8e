"""Turn posts into co-action *actions*: (account, post, time, object, signal).

An object is anything two accounts can "do the same thing" with: a canonical URL, a repost/forward target,
an exact caption fingerprint, a near-duplicate caption group, a media fingerprint (sha256 or platform media
key), a perceptual media group, a hashtag set, a TikTok sound or effect. Object keys are platform-neutral
where the thing is (URLs, captions, media hashes), which is how cross-platform clusters appear.
"""

from __future__ import annotations

import polars as pl

from cib.signals.captions import near_duplicate_groups
from cib.signals.media import perceptual_groups, video_groups

__all__ = ["ACTIONS", "SIGNALS", "actions"]

SIGNALS = ("co_url", "co_repost", "co_caption", "co_media", "co_hashtags", "co_sound")

ACTIONS = pl.Schema({"account_uid": pl.String(), "post_uid": pl.String(), "ts": pl.Int64(),
                     "object": pl.String(), "signal": pl.String()})


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
    base = posts.select(
        "account_uid", pl.col("uid").alias("post_uid"),
        (pl.col("created_at").dt.epoch("s")).alias("ts"),
        "urls", "media", "hashtags", "effect_ids",
        *[pl.col(c).cast(pl.String()) for c in ("repost_of", "repost_account_uid", "text_norm", "sound_id")],
    ).collect()
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
    captions = base.filter(pl.col("repost_of").is_null() & pl.col("text_norm").is_not_null()
                           & (pl.col("text_norm").str.count_matches(" ") >= min_caption_tokens - 1))
    parts.append(captions.select("account_uid", "post_uid", "ts",
                                 object="cap:" + pl.col("text_norm").hash().cast(pl.String()),
                                 signal=pl.lit("co_caption")))
    if near_duplicates and captions.height:
        groups = near_duplicate_groups(captions["text_norm"], threshold=caption_threshold, seed=seed)
        parts.append(captions.join(groups, on="text_norm")
                     .select("account_uid", "post_uid", "ts", object="capn:" + pl.col("group"),
                             signal=pl.lit("co_caption")))
    media = base.select("account_uid", "post_uid", "ts", "media").explode("media").drop_nulls("media").unnest("media")
    if media.height:
        parts.append(media.filter(pl.col("kind") != "sound")
                     .select("account_uid", "post_uid", "ts", object="media:" + pl.col("key"),
                             signal=pl.lit("co_media")))
        for column, distance in (("pdq", pdq_distance), ("phash", phash_distance), ("vpdq", pdq_distance)):
            hashed = media.filter(pl.col(column).is_not_null()) if column in media.columns else media.clear()
            if hashed.height:  # videos: vPDQ frame-set matching (cib.signals.media.video_groups)
                groups = (video_groups if column == "vpdq" else perceptual_groups)(hashed[column], max_distance=distance)
                parts.append(hashed.join(groups, left_on=column, right_on="hash")
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
