"""The scoring pipeline: posts -> actions -> co-action evidence -> edges -> clusters, with per-stage figures."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from cib.clustering import ClusterParams, cluster_scores, communities
from cib.schema import EDGES, EVIDENCE
from cib.signals import Coded, actions, coded_edges, coded_pairs, decode_evidence, encode
from cib.signals.null import TIERS, Null, benjamini_hochberg, fit_null, tiered
from cib.signals.xlingual import THRESHOLD as XLINGUAL_THRESHOLD

__all__ = ["Clusterer", "Clustering", "ScoreParams", "ScoreResult", "StageTimer", "cluster_chance", "cluster_on_driver",
           "score", "score_pairs", "shareable_posts", "xlingual_extra"]

log = logging.getLogger("cib.score")


@dataclass(frozen=True)
class ScoreParams:
    """Precision-first defaults; every field is recorded in the workspace and the takedown manifest."""

    window_s: int = 3600
    max_neighbours: int = 25
    hot_min_accounts: int = 500
    hot_share: float = 0.01
    min_shared: int = 3
    min_weight: float = 0.0
    fdr: float = 0.01  # Benjamini-Hochberg false discovery rate over clusters
    pair_fdr: float = 0.2  # Benjamini-Hochberg false discovery rate over candidate pairs (edges to cluster on)
    caption_threshold: float = 0.6
    min_caption_tokens: int = 4
    min_hashtags: int = 3
    pdq_distance: int = 31
    near_duplicates: bool = True
    evidence_per_edge: int = 20
    xlingual: bool = False  # co_caption_xlingual (cib.signals.xlingual): needs `pip install 'cib[xlingual]'`
    xlingual_threshold: float = XLINGUAL_THRESHOLD  # how it was chosen: cib.signals.xlingual
    cluster: ClusterParams = field(default_factory=ClusterParams)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScoreResult:
    tables: dict[str, pl.DataFrame]
    stages: list[dict[str, Any]]
    capped_objects: int
    xlingual: dict[str, Any] | None = None  # co_caption_xlingual figures when it ran (accounts, captions, embedded)


def score(posts: pl.LazyFrame, accounts: pl.LazyFrame, params: ScoreParams | None = None,
          on_stage: Callable[[dict[str, Any]], None] | None = None,
          caption_cache: Callable[[list[str]], MutableMapping[str, np.ndarray]] | None = None,
          cluster: Clusterer | None = None) -> ScoreResult:
    """Run every stage; `on_stage` receives ``{"stage", "seconds", "rows", "rss_mb"}`` after each one.

    With ``params.xlingual``, `caption_cache` opens the embedding cache for the captions it is given (default:
    an in-memory one for this run). `cluster`: see `score_pairs`."""
    params = params or ScoreParams()
    timer = StageTimer(on_stage)
    acts = actions(posts, min_caption_tokens=params.min_caption_tokens, min_hashtags=params.min_hashtags,
                   caption_threshold=params.caption_threshold, pdq_distance=params.pdq_distance,
                   near_duplicates=params.near_duplicates, seed=params.cluster.seed)
    timer.done("actions", acts.height)
    coded, pairs, capped = _coded_pairs(acts, params)
    extend = _xlingual_extension(posts, acts, params, caption_cache, timer) if params.xlingual else None
    del acts

    def members(uids: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        return (posts.select("account_uid", "created_at").filter(pl.col("account_uid").is_in(uids)).collect(),
                accounts.filter(pl.col("uid").is_in(uids)).collect())

    return score_pairs(coded, pairs, capped, members, params, timer, extend=extend, cluster=cluster)


def _coded_pairs(acts: pl.DataFrame, params: ScoreParams) -> tuple[Coded, pl.DataFrame, int]:
    """Integer-coded actions and their co-timing pairs (`cib.signals.coded_pairs`) under `params`."""
    coded = encode(acts)
    pairs, capped = coded_pairs(coded, window_s=params.window_s, max_neighbours=params.max_neighbours,
                                hot_min_accounts=params.hot_min_accounts, hot_share=params.hot_share)
    return coded, pairs, capped


class StageTimer:
    """Per-stage figures ``{"stage", "seconds", "rows", "rss_mb"}``, passed to `on_stage` as each stage ends."""

    def __init__(self, on_stage: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.stages: list[dict[str, Any]] = []
        self.on_stage = on_stage
        self.clock = time.perf_counter()

    def done(self, stage: str, rows: int) -> None:
        now = time.perf_counter()
        entry = {"stage": stage, "seconds": round(now - self.clock, 3), "rows": rows, "rss_mb": _rss_mb()}
        self.stages.append(entry)
        if self.on_stage:
            self.on_stage(entry)
        self.clock = now


Extension = Callable[[pl.Series], tuple[Coded, pl.DataFrame, int, dict[str, Any]]]


def score_pairs(coded: Coded, pairs: pl.DataFrame, capped: int,
                members: Callable[[list[str]], tuple[pl.DataFrame, pl.DataFrame]], params: ScoreParams,
                timer: StageTimer, *, extend: Extension | None = None, cluster: Clusterer | None = None,
                ) -> ScoreResult:
    """Everything after co-timing, shared by both engines (cib.engines): null model, pair significance,
    edges, clustering, cluster scores. `pairs` are `coded_pairs` rows in its canonical order; `members(uids)`
    returns those accounts' ``account_uid, created_at`` posts and their ACCOUNTS rows. `extend` (the
    co_caption_xlingual step) takes the accounts of significant pairs and returns the re-coded actions and
    pairs with its actions added, plus its figures. `cluster` turns the edges into CLUSTERS and MEMBERS
    (default `cluster_on_driver`)."""
    if capped:
        log.info("%d hot objects were capped (touched by more than max(%d, %.0f%% of) accounts, or more than %d "
                 "co-actions inside one window)", capped, params.hot_min_accounts, 100 * params.hot_share,
                 params.max_neighbours)
    timer.done("co-timing pairs", pairs.height)
    null, tested, significant = _null(coded, pairs, params)
    timer.done("null model", tested.height)
    xlingual = None
    if extend is not None:  # the accounts of significant pairs: their captions become one more signal, then re-test
        candidates = coded.accounts.gather(pl.concat([significant["src"], significant["dst"]]).unique().sort()
                                           .cast(pl.Int64))
        coded, pairs, capped, xlingual = extend(candidates)
        null, tested, significant = _null(coded, pairs, params)
        timer.done("pairs + null model", tested.height)
    edges = coded_edges(coded, pairs, min_shared=params.min_shared, min_weight=params.min_weight,
                        significance=significant)
    timer.done("edges", edges.height)
    codes = {uid: i for i, uid in enumerate(coded.accounts.to_list())}
    edge_codes = pl.DataFrame({"src": [codes[u] for u in edges["src"]], "dst": [codes[u] for u in edges["dst"]]},
                              schema={"src": pl.UInt32, "dst": pl.UInt32})
    kept_codes = pairs.join(edge_codes, on=["src", "dst"], how="semi")
    kept = decode_evidence(coded, kept_codes.with_columns(expected=null.per_object(kept_codes)))
    del pairs
    clusters, members_table = (cluster or cluster_on_driver)(
        Clustering(edges, kept, coded, tested, null, members, params, timer))
    evidence = (kept.sort(["src", "dst", "idf", "gap_s"], descending=[False, False, True, False])
                .group_by("src", "dst", maintain_order=True).head(params.evidence_per_edge)
                .select(EVIDENCE.names()))
    timer.done("cluster scores", clusters.height)
    return ScoreResult(tables={"edges": edges.select(EDGES.names()), "evidence": evidence, "clusters": clusters,
                               "members": members_table}, stages=timer.stages, capped_objects=capped,
                       xlingual=xlingual)


@dataclass(frozen=True)
class Clustering:
    """What clustering and cluster scoring start from: the EDGES (uids), the evidence rows of every edge
    (uids, with the null model's per-co-action chance), the coded actions, every tested pair (codes,
    `pair_significance`), the fitted null model and ``members(uids)`` (their posts and ACCOUNTS rows)."""

    edges: pl.DataFrame
    evidence: pl.DataFrame
    coded: Coded
    tested: pl.DataFrame
    null: Null
    members: Callable[[list[str]], tuple[pl.DataFrame, pl.DataFrame]]
    params: ScoreParams
    timer: StageTimer


Clusterer = Callable[[Clustering], tuple[pl.DataFrame, pl.DataFrame]]


def cluster_on_driver(c: Clustering) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Leiden communities of the whole graph, their chance under the null model, CLUSTERS and MEMBERS: in this
    process (both engines, when the edges fit the driver; `cib.engines.spark_cluster` otherwise)."""
    groups = communities(c.edges, c.params.cluster)
    c.timer.done("clustering", len(groups))
    member_uids = sorted({u for g in groups for u in g})
    post_cols, acc = c.members(member_uids)
    codes = {uid: i for i, uid in enumerate(c.coded.accounts.to_list())}
    chance = [cluster_chance(np.array(sorted(codes[u] for u in group), dtype=np.int64), c.tested, c.null)
              for group in groups]
    shareable = shareable_posts(c.coded, pl.Series([codes[u] for u in member_uids], dtype=pl.UInt32))
    return cluster_scores(groups, c.edges, c.evidence, post_cols, acc, c.params.cluster, shareable, chance=chance,
                          fdr=c.params.fdr)


