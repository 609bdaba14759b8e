"""Cluster the account graph and score each cluster in [0, 1] with its components and an explanation."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
import polars as pl

from cib.graph import cluster_structure, to_igraph
from cib.schema import CLUSTERS, MEMBERS
from cib.signals.null import benjamini_hochberg

__all__ = ["ClusterParams", "cluster_id", "cluster_scores", "communities", "looks_generated", "rank_clusters",
           "required_core"]

@dataclass(frozen=True)
class ClusterParams:
    """Clustering and flagging settings.

    ``flag_threshold`` applies to the cluster score, ``min(1, -log10(q) / 100)`` where q is the cluster's
    Benjamini–Hochberg adjusted p-value: 0.1 is q = 1e-10, 1.0 is q ≤ 1e-100. ``min_core``: a flagged
    cluster's significant-edge subgraph must have a k-core of at least this k (or size - 1 if smaller), and
    ``cohesion``: of at least this share of the other members, ``k ≥ cohesion · (size - 1)`` (see
    `required_core`). ``account_priors`` lets
    account-level cues (verified, large or long-established accounts) mark a significant cluster as
    authentic coordination (syndication) instead of flagging it; with it off only behaviour counts.
    """

    min_size: int = 3
    min_core: int = 3
    cohesion: float = 0.25
    flag_threshold: float = 0.1
    resolution: float = 1.0
    seed: int = 42
    account_priors: bool = True
    established_followers: int = 50_000
    established_years: float = 2.0
    established_min_followers: int = 5_000


def required_core(size: int, params: ClusterParams) -> int:
    """The k-core a cluster of `size` members needs to be flagged: ``max(min(min_core, size - 1),
    ⌈cohesion · (size - 1)⌉)``.

    Chance pairings that pass the pair-level FDR form a sparse web: each account has a few of them, so the
    web's k-core is bounded by that chance degree however many accounts Leiden groups together (a wider
    window gives more chance pairings and larger webs, not denser ones). A group that acts together co-acts
    beyond chance with a share of the *whole* group, so its core grows with its size. On tuning seeds 1–20 at
    windows 3600–14400 s every campaign cluster had ``k_core / (size - 1) ≥ 0.5`` and every chance cluster
    ``≤ 0.15`` (see README, "How detection works").

    Examples
    --------
    >>> p = ClusterParams()
    >>> [required_core(n, p) for n in (3, 4, 10, 13, 14, 35, 59)]
    [2, 3, 3, 3, 4, 9, 15]
    """
    return max(min(params.min_core, size - 1), math.ceil(params.cohesion * (size - 1) - 1e-9))


def communities(edges: pl.DataFrame, params: ClusterParams) -> list[list[str]]:
    """Leiden communities (seeded) of the account graph, members sorted, largest first then by first uid."""
    if edges.height == 0:
        return []
    import leidenalg

    graph, names = to_igraph(edges)
    partition = leidenalg.find_partition(graph, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                         resolution_parameter=params.resolution, seed=params.seed, n_iterations=-1)
    groups = [sorted(names[v] for v in community) for community in partition if len(community) >= 2]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


_GENERATED = re.compile(r"^(?:[a-z]+[._]?\d{6,}|[a-z]{1,3}\d{5,}|user\d{4,}|[a-z0-9]*\d[a-z]\d[a-z0-9]*\d{2,})$", re.IGNORECASE)


def looks_generated(handle: str | None) -> bool:
    """Handles that look machine-made: name + six or more digits, ``user`` + digits, letter–digit soup.
    Birth years and short numbers (``maria_2001``, ``john1985``, ``olena_k88``) are ordinary human handles.
    Used only in the explanation, never to flag.

    Examples
    --------
    >>> [looks_generated(h) for h in ("olena84729163", "kyiv_independent", "user5531", None)]
    [True, False, True, False]
    >>> [looks_generated(h) for h in ("maria_2001", "john1985", "olena_k88", "sven.lind2020", "a8x7k2q99")]
    [False, False, False, False, True]
    """
    return bool(handle) and bool(_GENERATED.match(handle or ""))


def cluster_id(group: list[str]) -> str:
    """A cluster's id: a hash of its sorted members, so the same accounts always get the same id.

    >>> cluster_id(["x:a", "x:b", "x:c"])
    'c-fb0d60dbeb51'
    """
    return "c-" + hashlib.sha1("\n".join(group).encode()).hexdigest()[:12]  # noqa: S324 - an id


def rank_clusters(clusters: pl.DataFrame) -> pl.DataFrame:
    """CLUSTERS by score (highest first), then p-value, then id; ``rank`` 1, 2, …"""
    return clusters.sort(["score", "log10_p", "cluster_id"], descending=[True, False, False]).with_columns(
        rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64()))


def cluster_scores(groups: list[list[str]], edges: pl.DataFrame, evidence: pl.DataFrame, posts: pl.DataFrame,
                   accounts: pl.DataFrame, params: ClusterParams, shareable: pl.DataFrame | None = None, *,
                   chance: list[tuple[int, float, float]] | None = None, fdr: float = 0.01,
                   log_q: list[float] | None = None, total_volume: float | None = None,
                   now: datetime | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CLUSTERS and MEMBERS frames for `groups` (clusters below ``min_size`` are dropped).

    `chance` gives, per group, (observed co-posting events between members, events expected by chance,
    log10 p-value; see `cib.signals.null`); Benjamini–Hochberg runs over all clusters. A significant
    cluster is ``inauthentic`` (flagged) unless most members are established accounts publishing the same
    copy — syndication, the ``authentic`` class, never flagged. `shareable` (``account_uid, n_shareable``)
    counts each member's posts that touch an object anyone else touched too, for the lockstep share.

    Scoring one part of the graph at a time (`cib.engines.spark_cluster`: one connected component per task)
    gives the whole graph's figures when the three global ones are passed in: `log_q` per group (the
    Benjamini–Hochberg q over *all* clusters; default: over `groups`), `total_volume` (summed weighted degree
    of the whole graph; default: of `edges`) and `now` (the latest post of any clustered account; default: of
    `posts`).
    """
    rows: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    activity = posts.group_by("account_uid").agg(n=pl.len(), first=pl.col("created_at").min(),
                                                 last=pl.col("created_at").max())
    act = {r[0]: r[1:] for r in activity.iter_rows()}
    denominators = dict(shareable.iter_rows()) if shareable is not None else {u: v[0] for u, v in act.items()}
    acc = {r["uid"]: r for r in accounts.iter_rows(named=True)}
    if total_volume is None:
        total_volume = 2.0 * float(edges["weight"].sum()) if edges.height else 0.0
    kept = [(i, g) for i, g in enumerate(groups) if len(g) >= params.min_size]
    observed = np.array([chance[i][0] if chance else 0 for i, _ in kept], dtype=np.float64)
    expected = np.array([chance[i][1] if chance else 0.0 for i, _ in kept], dtype=np.float64)
    log_p = np.array([chance[i][2] if chance else 0.0 for i, _ in kept], dtype=np.float64)
    q = np.array([log_q[i] for i, _ in kept], dtype=np.float64) if log_q is not None else benjamini_hochberg(log_p)
    latest = now if now is not None else cast(datetime | None, posts["created_at"].max() if posts.height else None)
    for (_, group), obs, exp, lp, lq in zip(kept, observed, expected, log_p, q, strict=True):
        cid = cluster_id(group)
        inside = edges.filter(pl.col("src").is_in(group) & pl.col("dst").is_in(group))
        ev = evidence.filter(pl.col("src").is_in(group) & pl.col("dst").is_in(group))
        comp, facts = _components(group, inside, ev, denominators, acc, params, latest)
        structure, roles = cluster_structure(group, edges.filter(pl.col("src").is_in(group)
                                                                 | pl.col("dst").is_in(group)), ev, total_volume)
        score = round(min(1.0, max(0.0, -float(lq)) / 100.0), 4)  # the stored score is the one compared
        # Clusters are built from the pairs that looked best, so a cluster's own p-value is optimistic; a real
        # group is also cohesive: its core members co-act beyond chance with a share of the whole group.
        needed = required_core(len(group), params)
        dense = structure["k_core"] >= needed
        significant = bool(lq <= math.log10(fdr)) and score >= params.flag_threshold and dense
        authentic = significant and params.account_priors and facts["syndication"]
        cls = "authentic" if authentic else "inauthentic" if significant else "below-threshold"
        signals = sorted({s for lst in inside["signals"].to_list() for s in lst})
        platforms = sorted({uid.split(":", 1)[0] for uid in group})
        firsts = [act[u][1] for u in group if u in act]
        lasts = [act[u][2] for u in group if u in act]
        z = (obs - exp) / math.sqrt(exp) if exp > 0 else (math.inf if obs else 0.0)
        leaders = [acc[u]["handle"] or u for u in group if roles[u]["role"] == "leader" and u in acc]
        facts.update(observed=int(obs), expected=float(exp), log10_q=float(lq), leaders=leaders, cls=cls,
                     needed=needed, sparse=bool(lq <= math.log10(fdr)) and not dense, **structure)
        rows.append({
            "cluster_id": cid, "rank": 0, "score": round(score, 4), "flagged": cls == "inauthentic",
            "size": len(group), "platforms": platforms, "signals": signals,
            "components": json.dumps({k: round(v, 4) for k, v in comp.items()}, sort_keys=True),
            "explanation": _explain(len(group), platforms, signals, inside, comp, facts),
            "n_posts": int(sum(act[u][0] for u in group if u in act)),
            "first_seen": min(firsts) if firsts else None, "last_seen": max(lasts) if lasts else None,
            "cluster_class": cls, "observed": int(obs), "expected": round(float(exp), 6),
            "z_score": round(min(z, 1e9), 3), "log10_p": round(float(lp), 4), "log10_q": round(float(lq), 4),
            **structure,
        })
        degree: dict[str, int] = dict.fromkeys(group, 0)
        strength: dict[str, float] = dict.fromkeys(group, 0.0)
        for src, dst, w in inside.select("src", "dst", "weight").iter_rows():
            degree[src] += 1
            degree[dst] += 1
            strength[src] += w
            strength[dst] += w
        members.extend({"cluster_id": cid, "account_uid": u, "degree": degree[u], "strength": round(strength[u], 4),
                        **roles[u]} for u in group)
    clusters = rank_clusters(pl.DataFrame(rows, schema=CLUSTERS) if rows else pl.DataFrame(schema=CLUSTERS))
    member_frame = pl.DataFrame(members, schema=MEMBERS) if members else pl.DataFrame(schema=MEMBERS)
    return clusters, member_frame.sort("cluster_id", "account_uid")


