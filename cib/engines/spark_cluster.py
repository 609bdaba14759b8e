"""Clustering and cluster scoring in Spark, for significant-edge graphs larger than the driver should cluster.

`cib.scoring.cluster_on_driver` clusters the whole edge list with Leiden in one process. Above
``SparkParams.driver_edges`` edges the Spark engine runs this instead, with the same code per part:

1. `connected_components` of the significant-edge graph in DataFrames (large-star / small-star rounds of
   joins and aggregations, a few rounds where plain label propagation needs as many as the graph's
   diameter): each component is labelled with its smallest account code, so the result is deterministic
   without any seed; the lineage is cut with ``localCheckpoint`` every few rounds.
2. Pass 1, ``groupBy(component).applyInArrow``: per component, `cib.clustering.communities` (Leiden, same
   seed) with the resolution scaled by the component's share of the total edge weight — RBConfiguration's
   quality is a sum over communities whose null term uses the graph's total weight ``m``, so
   ``γ · m_c / m`` on a component is the whole graph's objective restricted to it, and Leiden never joins
   two components in one community — and `cib.scoring.cluster_chance` of each group (null-model vectors of
   the component's accounts shipped with them).
3. On the driver, one row per cluster: the Benjamini–Hochberg q over *all* clusters, the latest post of any
   clustered account (``now``) and the total edge volume; broadcast.
4. Pass 2, same grouping: the same groups again (Leiden is seeded), then `cib.clustering.cluster_scores`
   with the three global figures; CLUSTERS and MEMBERS come back as Arrow IPC and are ranked on the driver.

Guarantee (tested on the generated scenario and the shared samples with the limit forced to 0): the same
clusters (ids, members, every column) and byte-identical takedown exports as the driver path. Leiden's seeded
search visits a component's vertices in another order than the whole graph's, so on other data a tie between
two equally good partitions may be broken differently; the objective is the same, and every cluster is
scored and flagged by the same rules.

What stays on the driver: the edge list, the candidate pairs and the null model (`cib.scoring.score_pairs`
computes them there), which it ships to Spark with each edge-list account's null-model vector, and one row
per cluster. What leaves it: the Leiden graph, the per-cluster scans of edges and evidence, the members'
posts and accounts.

A component with more than ``SparkParams.component_edges`` edges does not fit one task: it is refused with
one line (raise the limit with executor memory to match), never split — splitting one would change its
clusters.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

from cib.clustering import cluster_id, cluster_scores, communities, rank_clusters
from cib.engines.spark import _spark_sockets, _to_polars, driver_frame
from cib.errors import CibError
from cib.schema import ACCOUNTS, CLUSTERS, EDGES, EVIDENCE, MEMBERS
from cib.scoring import Clusterer, Clustering, ScoreParams, cluster_chance, cluster_on_driver, shareable_posts
from cib.signals.null import TIERS, Null, benjamini_hochberg

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["Apply", "Kernel", "connected_components", "per_component", "spark_clusterer"]

log = logging.getLogger("cib.score")
_TESTED = {"src": pl.UInt32, "dst": pl.UInt32, **{f"o{i}": pl.Int64 for i in range(len(TIERS))}}
_NODES: dict[str, Any] = {"uid": pl.String, "code": pl.Int64, "g": pl.List(pl.Float64), "n_shareable": pl.Int64}
_POSTS = {"account_uid": pl.String, "created_at": pl.Datetime("us", "UTC")}
_PASS1 = "component long, cluster_id string, size int, members array<string>, log10_p double"
_PASS2 = "component long, clusters binary, members binary"


def connected_components(edges: DataFrame, checkpoint_every: int = 2) -> DataFrame:
    """``v, component`` for every account code in `edges` (``src, dst`` integer columns): the component's
    smallest code. Alternating large-star and small-star rounds (Kiveris et al., "Connected Components in
    MapReduce and Beyond", 2014: O(log² n) rounds, a few in practice) in DataFrame joins and aggregations,
    until every component is a star around its smallest code. Deterministic.

    Example (``spark`` a SparkSession; run in tests/test_spark_cluster.py against networkx)::

        e = spark.createDataFrame([(5, 3), (3, 9), (7, 8)], "src long, dst long")
        sorted(connected_components(e).collect())
        # [Row(v=3, component=3), Row(v=5, component=3), Row(v=7, component=7), Row(v=8, component=7),
        #  Row(v=9, component=3)]
    """
    from pyspark.sql import functions as F

    current = (edges.filter(F.col("src") != F.col("dst"))
               .select(F.least("src", "dst").alias("lo"), F.greatest("src", "dst").alias("hi")).distinct())
    current = current.localCheckpoint()
    rounds = 0
    while True:
        rounds += 1
        step = _small_star(_large_star(current))
        step = step.localCheckpoint() if rounds % checkpoint_every == 0 else step.persist()
        current.unpersist()
        current = step
        # Done when no account is both a centre and a leaf: the rounds keep each component connected, so a
        # union of stars is one star per component, and its centre (lo < hi) is the smallest code.
        if step.join(step.select(F.col("lo").alias("hi")), "hi", "left_semi").limit(1).count() == 0:
            log.info("connected components: %d rounds", rounds)
            return current.select(F.col("hi").alias("v"), F.col("lo").alias("component")).union(
                current.select(F.col("lo").alias("v"), F.col("lo").alias("component"))).distinct()


def _large_star(edges: DataFrame) -> DataFrame:
    """Every node's larger neighbours link to the smallest of its neighbourhood (itself included)."""
    from pyspark.sql import functions as F

    both = edges.select(F.col("lo").alias("u"), F.col("hi").alias("v")).union(
        edges.select(F.col("hi").alias("u"), F.col("lo").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (both.filter(F.col("v") > F.col("u")).join(smallest, "u")
            .select(F.col("m").alias("lo"), F.col("v").alias("hi")).distinct())


def _small_star(edges: DataFrame) -> DataFrame:
    """Every node and its smaller neighbours link to the smallest of them."""
    from pyspark.sql import functions as F

    smallest = edges.groupBy(F.col("hi").alias("u")).agg(F.min("lo").alias("m"))
    linked = edges.join(smallest, edges["hi"] == smallest["u"])
    return (linked.filter(F.col("lo") != F.col("m")).select(F.col("m").alias("lo"), F.col("lo").alias("hi"))
            .union(linked.select(F.col("m").alias("lo"), F.col("u").alias("hi"))).distinct())


Kernel = Callable[[pa.Table], pa.Table]
Apply = Callable[["DataFrame", Kernel, str], "DataFrame"]


def per_component(wide: DataFrame, kernel: Kernel, schema: str) -> DataFrame:
    """How the passes run: ``groupBy(component).applyInArrow`` (one component per call, in the workers)."""
    return wide.groupBy("component").applyInArrow(kernel, schema)


def spark_clusterer(spark: SparkSession, posts: DataFrame, accounts: DataFrame, *, driver_edges: int,
                    component_edges: int, apply: Apply = per_component) -> Clusterer:
    """`cib.scoring.cluster_on_driver` up to `driver_edges` edges, else the Spark passes of this module;
    `apply` runs a kernel per component (tests run the same kernels in this process to measure them)."""
    def cluster(c: Clustering) -> tuple[pl.DataFrame, pl.DataFrame]:
        if c.edges.height <= driver_edges:
            return cluster_on_driver(c)
        with _spark_sockets():
            return _in_spark(spark, posts, accounts, c, component_edges, apply)
    return cluster


def _in_spark(spark: SparkSession, posts: DataFrame, accounts: DataFrame, c: Clustering, component_edges: int,
              apply: Apply) -> tuple[pl.DataFrame, pl.DataFrame]:
    from pyspark.sql import functions as F

    codes = pl.DataFrame({"uid": c.coded.accounts, "code": pl.int_range(0, c.coded.accounts.len(), dtype=pl.Int64,
                                                                         eager=True)})
    edges = (c.edges.join(codes.rename({"uid": "src", "code": "src_code"}), on="src")
             .join(codes.rename({"uid": "dst", "code": "dst_code"}), on="dst"))
    edges_df = driver_frame(spark, edges)
    labels = connected_components(edges_df.select(F.col("src_code").alias("src"),
                                                  F.col("dst_code").alias("dst"))).persist()
    sizes = _to_polars(edges_df.join(labels.withColumnRenamed("v", "src_code"), "src_code").groupBy("component")
                       .count().agg(F.max("count").alias("most")))
    most = int(sizes["most"][0] or 0)
    if most > component_edges:
        raise CibError(f"a connected component of the significant-edge graph has {most:,} edges, more "
                       f"than one Spark task clusters (--component-edges {component_edges:,}): raise it together "
                       "with spark.executor.memory, or score with a stricter --pair-fdr")
    node_codes = pl.concat([edges["src_code"], edges["dst_code"]]).unique().sort()
    nodes = pl.DataFrame({"code": node_codes, "g": c.null.vectors[node_codes.to_numpy()].tolist()},
                         schema={"code": pl.Int64, "g": pl.List(pl.Float64)}).join(codes, on="code")
    shared = shareable_posts(c.coded, node_codes.cast(pl.UInt32)).rename({"account_uid": "uid"})
    nodes = nodes.join(shared, on="uid", how="left").select([pl.col(k).cast(t) for k, t in _NODES.items()])
    node_df = driver_frame(spark, nodes).join(
        labels.withColumnRenamed("v", "code"), "code").persist()
    where = node_df.select(F.col("uid"), "component")
    tested = driver_frame(spark, c.tested.select(list(_TESTED)))
    tested = (tested.join(labels.select(F.col("v").alias("src"), "component"), "src")
              .join(labels.select(F.col("v").alias("dst"), F.col("component").alias("dst_component")), "dst")
              .filter(F.col("component") == F.col("dst_component")).drop("dst_component"))
    parts = [_tagged(edges_df.join(labels.withColumnRenamed("v", "src_code"), "src_code"), "e"),
             _tagged(tested, "t"), _tagged(node_df, "n")]
    wide1 = _union(parts)
    total_weight = float(c.edges["weight"].sum())
    scope = _Scope(c.params, total_weight, c.null.bins)
    pass1 = apply(wide1, _pass1_kernel(scope), _PASS1).persist()
    found = _to_polars(pass1.select("cluster_id", "size", "log10_p"))
    c.timer.done("clustering", found.height)
    kept = found.filter(pl.col("size") >= c.params.cluster.min_size).sort("cluster_id")
    log_q = dict(zip(kept["cluster_id"].to_list(), benjamini_hochberg(kept["log10_p"].to_numpy()).tolist(),
                     strict=True))
    clustered = pass1.select(F.explode("members").alias("account_uid"))
    latest = _to_polars(posts.join(clustered, "account_uid", "left_semi").agg(F.max("created_at").alias("now")))
    now = latest["now"].cast(pl.Datetime("us", "UTC")).item() if latest.height else None
    pass1.unpersist()
    scope = dataclasses.replace(scope, log_q=log_q, now=now, total_volume=2.0 * total_weight if c.edges.height else 0.0)
    evidence = driver_frame(spark, c.evidence.select(EVIDENCE.names()))
    more = [_tagged(evidence.join(where.withColumnRenamed("uid", "src"), "src"), "v"),
            _tagged(posts.select("account_uid", "created_at").join(where.withColumnRenamed("uid", "account_uid"),
                                                                   "account_uid"), "p"),
            _tagged(accounts.select(*ACCOUNTS.names()).join(where, "uid"), "a")]
    out = _to_polars(apply(_union(parts + more), _pass2_kernel(scope), _PASS2))
    labels.unpersist()
    node_df.unpersist()
    clusters = [pl.read_ipc(io.BytesIO(b)) for b in out["clusters"].to_list()]
    members = [pl.read_ipc(io.BytesIO(b)) for b in out["members"].to_list()]
    return (rank_clusters(pl.concat(clusters) if clusters else pl.DataFrame(schema=CLUSTERS)),
            (pl.concat(members) if members else pl.DataFrame(schema=MEMBERS)).sort("cluster_id", "account_uid"))


@dataclasses.dataclass(frozen=True)
class _Scope:
    """What every task needs beside its component: parameters and the global figures (broadcast in the
    closure; one float per cluster at most)."""

    params: ScoreParams
    total_weight: float
    bins: np.ndarray
    log_q: dict[str, float] = dataclasses.field(default_factory=dict)
    now: datetime | None = None
    total_volume: float = 0.0


def _tagged(frame: DataFrame, kind: str) -> DataFrame:
    """`frame`'s columns as ``<kind>_<column>`` beside ``component`` and ``kind``, for one wide union."""
    from pyspark.sql import functions as F

    return frame.select("component", F.lit(kind).alias("kind"),
                        *[F.col(c).alias(f"{kind}_{c}") for c in frame.columns if c != "component"])


def _union(frames: list[DataFrame]) -> DataFrame:
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame, allowMissingColumns=True)
    return out


def _part(frame: pl.DataFrame, kind: str, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of one kind from a wide component table, with their own column names and types."""
    rows = frame.filter(pl.col("kind") == kind)
    return rows.select([pl.col(f"{kind}_{c}").cast(t).alias(c) for c, t in schema.items()])


def _groups(frame: pl.DataFrame, scope: _Scope) -> tuple[list[list[str]], list[tuple[int, float, float]],
                                                          pl.DataFrame]:
    """One component's Leiden groups (the whole graph's objective: resolution scaled by its weight share),
    their null-model chance, and its edges."""
    # In the driver's order (EDGES are sorted by src, dst), so that every sum adds in the same order.
    edges = _part(frame, "e", dict(EDGES)).sort("src", "dst")
    nodes = _part(frame, "n", _NODES).sort("code")
    share = float(edges["weight"].sum()) / scope.total_weight if scope.total_weight else 1.0
    cluster = scope.params.cluster
    groups = communities(edges, dataclasses.replace(cluster, resolution=cluster.resolution * share))
    local = dict(zip(nodes["uid"].to_list(), range(nodes.height), strict=True))
    to_local = pl.DataFrame({"code": nodes["code"].cast(pl.UInt32), "i": pl.int_range(0, nodes.height,
                                                                                       dtype=pl.UInt32, eager=True)})
    tested = (_part(frame, "t", _TESTED).join(to_local.rename({"code": "src"}), on="src")
              .drop("src").rename({"i": "src"}).join(to_local.rename({"code": "dst"}), on="dst")
              .drop("dst").rename({"i": "dst"}))
    vectors = np.array(nodes["g"].to_list(), dtype=np.float64).reshape(nodes.height, -1)
    null = Null(vectors=vectors, bins=scope.bins, objects=pl.DataFrame(), degrees=pl.DataFrame(), totals={})
    chance = [cluster_chance(np.array(sorted(local[u] for u in g), dtype=np.int64), tested, null) for g in groups]
    return groups, chance, edges


def _pass1_kernel(scope: _Scope) -> Kernel:
    def kernel(table: pa.Table) -> pa.Table:
        frame = pl.DataFrame(pl.from_arrow(table))
        groups, chance, _ = _groups(frame, scope)
        component = int(frame["component"][0])
        return pa.table({"component": pa.array([component] * len(groups), pa.int64()),
                         "cluster_id": pa.array([cluster_id(g) for g in groups], pa.string()),
                         "size": pa.array([len(g) for g in groups], pa.int32()),
                         "members": pa.array(groups, pa.list_(pa.string())),
                         "log10_p": pa.array([lp for _, _, lp in chance], pa.float64())})
    return kernel


def _pass2_kernel(scope: _Scope) -> Kernel:
    def kernel(table: pa.Table) -> pa.Table:
        frame = pl.DataFrame(pl.from_arrow(table))
        groups, chance, edges = _groups(frame, scope)
        nodes = _part(frame, "n", _NODES)
        shareable = nodes.select(account_uid="uid", n_shareable="n_shareable").drop_nulls()
        clusters, members = cluster_scores(
            groups, edges, _part(frame, "v", dict(EVIDENCE)), _part(frame, "p", _POSTS),
            _part(frame, "a", dict(ACCOUNTS)), scope.params.cluster, shareable, chance=chance,
            fdr=scope.params.fdr, log_q=[scope.log_q.get(cluster_id(g), 0.0) for g in groups],
            total_volume=scope.total_volume, now=scope.now)
        if clusters.height == 0:
            return pa.table({"component": pa.array([], pa.int64()), "clusters": pa.array([], pa.binary()),
                             "members": pa.array([], pa.binary())})
        return pa.table({"component": pa.array([int(frame["component"][0])], pa.int64()),
                         "clusters": pa.array([_ipc(clusters)], pa.binary()),
                         "members": pa.array([_ipc(members)], pa.binary())})
    return kernel


def _ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc(sink)
    return sink.getvalue()