def shareable_posts(coded: Coded, member_codes: pl.Series) -> pl.DataFrame:
    """``account_uid, n_shareable``: per member (codes), its posts touching an object another account touched.
    Lockstep is judged on what a member shared with anyone at all: camouflage posts dilute nothing."""
    shared_objects = coded.actions.group_by("obj").agg(n=pl.col("acc").n_unique()).filter(pl.col("n") >= 2)
    return (coded.actions.filter(pl.col("acc").is_in(member_codes.implode()))
            .join(shared_objects, on="obj", how="semi")
            .group_by("acc").agg(n_shareable=pl.col("post").n_unique())
            .select(account_uid=pl.col("acc").cast(pl.Int64).map_batches(lambda s: coded.accounts.gather(s),
                                                                         return_dtype=pl.String),
                    n_shareable=pl.col("n_shareable")))


def _null(coded: Coded, pairs: pl.DataFrame, params: ScoreParams) -> tuple[Null, pl.DataFrame, pl.DataFrame]:
    """The fitted null model, every candidate pair tested, and the significant ones (pair FDR)."""
    hot_limit = max(params.hot_min_accounts, params.hot_share * coded.accounts.len())
    null = fit_null(coded.actions, coded.accounts.len(), window_s=params.window_s, hot_limit=hot_limit, pairs=pairs)
    tested = pair_significance(pairs, null)
    return null, tested, tested.filter(pl.col("log10_q") <= math.log10(params.pair_fdr))


