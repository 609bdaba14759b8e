"""The Spark engine: `cib.scoring` on Apache Spark DataFrames, for more posts than one machine holds.

Same specification, other execution. Every stage calls the kernels the polars engine calls:

======================  ==================================================================================
stage                   Spark execution
======================  ==================================================================================
read                    ``spark.read.parquet`` of the generation's ``posts.parquet`` / ``accounts.parquet``
                        (local path or any Hadoop URI: ``s3a://``, ``abfss://``, ``gs://``, ``hdfs://``)
group inputs            ``mapInArrow`` → `cib.signals.objects.post_base` + `group_inputs`, then ``distinct``
caption / media groups  `cib.signals.objects.object_groups` (MinHash/LSH, PDQ index) on the driver, over the
                        *distinct* captions and hashes only, broadcast back
actions                 ``mapInArrow`` → `cib.signals.objects.post_actions` (row-local)
integer codes           ``distinct`` + ``row_number`` over the sorted keys (code order = uid order, as
                        `cib.signals.cotiming.encode`), joins
object popularity       ``groupBy(obj).agg(countDistinct(acc))``; hot objects filtered by a semi join
co-timing pairs         ``groupBy(obj % buckets).applyInArrow`` → `cib.signals.cotiming.neighbour_pairs` +
                        `closest_pairs` (objects are independent, so any split gives the same pairs)
null model … edges      `cib.scoring.score_pairs` on the driver: null model, pair significance, edges:
                        the polars engine's own code
clustering, scores      on the driver (`cib.scoring.cluster_on_driver`) up to ``driver_edges`` edges; above,
                        connected components in DataFrames and the same code per component
                        (`cib.engines.spark_cluster`)
======================  ==================================================================================

What the driver holds: the coded actions (five integers per action, ~21 bytes) and code tables, the candidate
pairs, the edges; never the posts' text, URLs or media lists.

Spark is imported lazily: ``import cib.engines.spark`` works without pyspark; `session` needs it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

from cib.errors import CibError
from cib.schema import ACCOUNTS
from cib.scoring import ScoreParams, ScoreResult, StageTimer, score_pairs, xlingual_extra
from cib.signals.cotiming import PAIR_ORDER, PAIRS, Coded, closest_pairs, encoded_stats, neighbour_pairs
from cib.signals.objects import ACTIONS, GROUP_INPUTS, group_inputs, object_groups, post_actions, post_base

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkParams", "default_master", "resolve_input", "run_on_workspace", "score", "session"]

_POST_COLUMNS = ["uid", "account_uid", "created_at", "urls", "media", "hashtags", "effect_ids", "repost_of",
                 "repost_account_uid", "text_norm", "sound_id"]
# How the default was chosen (benchmarks/cluster_memory.py; README, "Spark"): clustering on the driver takes about
# 1.1 KiB of the driver process's memory per significant edge (EDGES rows with their evidence lists, the
# evidence rows kept for them, Leiden's graph), so 2M edges need about 2.2 GiB beside the coded actions.
DRIVER_EDGES = 2_000_000
_CODED = {"acc": pl.UInt32, "post": pl.UInt32, "obj": pl.UInt32, "ts": pl.Int64, "sig": pl.UInt8}


@dataclass(frozen=True)
class SparkParams:
    """How to run on Spark (never what is computed: that is `cib.scoring.ScoreParams`).

    ``buckets``: hash buckets of objects for the co-timing kernel (each bucket is one Arrow table in one
    Python worker: raise it when a worker runs out of memory). ``batch_rows``: posts per kernel call.
    ``driver_edges``: significant edges up to which Leiden and cluster scoring run on the driver
    (`cib.scoring.cluster_on_driver`); above it, per connected component in Spark
    (`cib.engines.spark_cluster`), where ``component_edges`` bounds one component (one task).
    """

    master: str | None = None  # None: an active session (spark-submit, Databricks) or local[N]
    shuffle_partitions: int = 8
    driver_memory: str = "2g"
    buckets: int = 64
    batch_rows: int = 100_000
    driver_edges: int = DRIVER_EDGES  # above: clustering in Spark (cib.engines.spark_cluster)
    component_edges: int = DRIVER_EDGES  # edges of one connected component clustered in one task, at most


def default_master() -> str:
    """``local[N]`` with N = this machine's cores."""
    return f"local[{os.cpu_count() or 1}]"


