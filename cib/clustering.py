"""Cluster the account graph and score each cluster in [0, 1] with its components and an explanation."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import polars as pl

from cib.graph import to_igraph
from cib.schema import CLUSTERS, MEMBERS

__all__ = ["ClusterParams", "cluster_scores", "communities", "looks_generated"]

WEIGHTS = {"strength": 0.30, "synchrony": 0.20, "breadth": 0.25, "density": 0.10, "anomaly": 0.15}


@dataclass(frozen=True)
class ClusterParams:
    min_size: int = 3
    flag_threshold: float = 0.5
    resolution: float = 1.0
    seed: int = 42


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


_GENERATED = re.compile(r"^(?:[a-z]+[._]?\d{4,}|[a-z]{1,3}\d{5,}|user\d+|[a-z0-9]{12,}\d{2,})$", re.IGNORECASE)


def looks_generated(handle: str | None) -> bool:
    """Handles that look machine-made: name + long digit run, or long letter-digit soup.

    Examples
    --------
    >>> [looks_generated(h) for h in ("olena84729163", "kyiv_independent", "user5531", None)]
    [True, False, True, False]
    """
    return bool(handle) and bool(_GENERATED.match(handle or ""))


def cluster_scores(groups: list[list[str]], edges: pl.DataFrame, evidence: pl.DataFrame, posts: pl.DataFrame,
                   accounts: pl.DataFrame, params: ClusterParams,
                   shareable: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CLUSTERS and MEMBERS frames for `groups` (clusters below ``min_size`` are dropped).

    `shareable` (``account_uid, n_shareable``) counts each member's posts that touch an object anyone else
    touched too; synchrony is the share of those that were in lockstep with another member (CopyCatch-style,
    group level). Without it, all posts are the denominator.
    """
    rows: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    activity = posts.group_by("account_uid").agg(n=pl.len(), first=pl.col("created_at").min(),
                                                 last=pl.col("created_at").max())
    act = {r[0]: r[1:] for r in activity.iter_rows()}
    denominators = dict(shareable.iter_rows()) if shareable is not None else {u: v[0] for u, v in act.items()}
    acc = {r["uid"]: r for r in accounts.iter_rows(named=True)}
    for group in groups:
        if len(group) < params.min_size:
            continue
        cid = "c-" + hashlib.sha1("\n".join(group).encode()).hexdigest()[:12]  # noqa: S324 - an id
        inside = edges.filter(pl.col("src").is_in(group) & pl.col("dst").is_in(group))
        ev = evidence.filter(pl.col("src").is_in(group) & pl.col("dst").is_in(group))
        comp, facts = _components(group, inside, ev, denominators, acc)
        authentic = facts["authentic_frac"]
        score = sum(WEIGHTS[k] * comp[k] for k in WEIGHTS) * (1.0 - 0.6 * authentic)
        signals = sorted({s for lst in inside["signals"].to_list() for s in lst})
        platforms = sorted({uid.split(":", 1)[0] for uid in group})
        firsts = [act[u][1] for u in group if u in act]
        lasts = [act[u][2] for u in group if u in act]
        rows.append({
            "cluster_id": cid, "rank": 0, "score": round(score, 4), "flagged": round(score, 4) >= params.flag_threshold,
            "size": len(group), "platforms": platforms, "signals": signals,
            "components": json.dumps({**{k: round(v, 4) for k, v in comp.items()}, "authentic": round(authentic, 4)},
                                     sort_keys=True),
            "explanation": _explain(len(group), platforms, signals, inside, comp, facts),
            "n_posts": int(sum(act[u][0] for u in group if u in act)),
            "first_seen": min(firsts) if firsts else None, "last_seen": max(lasts) if lasts else None,
        })
        degree: dict[str, int] = dict.fromkeys(group, 0)
        strength: dict[str, float] = dict.fromkeys(group, 0.0)
        for src, dst, w in inside.select("src", "dst", "weight").iter_rows():
            degree[src] += 1
            degree[dst] += 1
            strength[src] += w
            strength[dst] += w
        members.extend({"cluster_id": cid, "account_uid": u, "degree": degree[u], "strength": round(strength[u], 4)}
                       for u in group)
    clusters = pl.DataFrame(rows, schema=CLUSTERS) if rows else pl.DataFrame(schema=CLUSTERS)
    clusters = clusters.sort(["score", "cluster_id"], descending=[True, False]).with_columns(
        rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64()))
    member_frame = pl.DataFrame(members, schema=MEMBERS) if members else pl.DataFrame(schema=MEMBERS)
    return clusters, member_frame.sort("cluster_id", "account_uid")


def _components(group: list[str], inside: pl.DataFrame, ev: pl.DataFrame, denominators: dict[str, int],
                acc: dict) -> tuple[dict, dict]:
    n = len(group)
    possible = n * (n - 1) / 2
    density = inside.height / possible if possible else 0.0
    strength = min(1.0, _num(inside["weight"].mean()) / 0.35)
    breadth = min(1.0, _num(inside["n_shared"].median()) / 6.0)
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
    authentic = sum(1 for u in group if (a := acc.get(u)) and (a["verified"] or (a["followers"] or 0) >= 50_000)) / n
    comp = {"strength": strength, "synchrony": synchrony, "breadth": breadth, "density": density,
            "anomaly": max(burst, generated)}
    gaps = inside["median_gap_s"].drop_nulls()
    facts = {"burst": burst, "generated": generated, "authentic_frac": authentic,
             "median_gap_s": _num(gaps.median()) if gaps.len() else None}
    return comp, facts


_SIGNAL_WORDS = {"co_url": "the same links", "co_repost": "the same reposts/forwards", "co_caption":
                 "the same or near-identical captions", "co_media": "the same media", "co_hashtags":
                 "the same hashtag sets", "co_sound": "the same TikTok sounds/effects"}


def _explain(n: int, platforms: list[str], signals: list[str], inside: pl.DataFrame, comp: dict, facts: dict) -> str:
    what = ", ".join(_SIGNAL_WORDS.get(s, s) for s in signals) or "the same objects"
    gap = facts["median_gap_s"]
    when = f"a median {_duration(gap)} apart" if gap is not None else "close in time"
    parts = [f"{n} accounts on {', '.join(platforms)} posted {what}, {when}",
             f"{comp['synchrony']:.0%} of a typical member's shared posts were in lockstep with another member",
             f"pairs share a median {int(_num(inside['n_shared'].median()))} items"]
    if facts["burst"] >= 0.3:
        parts.append(f"{facts['burst']:.0%} of the accounts were created within one week")
    if facts["generated"] >= 0.3:
        parts.append(f"{facts['generated']:.0%} of handles look machine-generated")
    if facts["authentic_frac"] > 0:
        parts.append(f"{facts['authentic_frac']:.0%} are verified or large established accounts (score lowered)")
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
