"""Near-duplicate captions: vectorised MinHash over word shingles, LSH banding, verified Jaccard.

Captions arrive already normalised by the loaders (case-folded, no URLs/mentions/emoji/punctuation,
hashtags sorted at the end), so emoji, prefixes like ``RT @x:`` and hashtag order no longer matter; MinHash
with verification then absorbs typos, added words and small edits.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["near_duplicate_groups"]

def near_duplicate_groups(texts: pl.Series, *, threshold: float = 0.6, num_perm: int = 32, bands: int = 8,
                          min_tokens: int = 5, max_bucket: int = 200, seed: int = 0) -> pl.DataFrame:
    """Group near-identical normalised captions.

    Returns a frame ``text_norm -> group`` (group = the smallest member text's hash, as a string) for texts
    that have at least one verified near-duplicate with Jaccard similarity ≥ `threshold` over word unigrams
    and bigrams. Exact duplicates are one text and need no group.

    Examples
    --------
    >>> s = pl.Series(["they are lying to you about the war today", "they are lyng to you about the war today",
    ...                "a completely different sentence about cats and dogs"])
    >>> near_duplicate_groups(s).height
    2
    """
    unique = texts.drop_nulls().unique().sort()
    frame = pl.DataFrame({"text_norm": unique}).with_row_index("tid")
    # LSH runs on word bigrams (32-bit hashes, column-wise MinHash: fast and cache-friendly); candidates are
    # then verified on unigrams + bigrams, so the reported similarity is the lenient one.
    tokens = (frame.lazy()
              .with_columns(words=pl.col("text_norm").str.split(" "))
              .filter(pl.col("words").list.len() >= min_tokens)
              .select("tid", shingles=pl.col("words").list.eval(pl.element() + " " + pl.element().shift(-1))
                      .list.drop_nulls().list.unique())
              .explode("shingles")
              .select("tid", h=(pl.col("shingles").hash(seed=seed) % (2**32)).cast(pl.UInt32()))
              .sort("tid")
              .collect())
    if tokens.height == 0:
        return pl.DataFrame(schema={"text_norm": pl.String(), "group": pl.String()})
    rng = np.random.default_rng(seed)
    masks = rng.integers(0, 2**32, size=num_perm, dtype=np.uint32)
    mults = rng.integers(0, 2**32, size=num_perm, dtype=np.uint32) | np.uint32(1)
    tids = tokens["tid"].to_numpy()
    hashes = tokens["h"].to_numpy()
    starts = np.flatnonzero(np.r_[True, tids[1:] != tids[:-1]])
    owner = tids[starts]
    signatures = np.empty((len(starts), num_perm), dtype=np.uint32)
    scratch = np.empty_like(hashes)
    for k in range(num_perm):  # h -> (h xor mask_k) * mult_k mod 2**32: a bijection per k, min per text
        np.bitwise_xor(hashes, masks[k], out=scratch)
        np.multiply(scratch, mults[k], out=scratch)
        signatures[:, k] = np.minimum.reduceat(scratch, starts)
    rows = num_perm // bands
    band_keys = {f"b{b}": _band_hash(signatures[:, b * rows:(b + 1) * rows]) for b in range(bands)}
    sig = pl.DataFrame({"tid": owner, **band_keys})
    long = sig.lazy().unpivot(index="tid", variable_name="band", value_name="key")
    shared = long.group_by("band", "key").agg(n=pl.len()).filter(pl.col("n").is_between(2, max_bucket))
    candidates = (long.join(shared, on=["band", "key"], how="semi")  # most buckets hold one text: skip them
                  .group_by("band", "key").agg(pl.col("tid").sort())
                  .select(a=pl.col("tid").list.first(), b=pl.col("tid").list.slice(1))
                  .explode("b").unique().collect())
    # Each bucket links its members to its first member: enough for connected groups, linear in bucket size.
    if candidates.height == 0:
        return pl.DataFrame(schema={"text_norm": pl.String(), "group": pl.String()})
    verified = _verify(candidates, frame, threshold)
    groups = _components(verified)
    return (groups.join(frame, on="tid").join(frame.rename({"tid": "root", "text_norm": "root_text"}), on="root")
            .select("text_norm", group=pl.col("root_text").hash(seed=seed).cast(pl.String()))
            .sort("text_norm"))


def _band_hash(block: np.ndarray) -> np.ndarray:
    out = np.zeros(block.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in range(block.shape[1]):
            out = (out * np.uint64(0x100000001B3)) ^ block[:, col].astype(np.uint64)
    return out


def _shingles(text: str) -> set[str]:
    words = text.split(" ")
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}


def _verify(candidates: pl.DataFrame, frame: pl.DataFrame, threshold: float) -> pl.DataFrame:
    texts = frame["text_norm"].to_list()
    keep_a, keep_b = [], []
    cache: dict[int, set[str]] = {}
    for a, b in candidates.iter_rows():
        sa = cache.get(a) or cache.setdefault(a, _shingles(texts[a]))
        sb = cache.get(b) or cache.setdefault(b, _shingles(texts[b]))
        if len(sa & sb) / max(1, len(sa | sb)) >= threshold:
            keep_a.append(a)
            keep_b.append(b)
    return pl.DataFrame({"a": keep_a, "b": keep_b}, schema={"a": pl.UInt32(), "b": pl.UInt32()})


def _components(pairs: pl.DataFrame) -> pl.DataFrame:
    """Connected components of the verified pairs: ``tid -> root`` (smallest tid), via union-find."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in pairs.iter_rows():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    nodes = sorted(set(pairs["a"].to_list()) | set(pairs["b"].to_list()))
    return pl.DataFrame({"tid": nodes, "root": [find(n) for n in nodes]},
                        schema={"tid": pl.UInt32(), "root": pl.UInt32()})