def session(params: SparkParams | None = None) -> SparkSession:
    """The active SparkSession (spark-submit, Databricks) or a new one on ``params.master``; quiet, UTC."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise CibError("the Spark engine needs pyspark: pip install 'cib[spark]'") from exc
    params = params or SparkParams()
    active = SparkSession.getActiveSession()
    if active is not None and params.master is None:
        return active
    builder = SparkSession.builder
    # Under spark-submit (it starts the JVM and names the port) the master comes from spark-submit.
    if params.master or "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = params.master or default_master()
        builder = builder.master(master)
        if master.startswith("local"):  # workers are this interpreter (its venv has cib), not the system python
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (builder.appName("cib score")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", str(params.shuffle_partitions))
             .config("spark.driver.memory", params.driver_memory)
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def resolve_input(spark: SparkSession, uri: str) -> tuple[str, str, str]:
    """``(posts, accounts, generation)`` paths of a workspace at `uri` (local path or Hadoop URI): its
    ``generations/CURRENT`` names the committed generation, whose ``posts.parquet`` and ``accounts.parquet``
    Spark reads directly."""
    root = uri.rstrip("/")
    try:
        rows = spark.read.text(f"{root}/generations/CURRENT").collect()
    except Exception as exc:  # noqa: BLE001 - Spark raises its own AnalysisException for a missing path
        raise CibError(f"{uri}: not a cib workspace (no generations/CURRENT readable: "
                       f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from exc
    name = rows[0][0].strip() if rows else ""
    if not re.fullmatch(r"g-\d{6}", name):  # never a path: CURRENT must not lead out of the workspace
        raise CibError(f"{uri}: generations/CURRENT does not name a generation")
    folder = f"{root}/generations/{name}"
    return f"{folder}/posts.parquet", f"{folder}/accounts.parquet", name


def score(spark: SparkSession, posts_path: str, accounts_path: str, params: ScoreParams | None = None,
          on_stage: Callable[[dict[str, Any]], None] | None = None,
          spark_params: SparkParams | None = None,
          caption_cache: Callable[[list[str]], MutableMapping[str, np.ndarray]] | None = None) -> ScoreResult:
    """Score the posts at `posts_path` with Spark; the same `ScoreResult` as `cib.scoring.score` (with
    ``params.xlingual`` too: `caption_cache` as there)."""
    params = params or ScoreParams()
    sp = spark_params or SparkParams()
    timer = StageTimer(on_stage)
    posts = spark.read.parquet(posts_path).select(*_POST_COLUMNS)
    inputs = _to_polars(posts.mapInArrow(
        _batches(_group_inputs_kernel(params), sp.batch_rows), _spark_schema(GROUP_INPUTS)).distinct())
    groups = object_groups(inputs, caption_threshold=params.caption_threshold, pdq_distance=params.pdq_distance,
                           seed=params.cluster.seed)
    shipped = spark.sparkContext.broadcast(groups)
    acts = posts.mapInArrow(_batches(_actions_kernel(params, shipped), sp.batch_rows), _spark_schema(ACTIONS))
    acts = acts.persist()
    coded, pairs, capped = _coded_pairs(spark, acts, params, sp, lambda n: timer.done("actions", n))
    if not params.xlingual:
        acts.unpersist()
    accounts = spark.read.parquet(accounts_path)

    def extend(candidates: pl.Series) -> tuple[Coded, pl.DataFrame, int, dict[str, Any]]:
        """co_caption_xlingual: the candidates' posts (few) to the driver, the polars engine's step, its
        actions added to the others in Spark, pairs again."""
        from pyspark.sql import functions as F

        wanted = spark.createDataFrame([(u,) for u in candidates.to_list()], "account_uid string")
        theirs = _to_polars(posts.join(F.broadcast(wanted), "account_uid", "left_semi")
                            .select("account_uid", "uid", "created_at", "repost_of", "text_norm"))
        theirs = theirs.with_columns(pl.col("created_at").cast(pl.Datetime("us", "UTC")))
        extra, stats = xlingual_extra(theirs.lazy(), candidates, params, caption_cache, timer)
        more = acts.unionByName(driver_frame(spark, extra.select(ACTIONS.names()), _spark_schema(ACTIONS)))
        out = _coded_pairs(spark, more, params, sp)
        acts.unpersist()
        return (*out, stats)

    def members(uids: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        wanted = spark.createDataFrame([(u,) for u in uids], "uid string")
        from pyspark.sql import functions as F

        post_cols = _to_polars(posts.join(F.broadcast(wanted.withColumnRenamed("uid", "account_uid")),
                                          "account_uid", "left_semi").select("account_uid", "created_at"))
        acc = _to_polars(accounts.join(F.broadcast(wanted), "uid", "left_semi"))
        return (post_cols.with_columns(pl.col("created_at").cast(pl.Datetime("us", "UTC"))),
                acc.select([pl.col(c).cast(t) for c, t in ACCOUNTS.items()]))

    from cib.engines.spark_cluster import spark_clusterer

    cluster = spark_clusterer(spark, posts, accounts, driver_edges=sp.driver_edges,
                              component_edges=sp.component_edges)
    return score_pairs(coded, pairs, capped, members, params, timer, cluster=cluster,
                       extend=extend if params.xlingual else None)


def _coded_pairs(spark: SparkSession, acts: DataFrame, params: ScoreParams, sp: SparkParams,
                 counted: Callable[[int], None] | None = None) -> tuple[Coded, pl.DataFrame, int]:
    """The coded actions (on the driver) and their co-timing pairs: `cib.scoring._coded_pairs` in Spark."""
    coded_df, tables = _encode(spark, acts)
    coded_df = coded_df.persist()
    n_actions = coded_df.count()
    if counted:
        counted(n_actions)
    pairs, capped = _pairs(coded_df, tables["accounts"].len(), params, sp)
    coded = encoded_stats(_to_polars(coded_df).select([pl.col(c).cast(t) for c, t in _CODED.items()]),
                          tables["accounts"], tables["posts"], tables["objects"], tables["signals"].to_list())
    coded_df.unpersist()
    return coded, pairs, capped


# -- stages ---------------------------------------------------------------------------------------------------
def _encode(spark: SparkSession, acts: DataFrame) -> tuple[DataFrame, dict[str, pl.Series]]:
    """Integer codes in sorted key order, exactly as `cib.signals.cotiming.encode` assigns them."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    tables: dict[str, pl.Series] = {}
    coded = acts
    for column, code, name in (("account_uid", "acc", "accounts"), ("post_uid", "post", "posts"),
                               ("object", "obj", "objects"), ("signal", "sig", "signals")):
        # One ordered window: code = rank in byte order of the key (Spark and polars both compare UTF-8 bytes).
        table = (acts.select(column).distinct()
                 .withColumn(code, F.row_number().over(Window.orderBy(column)) - 1).persist())
        keys = _to_polars(table.orderBy(code).select(column))[column]
        tables[name] = keys
        coded = coded.join(table, column)
    return coded.select("acc", "post", "obj", "ts", "sig"), tables


