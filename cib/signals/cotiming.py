"""Co-posting timing: which accounts acted on the same object within a time window.

Sorted-neighbourhood pairing instead of all pairs: actions are sorted by (object, time) and each action is
paired with at most `max_neighbours` following actions on the same object that lie within `window_s`. A
bot farm's burst is then paired in full, while a viral object shared by thousands costs O(n · k), not
O(n²); objects whose neighbourhood was cut are counted and reported (``capped_objects``).

Pairs are weighted by object rarity (IDF over accounts) and normalised by each account's own IDF mass, so
news junkies, syndication and power users who touch many popular objects score low.

Internally accounts, posts and objects are integer codes assigned in sorted order (so code order is uid
order): millions of candidate pairs stay a few hundred MB, and strings are restored only for what survives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from cib.schema import EDGES, EVIDENCE

__all__ = ["PAIRS", "PAIR_ORDER", "Coded", "closest_pairs", "coded_edges", "coded_pairs", "copairs", "decode_evidence",
           "encode", "encoded_stats", "neighbour_pairs", "pair_edges"]


@dataclass
class Coded:
    """Actions as integer codes plus the tables to decode them."""

    actions: pl.DataFrame  # acc, post, obj (UInt32), ts (Int64), sig (UInt8)
    accounts: pl.Series  # code -> account uid
    posts: pl.Series  # code -> post uid
    objects: pl.Series  # code -> object key
    signals: list[str]
    idf: pl.DataFrame  # obj -> idf
    mass: pl.DataFrame  # acc -> IDF mass of all the account's objects


def encode(actions: pl.DataFrame) -> Coded:
    """Integer-code `actions` (ACTIONS schema) and compute object IDF and account mass."""
    accounts = actions["account_uid"].unique().sort()
    posts = actions["post_uid"].unique().sort()
    signals = sorted(set(actions["signal"].unique().to_list()))
    object_keys = actions["object"].unique().sort()
    objects = pl.DataFrame({"object": object_keys}).with_row_index("obj")
    coded = (actions
             .join(pl.DataFrame({"account_uid": accounts}).with_row_index("acc"), on="account_uid")
             .join(pl.DataFrame({"post_uid": posts}).with_row_index("post"), on="post_uid")
             .join(objects, on="object")
             .join(pl.DataFrame({"signal": signals}, schema={"signal": pl.String()}).with_row_index("sig")
                   .with_columns(pl.col("sig").cast(pl.UInt8)),
                   on="signal")
             .select("acc", "post", "obj", "ts", "sig"))
    return encoded_stats(coded, accounts, posts, object_keys, signals)


def encoded_stats(coded: pl.DataFrame, accounts: pl.Series, posts: pl.Series, objects: pl.Series,
                  signals: list[str]) -> Coded:
    """`Coded` from already coded actions and the code tables (code = position in the sorted table): adds the
    object IDF and the account IDF mass. Both engines end here (the Spark engine codes in Spark)."""
    n_accounts = max(accounts.len(), 2)
    idf = (coded.group_by("obj").agg(n=pl.col("acc").n_unique())
           .select("obj", "n", idf=(math.log(n_accounts) - pl.col("n").cast(pl.Float64).log()).clip(0.0)))
    mass = (coded.unique(["acc", "obj"]).join(idf, on="obj")
            .group_by("acc").agg(mass=pl.col("idf").sort().sum()))  # sorted: sums independent of row order
    return Coded(actions=coded, accounts=accounts, posts=posts, objects=objects, signals=signals, idf=idf.drop("n"),
                 mass=mass)


def coded_pairs(coded: Coded, *, window_s: int = 3600, max_neighbours: int = 25, per_object: str = "closest",
                hot_min_accounts: int | None = None, hot_share: float = 0.01) -> tuple[pl.DataFrame, int]:
    """Co-actions ``(src, dst, obj, post_a, post_b, gap_s, sig, src_first)`` as codes, ``src < dst``
    (``src_first``: src acted first — who leads, who follows), and the number
    of objects that were capped: neighbourhoods cut at `max_neighbours`, plus *hot* objects — touched by more
    than ``max(hot_min_accounts, hot_share × accounts)`` accounts — which are not paired at all (their IDF
    weight is near zero, and pairing them is most of the cost and most of the false positives).

    ``per_object="closest"`` keeps one co-action per (pair, object), the closest in time (cib's default: an
    object counts once); ``"all"`` keeps every pair of posts, as coordination-network-toolkit counts them.
    """
    popularity = coded.actions.group_by("obj").agg(n=pl.col("acc").n_unique())
    hot_limit = max(hot_min_accounts, hot_share * coded.accounts.len()) if hot_min_accounts else None
    hot = popularity.filter(pl.col("n") > hot_limit).height if hot_limit else 0
    keep = popularity.filter((pl.col("n") >= 2) & (pl.col("n") <= hot_limit if hot_limit else pl.lit(True)))
    acts = coded.actions.join(keep.select("obj"), on="obj", how="semi")
    pairs, capped = neighbour_pairs(acts, window_s=window_s, max_neighbours=max_neighbours)
    if per_object == "all":
        return pairs.unique(["src", "dst", "post_a", "post_b"]).sort("src", "dst", "post_a", "post_b"), capped + hot
    return closest_pairs(pairs).sort(PAIR_ORDER), capped + hot


PAIRS = pl.Schema({"src": pl.UInt32, "dst": pl.UInt32, "obj": pl.UInt32, "post_a": pl.UInt32, "post_b": pl.UInt32,
                   "gap_s": pl.Int32, "sig": pl.UInt8, "src_first": pl.Boolean})
PAIR_ORDER = ["src", "dst", "obj", "gap_s", "post_a", "post_b"]  # the canonical row order of `coded_pairs`


def neighbour_pairs(acts: pl.DataFrame, *, window_s: int = 3600, max_neighbours: int = 25) -> tuple[pl.DataFrame, int]:
    """The per-object co-timing kernel: every action paired with its next `max_neighbours` actions on the same
    object within `window_s` (PAIRS, all of them), and how many objects hit the cut.

    `acts` (coded ``acc, post, obj, ts, sig``) must hold *every* action of each object it holds: objects are
    independent, so any split of the objects (the Spark engine's hash buckets) gives the same pairs.

    >>> acts = pl.DataFrame({"acc": [0, 1, 2], "post": [0, 1, 2], "obj": [5, 5, 5], "ts": [0, 30, 9000],
    ...     "sig": [0, 0, 0]}, schema={"acc": pl.UInt32, "post": pl.UInt32, "obj": pl.UInt32, "ts": pl.Int64,
    ...     "sig": pl.UInt8})
    >>> pairs, capped = neighbour_pairs(acts, window_s=60)
    >>> pairs.select("src", "dst", "gap_s").rows(), capped
    ([(0, 1, 30)], 0)
    """
    acts = acts.sort("obj", "ts", "acc", "post")
    found = []
    capped = 0
    for k in range(1, max_neighbours + 1):
        shifted = acts.select(
            "obj", "sig", "ts", a=pl.col("acc"), pa=pl.col("post"), b=pl.col("acc").shift(-k),
            pb=pl.col("post").shift(-k), tb=pl.col("ts").shift(-k), ob=pl.col("obj").shift(-k),
        ).filter((pl.col("ob") == pl.col("obj")) & ((pl.col("tb") - pl.col("ts")) <= window_s))
        if shifted.height == 0:
            break
        if k == max_neighbours:
            capped += shifted["obj"].n_unique()
        found.append(shifted.filter(pl.col("a") != pl.col("b")).select(
            src=pl.min_horizontal("a", "b"), dst=pl.max_horizontal("a", "b"), obj="obj",
            post_a=pl.when(pl.col("a") < pl.col("b")).then("pa").otherwise("pb"),
            post_b=pl.when(pl.col("a") < pl.col("b")).then("pb").otherwise("pa"),
            gap_s=(pl.col("tb") - pl.col("ts")).cast(pl.Int32), sig="sig", src_first=pl.col("a") < pl.col("b")))
    if not found:
        return pl.DataFrame(schema=PAIRS), capped
    return pl.concat(found).select([pl.col(c).cast(t) for c, t in PAIRS.items()]), capped


def closest_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """One co-action per (pair, object), the closest in time (ties: smallest posts); per object, so it may run
    on any split of the objects."""
    return pairs.sort(PAIR_ORDER).unique(["src", "dst", "obj"], keep="first", maintain_order=True)


def coded_edges(coded: Coded, pairs: pl.DataFrame, *, min_shared: int = 3, min_weight: float = 0.15,
                evidence_per_edge: int = 5, significance: pl.DataFrame | None = None) -> pl.DataFrame:
    """Account–account EDGES from coded co-actions.

    ``n_shared`` counts distinct co-posting events (posts of the less active side), so one post that shares
    a URL, a caption and a hashtag set with another counts once. ``weight`` is the IDF mass of the shared
    objects over the geometric mean of both accounts' IDF mass, in [0, 1].

    `significance` (coded ``src, dst, expected, log10_p``, see `cib.signals.null`) keeps only those pairs and
    carries their chance expectation onto the edges; without it both columns are null.
    """
    if pairs.height == 0:
        return pl.DataFrame(schema=EDGES)
    if significance is not None:
        pairs = pairs.join(significance.select("src", "dst"), on=["src", "dst"], how="semi")
    scored = pairs.join(coded.idf, on="obj")
    agg = (scored.group_by("src", "dst").agg(
        shared=pl.col("idf").sort().sum(),
        n_a=pl.col("post_a").n_unique(), n_b=pl.col("post_b").n_unique(),
        sigs=pl.col("sig").unique().sort(),
        min_gap_s=pl.col("gap_s").min().cast(pl.Float64), median_gap_s=pl.col("gap_s").median().cast(pl.Float64),
    )
        .join(coded.mass.rename({"acc": "src", "mass": "mass_a"}), on="src")
        .join(coded.mass.rename({"acc": "dst", "mass": "mass_b"}), on="dst")
        .with_columns(n_shared=pl.min_horizontal("n_a", "n_b").cast(pl.Int64()),
                      weight=(pl.col("shared") / (pl.col("mass_a") * pl.col("mass_b")).sqrt()).fill_nan(0.0)
                      .clip(0.0, 1.0).round(9))
        .filter((pl.col("n_shared") >= min_shared) & (pl.col("weight") >= min_weight)))
    if agg.height == 0:
        return pl.DataFrame(schema=EDGES)
    evidence = (decode_evidence(coded, scored.join(agg.select("src", "dst"), on=["src", "dst"], how="semi"),
                                codes=True)
                .sort(["src", "dst", "idf", "gap_s", "post_a", "post_b"], descending=[False, False, True, False, False,
                                                                                      False])
                .with_columns(pair=pl.concat_str("post_a", pl.lit("|"), "post_b"))
                .unique(["src", "dst", "pair"], keep="first", maintain_order=True)
                .group_by("src", "dst", maintain_order=True).agg(evidence=pl.col("pair").head(evidence_per_edge)))
    signal_names = pl.Series(coded.signals)
    if significance is not None:
        agg = agg.join(significance.select("src", "dst", "expected", "log10_p"), on=["src", "dst"], how="left")
    else:
        agg = agg.with_columns(expected=pl.lit(None, pl.Float64), log10_p=pl.lit(None, pl.Float64))
    edges = (agg.join(evidence, on=["src", "dst"])
             .with_columns(signals=pl.col("sigs").list.eval(pl.element().cast(pl.Int64))
                           .map_elements(lambda codes: signal_names.gather(codes).sort(),
                                         return_dtype=pl.List(pl.String)),
                           src=_decode(pl.col("src"), coded.accounts), dst=_decode(pl.col("dst"), coded.accounts))
             .sort("src", "dst"))
    return edges.select(EDGES.names())


def decode_evidence(coded: Coded, pairs: pl.DataFrame, *, codes: bool = False) -> pl.DataFrame:
    """Coded co-actions as EVIDENCE rows (uids and signal names); with `codes`, src/dst stay codes."""
    frame = pairs.join(coded.idf, on="obj", how="left") if "idf" not in pairs.columns else pairs
    for column, dtype in (("src_first", pl.Boolean()), ("expected", pl.Float64())):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(column))
    out = frame.with_columns(
        post_a=_decode(pl.col("post_a"), coded.posts), post_b=_decode(pl.col("post_b"), coded.posts),
        signal=pl.col("sig").cast(pl.Int64).map_elements(lambda i: coded.signals[i], return_dtype=pl.String),
        gap_s=pl.col("gap_s").cast(pl.Float64), object=_decode(pl.col("obj"), coded.objects))
    if not codes:
        out = out.with_columns(src=_decode(pl.col("src"), coded.accounts), dst=_decode(pl.col("dst"), coded.accounts))
    return out.select(EVIDENCE.names())


def _decode(codes: pl.Expr, table: pl.Series) -> pl.Expr:
    return codes.cast(pl.Int64).map_batches(lambda s: table.gather(s), return_dtype=pl.String)


def copairs(actions: pl.DataFrame, *, window_s: int = 3600, max_neighbours: int = 25,
            per_object: str = "closest") -> tuple[pl.DataFrame, int]:
    """`coded_pairs` with uids: EVIDENCE rows ``(src, dst, signal, object, post_a, post_b, gap_s, idf)``.

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
    coded = encode(actions)
    pairs, capped = coded_pairs(coded, window_s=window_s, max_neighbours=max_neighbours, per_object=per_object)
    return decode_evidence(coded, pairs), capped


def pair_edges(actions: pl.DataFrame, *, window_s: int = 3600, max_neighbours: int = 25, min_shared: int = 3,
               min_weight: float = 0.15, evidence_per_edge: int = 5,
               hot_min_accounts: int | None = None) -> pl.DataFrame:
    """EDGES straight from actions (encode → pairs → edges)."""
    if actions.height == 0:
        return pl.DataFrame(schema=EDGES)
    coded = encode(actions)
    pairs, _ = coded_pairs(coded, window_s=window_s, max_neighbours=max_neighbours,
                           hot_min_accounts=hot_min_accounts)
    return coded_edges(coded, pairs, min_shared=min_shared, min_weight=min_weight,
                       evidence_per_edge=evidence_per_edge)
