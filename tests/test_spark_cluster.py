"""The Spark engine's clustering fallback (`cib.engines.spark_cluster`) in real pyspark local[2]: connected
components against networkx, the fallback forced on the generated scenario against the driver path (kernels
in Spark's workers, and in this process so that they are measured), and the one-line refusal of a component
too big for one task. The shared samples are forced through it in tests/test_spark_parity.py."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import polars as pl
import pyarrow as pa
import pytest

from cib.errors import CibError
from cib.store import ParquetStore
from tests.test_spark_parity import _assert_same, spark  # noqa: F401 - spark: the session's one SparkSession

pytestmark = pytest.mark.slow


def _hand_graph() -> nx.Graph:
    """Chains, stars, isolated pairs, a cycle, a long path with shuffled codes (many rounds without pointer jumping)."""
    rng = random.Random(7)
    codes = rng.sample(range(10, 10_000), 120)
    g = nx.Graph()
    nx.add_path(g, codes[0:40])  # long path, labels far from the smallest code
    nx.add_path(g, codes[40:45])
    nx.add_star(g, codes[45:55])
    g.add_edge(codes[55], codes[56])
    g.add_edge(codes[57], codes[58])
    nx.add_cycle(g, codes[59:70])
    nx.add_path(g, sorted(codes[70:90], reverse=True))  # the smallest code at one end
    g.add_edges_from((codes[90 + i], codes[91 + i]) for i in range(0, 20, 2))  # ten isolated pairs
    g.add_edge(codes[0], codes[119])  # a tail on the long path
    return g


def test_connected_components_match_networkx(spark: Any) -> None:  # noqa: F811
    from cib.engines.spark import _spark_sockets
    from cib.engines.spark_cluster import connected_components

    g = _hand_graph()
    rows = [(a, b) if i % 2 else (b, a) for i, (a, b) in enumerate(g.edges())]  # both orientations occur
    edges = spark.createDataFrame(rows, "src long, dst long")
    with _spark_sockets():
        got = dict(pl.DataFrame(pl.from_arrow(connected_components(edges, checkpoint_every=2).toArrow())).iter_rows())
    expected = {v: min(comp) for comp in nx.connected_components(g) for v in comp}
    assert got == expected
    assert len(set(got.values())) == nx.number_connected_components(g) == 17


def _in_process(wide: Any, kernel: Any, schema: str) -> Any:
    """The same kernels as ``groupBy(component).applyInArrow``, one component at a time in this process."""
    frame = pl.DataFrame(pl.from_arrow(wide.toArrow()))
    tables = [kernel(part.to_arrow()) for part in frame.partition_by("component", maintain_order=True)]
    # one chunk: pyspark 4.0 drops the rows after an empty record batch of a chunked Arrow table
    return wide.sparkSession.createDataFrame(pa.concat_tables(tables).combine_chunks(), schema=schema)


def _fallback(spark: Any, ws: Path, **limits: Any) -> Any:  # noqa: F811
    from cib.engines.spark_cluster import spark_clusterer
    from cib.scoring import score

    store = ParquetStore(ws)
    folder = store.root.resolve() / "generations" / str(store.generation())
    posts = spark.read.parquet(str(folder / "posts.parquet"))
    accounts = spark.read.parquet(str(folder / "accounts.parquet"))
    cluster = spark_clusterer(spark, posts, accounts, **{"apply": _in_process, **limits})
    return score(store.posts(), store.accounts(), cluster=cluster)


@pytest.mark.parametrize("where", ["workers", "in-process"])
def test_fallback_on_the_scenario_gives_the_driver_clusters_and_exports(spark: Any,  # noqa: F811
                                                                        scenario_ws: dict[str, Path],
                                                                        tmp_path: Path, where: str) -> None:
    """The limit forced to 0 on the generated scenario: per-component kernels in Spark's workers (and in this
    process, so that they are measured) give the driver path's clusters, members and takedown exports."""
    from cib.engines.spark_cluster import per_component

    result = _fallback(spark, scenario_ws["ws"], driver_edges=0, component_edges=10**9,
                       apply=per_component if where == "workers" else _in_process)
    assert [s["stage"] for s in result.stages][-2:] == ["clustering", "cluster scores"]
    ws = tmp_path / "fallback"
    shutil.copytree(scenario_ws["ws"], ws, symlinks=True)
    ParquetStore(ws).write_scores(result.tables, ParquetStore(scenario_ws["ws"]).score_params())
    clusters = _assert_same(scenario_ws["ws"], ws, tmp_path)
    assert clusters["flagged"].sum() >= 1 and clusters.height >= 5


def test_component_too_big_for_one_task_is_refused_in_one_line(spark: Any,  # noqa: F811
                                                               scenario_ws: dict[str, Path]) -> None:
    with pytest.raises(CibError, match=r"^a connected component .* edges, more than one Spark task clusters "
                                       r"\(--component-edges 1\)") as err:
        _fallback(spark, scenario_ws["ws"], driver_edges=0, component_edges=1)
    assert "\n" not in str(err.value)