def _pairs(coded: DataFrame, n_accounts: int, params: ScoreParams, sp: SparkParams) -> tuple[pl.DataFrame, int]:
    """`cib.signals.cotiming.coded_pairs` in Spark: popularity as an aggregation, pairing per object bucket."""
    from pyspark.sql import functions as F

    popularity = coded.groupBy("obj").agg(F.countDistinct("acc").alias("n"))
    hot_limit = max(params.hot_min_accounts, params.hot_share * n_accounts)
    hot = popularity.filter(F.col("n") > hot_limit).count()
    keep = popularity.filter((F.col("n") >= 2) & (F.col("n") <= hot_limit)).select("obj")
    kernel = _pairs_kernel(params.window_s, params.max_neighbours)
    schema = "src long, dst long, obj long, post_a long, post_b long, gap_s int, sig int, src_first boolean, " \
             "capped long"
    found = (coded.join(keep, "obj", "left_semi").withColumn("bucket", F.col("obj") % sp.buckets)
             .groupBy("bucket").applyInArrow(kernel, schema))
    table = _to_polars(found)
    capped = int(table["capped"].sum() or 0)
    pairs = (table.filter(pl.col("src").is_not_null()).select([pl.col(c).cast(t) for c, t in PAIRS.items()])
             .sort(PAIR_ORDER))
    return pairs, capped + hot


# -- kernels (run in the Python workers) ----------------------------------------------------------------------
def _group_inputs_kernel(params: ScoreParams) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def kernel(frame: pl.DataFrame) -> pl.DataFrame:
        return group_inputs(post_base(frame), min_caption_tokens=params.min_caption_tokens,
                            near_duplicates=params.near_duplicates)
    return kernel


def _actions_kernel(params: ScoreParams, groups: Any) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def kernel(frame: pl.DataFrame) -> pl.DataFrame:
        return post_actions(post_base(frame), groups.value, min_caption_tokens=params.min_caption_tokens,
                            min_hashtags=params.min_hashtags)
    return kernel


def _pairs_kernel(window_s: int, max_neighbours: int) -> Callable[[pa.Table], pa.Table]:
    def kernel(table: pa.Table) -> pa.Table:
        acts = pl.from_arrow(table)
        assert isinstance(acts, pl.DataFrame)  # noqa: S101 - a Table always converts to a DataFrame
        acts = acts.select([pl.col(c).cast(t) for c, t in _CODED.items()])
        pairs, capped = neighbour_pairs(acts, window_s=window_s, max_neighbours=max_neighbours)
        best = closest_pairs(pairs).with_columns(capped=pl.lit(0, pl.Int64))
        trailer = pl.DataFrame({"capped": [capped]}, schema={"capped": pl.Int64})  # one row: the bucket's count
        out = pl.concat([best, trailer], how="diagonal")
        return out.select(pl.col("src", "dst", "obj", "post_a", "post_b").cast(pl.Int64),
                          pl.col("gap_s").cast(pl.Int32), pl.col("sig").cast(pl.Int32), "src_first",
                          "capped").to_arrow()
    return kernel