def _components(group: list[str], inside: pl.DataFrame, ev: pl.DataFrame, denominators: dict[str, int],
                acc: dict, params: ClusterParams, now: datetime | None) -> tuple[dict, dict]:
    """Descriptive components (for the report, not for flagging) and the facts the explanation cites."""
    n = len(group)
    possible = n * (n - 1) / 2
    density = inside.height / possible if possible else 0.0
    involved = pl.concat([ev.select(a="src", p="post_a"), ev.select(a="dst", p="post_b")]).unique() \
        .group_by("a").agg(k=pl.len())
    inv = dict(involved.iter_rows())
    ratios = sorted(min(1.0, inv.get(u, 0) / denominators[u]) for u in group if denominators.get(u))
    synchrony = ratios[len(ratios) // 2] if ratios else 0.0
    created = sorted(a["created_at"] for u in group if (a := acc.get(u)) and a["created_at"] is not None)
    burst = 0.0
    if len(created) >= max(3, 0.6 * n):
        best = 0
        j = 0
        for i in range(len(created)):  # largest number of creations inside any 7-day window
            while created[i] - created[j] > timedelta(days=7):
                j += 1
            best = max(best, i - j + 1)
        burst = best / n if best >= 3 else 0.0
    handles = [acc[u]["handle"] for u in group if u in acc]
    generated = sum(looks_generated(h) for h in handles) / n
    established = sum(_established(acc.get(u), params, now) for u in group) / n
    reposts = (ev.filter(pl.col("signal").is_in(["co_repost", "co_sound"])).height / max(1, ev.height)
               if "signal" in ev.columns else 0.0)
    comp = {"density": density, "synchrony": synchrony, "breadth": min(1.0, _num(inside["n_shared"].median()) / 6.0),
            "established": established, "generated_handles": generated, "creation_burst": burst}
    gaps = inside["median_gap_s"].drop_nulls()
    facts = {"burst": burst, "generated": generated, "authentic_frac": established,
             "syndication": established >= 0.5 and reposts < 0.5,
             "median_gap_s": _num(gaps.median()) if gaps.len() else None}
    return comp, facts


def _established(account: dict | None, params: ClusterParams, now: datetime | None) -> bool:
    """Verified, large, or long-established with a real audience: the account-level prior for syndication."""
    if not account:
        return False
    followers = account["followers"] or 0
    if account["verified"] or followers >= params.established_followers:
        return True
    created = account["created_at"]
    old = created is not None and now is not None and (now - created).days >= 365.25 * params.established_years
    return old and followers >= params.established_min_followers


_SIGNAL_WORDS = {"co_url": "the same links", "co_repost": "the same reposts/forwards", "co_caption":
                 "the same or near-identical captions", "co_media": "the same media", "co_hashtags":
                 "the same hashtag sets", "co_sound": "the same TikTok sounds/effects",
                 "co_caption_xlingual": "the same narrative captioned in other languages"}


def _explain(n: int, platforms: list[str], signals: list[str], inside: pl.DataFrame, comp: dict, facts: dict) -> str:
    what = ", ".join(_SIGNAL_WORDS.get(s, s) for s in signals) or "the same objects"
    gap = facts["median_gap_s"]
    when = f"a median {_duration(gap)} apart" if gap is not None else "close in time"
    parts = [f"{n} accounts on {', '.join(platforms)} posted {what}, {when}",
             f"expected by chance: {facts['expected']:.1f} shared posts; observed {facts['observed']}"
             f" (FDR-adjusted p = {10 ** facts['log10_q']:.1g})",
             f"{comp['synchrony']:.0%} of a typical member's shared posts were in lockstep with another member",
             f"pairs share a median {int(_num(inside['n_shared'].median()))} items"]
    if facts["burst"] >= 0.3:
        parts.append(f"{facts['burst']:.0%} of the accounts were created within one week")
    if facts["generated"] >= 0.3:
        parts.append(f"{facts['generated']:.0%} of handles look machine-generated")
    if facts["authentic_frac"] > 0:
        parts.append(f"{facts['authentic_frac']:.0%} are verified, large or long-established accounts")
    if facts["cls"] == "authentic":
        parts.append("classed as authentic coordination (syndication): not flagged, left out of takedown exports")
    parts.append(f"k-core {facts['k_core']}, conductance {facts['conductance']:.2f}")
    if facts["sparse"]:
        parts.append(f"not flagged: a k-core of {facts['needed']} is needed for {n} accounts (a sparse web of pairwise "
                     "coincidences, not a group acting together)")
    if facts["leaders"]:
        parts.append("posted first most often: " + ", ".join(sorted(facts["leaders"])[:5]))
    return "; ".join(parts) + "."


def _num(value: Any) -> float:
    """A polars scalar statistic as a float (None counts as 0)."""
    return float(cast(float, value)) if value is not None else 0.0


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
