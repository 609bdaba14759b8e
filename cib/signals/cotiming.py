"""Co-posting timing: which accounts acted on the same object within a time window.

Sorted-neighbourhood pairing instead of all pairs: actions are sorted by (object, time) and each action is
paired with at most `max_neighbours` following actions on the same object that lie within `window_s`. A
bot farm's burst is then paired in full, while a viral object shared by thousands costs O(n · k), not
O(n²); objects whose neighbourhood was cut are counted and reported (``capped_objects``).

Pairs are weighted by object rarity (IDF over accounts) and normalised by each account's own IDF mass, so
news junkies, syndication and power users who touch many popular objects score low.
"""

from __future__ import annotations

import math

import polars as pl

from cib.schema import EDGES, EVIDENCE

__all__ = ["copairs", "pair_edges"]


def copairs(actions: pl.DataFrame, *, window_s: int = 3600, max_neighbours: int = 25,
            per_object: str = "closest") -> tuple[pl.DataFrame, int]:
    """Co-actions ``(src, dst, signal, object, post_a, post_b, gap_s, idf)`` with ``src < dst`` and the
    number of objects whose neighbourhood was capped.

    ``per_object="closest"`` keeps one co-action per (pair, object), the closest in time (cib's default: an
    object counts once); ``"all"`` keeps every pair of posts, as coordination-network-toolkit counts them.

    Examples
    --------
    >>> acts = pl.DataFrame({"account_uid": ["x:a", "x:b", "x:c"], "post_uid": ["x:1", "x:2", "x:3"],
    ...     "ts": [0, 30, 9000], "object": ["url:u"] * 3, "signal": ["co_url"] * 3})
    >>> pairs, capped = copairs(acts, window_s=60)
    >>> pairs.select("src", "dst", "gap_s").rows()
    [('x:a', 'x:b', 30.0)]
    """
    if actions.height == 0:
        return pl.DataFrame(schema=EVIDENCE), 0
    n_accounts = max(actions["account_uid"].n_unique(), 2)
    popularity = actions.group_by("object").agg(n=pl.col("account_uid").n_unique())
    acts = (actions.join(popularity, on="object")
            .filter(pl.col("n") >= 2)
            .with_columns(idf=(math.log(n_accounts) - pl.col("n").log()).clip(0.0))
            .sort("object", "ts", "account_uid", "post_uid"))
    found = []
    capped = 0
    for k in range(1, max_neighbours + 1):
        shifted = acts.select(
            "object", "signal", "idf", "ts", a=pl.col("account_uid"), pa=pl.col("post_uid"),
            b=pl.col("account_uid").shift(-k), pb=pl.col("post_uid").shift(-k), tb=pl.col("ts").shift(-k),
            ob=pl.col("object").shift(-k),
        ).filter((pl.col("ob") == pl.col("object")) & ((pl.col("tb") - pl.col("ts")) <= window_s))
        if shifted.height == 0:
            break
        if k == max_neighbours:
            capped = shifted["object"].n_unique()
        found.append(shifted.filter(pl.col("a") != pl.col("b")))
    if not found:
        return pl.DataFrame(schema=EVIDENCE), capped
    pairs = pl.concat(found).select(
        src=pl.min_horizontal("a", "b"), dst=pl.max_horizontal("a", "b"), signal="signal", object="object",
        post_a=pl.when(pl.col("a") < pl.col("b")).then("pa").otherwise("pb"),
        post_b=pl.when(pl.col("a") < pl.col("b")).then("pb").otherwise("pa"),
        gap_s=(pl.col("tb") - pl.col("ts")).cast(pl.Float64()), idf="idf",
    )
    if per_object == "all":
        return pairs.unique(["src", "dst", "post_a", "post_b"]).sort("src", "dst", "post_a", "post_b") \
            .select(EVIDENCE.names()), capped
    best = (pairs.sort("src", "dst", "object", "gap_s", "post_a", "post_b")
            .unique(["src", "dst", "object"], keep="first", maintain_order=True))
    return best.select(EVIDENCE.names()), capped


def pair_edges(evidence: pl.DataFrame, actions: pl.DataFrame, *, min_shared: int = 3, min_weight: float = 0.15,
               evidence_per_edge: int = 5) -> pl.DataFrame:
    """Account–account EDGES from co-action evidence.

    ``n_shared`` counts distinct co-posting events (posts of the less active side), so one post that shares
    a URL, a caption and a hashtag set with another counts once. ``weight`` is the IDF mass of the shared
    objects over the geometric mean of both accounts' IDF mass, in [0, 1].
    """
    if evidence.height == 0:
        return pl.DataFrame(schema=EDGES)
    n_accounts = max(actions["account_uid"].n_unique(), 2)
    popularity = actions.group_by("object").agg(n=pl.col("account_uid").n_unique())
    mass = (actions.unique(["account_uid", "object"]).join(popularity, on="object")
            .group_by("account_uid").agg(mass=(math.log(n_accounts) - pl.col("n").log()).clip(0.0).sort().sum()))
    edges = (evidence.group_by("src", "dst").agg(
        shared=pl.col("idf").sort().sum(),  # sorted: float sums independent of row order
        n_a=pl.col("post_a").n_unique(), n_b=pl.col("post_b").n_unique(),
        signals=pl.col("signal").unique().sort(),
        min_gap_s=pl.col("gap_s").min(), median_gap_s=pl.col("gap_s").median(),
        evidence=pl.concat_str("post_a", pl.lit("|"), "post_b").sort_by("idf", "gap_s", descending=[True, False])
        .unique(maintain_order=True).head(evidence_per_edge),
    )
        .join(mass.rename({"account_uid": "src", "mass": "mass_a"}), on="src")
        .join(mass.rename({"account_uid": "dst", "mass": "mass_b"}), on="dst")
        .with_columns(n_shared=pl.min_horizontal("n_a", "n_b").cast(pl.Int64()),
                      weight=(pl.col("shared") / (pl.col("mass_a") * pl.col("mass_b")).sqrt()).fill_nan(0.0)
                      .clip(0.0, 1.0).round(9))
        .filter((pl.col("n_shared") >= min_shared) & (pl.col("weight") >= min_weight))
        .sort("src", "dst"))
    return edges.select(EDGES.names())