def _xlingual_extension(posts: pl.LazyFrame, acts: pl.DataFrame, params: ScoreParams,
                        caption_cache: Callable[[list[str]], MutableMapping[str, np.ndarray]] | None,
                        timer: StageTimer) -> Extension:
    def extend(candidates: pl.Series) -> tuple[Coded, pl.DataFrame, int, dict[str, Any]]:
        extra, stats = xlingual_extra(posts, candidates, params, caption_cache, timer)
        return (*_coded_pairs(pl.concat([acts, extra.select(acts.columns)]), params), stats)
    return extend


def xlingual_extra(posts: pl.LazyFrame, candidates: pl.Series, params: ScoreParams,
                   caption_cache: Callable[[list[str]], MutableMapping[str, np.ndarray]] | None,
                   timer: StageTimer) -> tuple[pl.DataFrame, dict[str, Any]]:
    """co_caption_xlingual ACTIONS of the `candidates` (accounts in a significant pair already) and their
    figures; `posts` needs ``account_uid, uid, created_at, repost_of, text_norm`` of those accounts at least
    (the Spark engine collects just those). Both engines add them to their actions and pair again."""
    from cib.signals.xlingual import xlingual_actions

    texts = (posts.filter(pl.col("account_uid").is_in(candidates.implode())).select(pl.col("text_norm").cast(pl.String))
             .drop_nulls().unique().collect()["text_norm"].to_list())
    cache = caption_cache(texts) if caption_cache else {}
    extra, stats = xlingual_actions(posts, candidates, min_caption_tokens=params.min_caption_tokens,
                                    threshold=params.xlingual_threshold, cache=cache)
    save = getattr(cache, "save", None)
    if callable(save):
        save()
    log.info("co_caption_xlingual: %d distinct captions of %d candidate accounts, %d embedded now, %d from the "
             "cache, %d in a cross-lingual group", stats["captions"], stats["accounts"], stats["embedded"],
             stats["captions"] - stats["embedded"], stats["grouped"])
    timer.done("xlingual captions", stats["captions"])
    return extra, stats


def pair_significance(pairs: pl.DataFrame, null: Null) -> pl.DataFrame:
    """Every candidate pair (codes): ``src, dst, observed, expected, log10_p, log10_q`` and the observed
    counts per popularity tier ``o0 … o4``.

    ``observed`` counts distinct co-posting events (posts of the less active side) in the popularity tier
    that gives the smallest p-value, ``expected`` the null model's λ there (λ counts objects, and one post can
    touch several, so the test errs towards "chance"); ``log10_p`` is Bonferroni-corrected for the tiers.
    """
    tiers = [f"o{i}" for i in range(len(TIERS))]
    binned = pairs.join(null.objects.select("obj", "n"), on="obj", how="left").with_columns(
        b=pl.col("n").cast(pl.Float64).log(2).floor().cast(pl.Int64))
    observed = (binned.group_by("src", "dst").agg(
        [pl.min_horizontal(pl.col("post_a").filter(pl.col("b") < t).n_unique(),
                           pl.col("post_b").filter(pl.col("b") < t).n_unique()).alias(name)
         for name, t in zip(tiers, TIERS, strict=True)])
        .sort("src", "dst"))
    counts = observed.select(tiers).to_numpy().astype(np.float64).reshape(-1, len(TIERS))
    lam = null.expected(observed["src"].to_numpy().astype(np.int64), observed["dst"].to_numpy().astype(np.int64))
    obs, exp, log_p = tiered(counts, lam)
    return observed.with_columns(
        observed=pl.Series(obs.astype(np.int64)), expected=pl.Series(exp), log10_p=pl.Series(log_p),
        log10_q=pl.Series(benjamini_hochberg(log_p)))


def cluster_chance(member_codes: np.ndarray, tested: pl.DataFrame, null: Null) -> tuple[int, float, float]:
    """(observed co-posting events between members, events expected by chance, log10 p) in the best tier;
    `member_codes` sorted account codes of one group."""
    wanted = pl.Series(member_codes, dtype=pl.UInt32)
    inside = tested.filter(pl.col("src").is_in(wanted) & pl.col("dst").is_in(wanted))
    counts = inside.select([f"o{i}" for i in range(len(TIERS))]).sum().to_numpy().astype(np.float64)
    obs, exp, log_p = tiered(counts.reshape(1, -1), null.expected_within(member_codes)[None, :])
    return int(obs[0]), float(exp[0]), float(log_p[0])


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)