def _batches(kernel: Callable[[pl.DataFrame], pl.DataFrame],
             rows: int) -> Callable[[Iterable[pa.RecordBatch]], Iterable[pa.RecordBatch]]:
    """A ``mapInArrow`` function: the partition's Arrow batches gathered to about `rows` rows per kernel call."""
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pending: list[pa.RecordBatch] = []
        size = 0
        for batch in batches:
            pending.append(batch)
            size += batch.num_rows
            if size >= rows:
                yield from _apply(kernel, pending)
                pending, size = [], 0
        if pending:
            yield from _apply(kernel, pending)
    return run


def _apply(kernel: Callable[[pl.DataFrame], pl.DataFrame], batches: list[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    frame = pl.from_arrow(pa.Table.from_batches(batches))
    assert isinstance(frame, pl.DataFrame)  # noqa: S101 - a Table always converts to a DataFrame
    yield from kernel(frame).to_arrow().to_batches()


# -- helpers --------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _spark_sockets() -> Iterator[None]:
    """pyspark reads collected results from local sockets it leaves to the garbage collector ("closed when
    garbage-collected", pyspark/util.py), which warns ResourceWarning; collect them here, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()


def _spark_schema(schema: pl.Schema) -> str:
    names = {pl.String: "string", pl.Int64: "long"}
    return ", ".join(f"{name} {names[type(dtype)]}" for name, dtype in schema.items())


def driver_frame(spark: SparkSession, frame: pl.DataFrame, schema: str | None = None) -> DataFrame:
    """A driver table as a Spark DataFrame (Spark has no unsigned integers: they become longs)."""
    unsigned = (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
    signed = frame.with_columns(pl.col(c).cast(pl.Int64) for c, t in frame.schema.items() if t in unsigned)
    # One chunk: pyspark 4.0 drops the rows after an empty record batch of a chunked Arrow table.
    table = signed.rechunk().to_arrow().combine_chunks()
    return spark.createDataFrame(table, schema=schema) if schema else spark.createDataFrame(table)


def _to_polars(frame: DataFrame) -> pl.DataFrame:
    with _spark_sockets():
        table = frame.toArrow()
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)  # noqa: S101 - a Table always converts to a DataFrame
    return out


def run_on_workspace(store: Any, input_uri: str | None, master: str | None, params: ScoreParams,
                     on_stage: Callable[[dict[str, Any]], None] | None = None,
                     driver_edges: int = DRIVER_EDGES,
                     caption_cache: Callable[[list[str]], Any] | None = None) -> tuple[ScoreResult, dict[str, Any]]:
    """What ``cib score --engine spark`` runs: score `input_uri` (a workspace path or URI) or else `store`'s
    pinned generation; returns the result and what to record beside the params (engine, master, input)."""
    with _spark_sockets():
        return _run_on_workspace(store, input_uri, SparkParams(master=master, driver_edges=driver_edges), params,
                                 on_stage, caption_cache)


def _run_on_workspace(store: Any, input_uri: str | None, sp: SparkParams, params: ScoreParams,
                      on_stage: Callable[[dict[str, Any]], None] | None,
                      caption_cache: Callable[[list[str]], Any] | None) -> tuple[ScoreResult, dict[str, Any]]:
    spark = session(sp)
    if input_uri:
        posts_path, accounts_path, generation = resolve_input(spark, input_uri)
        inputs: Any = {"uri": input_uri, "generation": generation}
    else:
        generation = store.generation()
        if generation is None:
            raise CibError(f"no posts in workspace {store.root}: run `cib load EXPORTS` with the same workspace first")
        folder = store.root.resolve() / "generations" / generation
        posts_path, accounts_path, inputs = str(folder / "posts.parquet"), str(folder / "accounts.parquet"), \
            store.inputs()
    if spark.read.parquet(posts_path).limit(1).count() == 0:
        raise CibError(f"no posts in {input_uri or store.root}: run `cib load EXPORTS` first")
    result = score(spark, posts_path, accounts_path, params, on_stage=on_stage, spark_params=sp,
                   caption_cache=caption_cache)
    recorded = {"engine": "spark", "spark_master": spark.sparkContext.master, "inputs": inputs,
                "workspace_generation": generation, "driver_edges": sp.driver_edges}
    return result, recorded
