"""The scoring pipeline: posts -> actions -> co-action evidence -> edges -> clusters, with per-stage figures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from cib.clustering import ClusterParams, cluster_scores, communities
from cib.schema import EDGES, EVIDENCE
from cib.signals import actions, coded_edges, coded_pairs, decode_evidence, encode

__all__ = ["ScoreParams", "ScoreResult", "score"]

log = logging.getLogger("cib.score")


@dataclass(frozen=True)
class ScoreParams:
    """Precision-first defaults; every field is recorded in the workspace and the takedown manifest."""

    window_s: int = 3600
    max_neighbours: int = 25
    hot_min_accounts: int = 500
    hot_share: float = 0.01
    min_shared: int = 3
    min_weight: float = 0.15
    caption_threshold: float = 0.6
    min_caption_tokens: int = 4
    min_hashtags: int = 3
    pdq_distance: int = 31
    near_duplicates: bool = True
    evidence_per_edge: int = 20
    cluster: ClusterParams = field(default_factory=ClusterParams)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScoreResult:
    tables: dict[str, pl.DataFrame]
    stages: list[dict[str, Any]]
    capped_objects: int


def score(posts: pl.LazyFrame, accounts: pl.LazyFrame, params: ScoreParams | None = None,
          on_stage: Callable[[dict[str, Any]], None] | None = None) -> ScoreResult:
    """Run every stage; `on_stage` receives ``{"stage", "seconds", "rows", "rss_mb"}`` after each one."""
    params = params or ScoreParams()
    stages: list[dict[str, Any]] = []
    clock = time.perf_counter()

    def done(stage: str, rows: int) -> None:
        nonlocal clock
        now = time.perf_counter()
        entry = {"stage": stage, "seconds": round(now - clock, 3), "rows": rows, "rss_mb": _rss_mb()}
        stages.append(entry)
        if on_stage:
            on_stage(entry)
        clock = now

    acts = actions(posts, min_caption_tokens=params.min_caption_tokens, min_hashtags=params.min_hashtags,
                   caption_threshold=params.caption_threshold, pdq_distance=params.pdq_distance,
                   near_duplicates=params.near_duplicates, seed=params.cluster.seed)
    done("actions", acts.height)
    coded = encode(acts)
    pairs, capped = coded_pairs(coded, window_s=params.window_s, max_neighbours=params.max_neighbours,
                                hot_min_accounts=params.hot_min_accounts, hot_share=params.hot_share)
    if capped:
        log.info("%d hot objects were capped (touched by more than max(%d, %.0f%% of) accounts, or more than %d "
                 "co-actions inside one window)", capped, params.hot_min_accounts, 100 * params.hot_share,
                 params.max_neighbours)
    done("co-timing pairs", pairs.height)
    edges = coded_edges(coded, pairs, min_shared=params.min_shared, min_weight=params.min_weight)
    done("edges", edges.height)
    groups = communities(edges, params.cluster)
    done("clustering", len(groups))
    member_uids = sorted({u for g in groups for u in g})
    post_cols = posts.select("account_uid", "created_at").filter(pl.col("account_uid").is_in(member_uids)).collect()
    acc = accounts.filter(pl.col("uid").is_in(member_uids)).collect()
    codes = {uid: i for i, uid in enumerate(coded.accounts.to_list())}
    edge_codes = pl.DataFrame({"src": [codes[u] for u in edges["src"]], "dst": [codes[u] for u in edges["dst"]]},
                              schema={"src": pl.UInt32, "dst": pl.UInt32})
    kept = decode_evidence(coded, pairs.join(edge_codes, on=["src", "dst"], how="semi"))
    del pairs
    # Lockstep is judged on what a member shared with anyone at all: camouflage posts dilute nothing.
    shared_objects = acts.group_by("object").agg(n=pl.col("account_uid").n_unique()).filter(pl.col("n") >= 2)
    shareable = (acts.filter(pl.col("account_uid").is_in(member_uids))
                 .join(shared_objects, on="object", how="semi")
                 .group_by("account_uid").agg(n_shareable=pl.col("post_uid").n_unique()))
    clusters, members = cluster_scores(groups, edges, kept, post_cols, acc, params.cluster, shareable)
    evidence = (kept.sort(["src", "dst", "idf", "gap_s"], descending=[False, False, True, False])
                .group_by("src", "dst", maintain_order=True).head(params.evidence_per_edge)
                .select(EVIDENCE.names()))
    done("cluster scores", clusters.height)
    return ScoreResult(tables={"edges": edges.select(EDGES.names()), "evidence": evidence, "clusters": clusters,
                               "members": members}, stages=stages, capped_objects=capped)


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)
