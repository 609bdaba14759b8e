"""Two engines, one meaning: `cib score --engine spark` (real pyspark, local[2]) gives the polars engine's
edges (weights to 1e-9), clusters (ids, members, every column) and byte-identical takedown exports, on a
generated scenario and on the shared real samples. One SparkSession serves the whole test session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from cib.cli import cli
from cib.signals.cotiming import PAIRS, closest_pairs, neighbour_pairs
from cib.store import ParquetStore
from tests.conftest import need, need_module

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    need_module("pyspark")
    need(shutil.which("java") is not None, "java is needed for Spark")
    from cib.engines.spark import SparkParams, session

    spark = session(SparkParams(master="local[2]", shuffle_partitions=4))
    try:
        yield spark
    finally:
        spark.stop()


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _both(ws: Path, tmp: Path) -> tuple[Path, Path]:
    """Score `ws` with polars and a copy of it with Spark; return both workspaces."""
    polars_ws, spark_ws = tmp / "polars", tmp / "spark"
    shutil.copytree(ws, polars_ws, symlinks=True)
    shutil.copytree(ws, spark_ws, symlinks=True)
    _invoke("score", "-w", str(polars_ws), "--silent")
    _invoke("score", "-w", str(spark_ws), "--silent", "--engine", "spark")
    return polars_ws, spark_ws


def _assert_same(polars_ws: Path, spark_ws: Path, tmp: Path) -> pl.DataFrame:
    a, b = ParquetStore(polars_ws), ParquetStore(spark_ws)
    edges_a, edges_b = a.scores("edges"), b.scores("edges")
    assert edges_a.select("src", "dst").rows() == edges_b.select("src", "dst").rows()
    assert_frame_equal(edges_a, edges_b, check_exact=False, rel_tol=0, abs_tol=1e-9)
    for table in ("clusters", "members", "evidence"):
        assert_frame_equal(a.scores(table), b.scores(table), check_exact=False, rel_tol=0, abs_tol=1e-9)
    for flags in ([], ["--include-authentic"]):
        outputs = []
        for ws in (polars_ws, spark_ws):
            out = tmp / f"{ws.name}-takedown{len(flags)}.csv"
            _invoke("export", "takedown", "-w", str(ws), "-o", str(out), *flags)
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1]
    return a.scores("clusters")


def test_scenario_parity(spark: Any, scenario_ws: dict[str, Path], tmp_path: Path) -> None:
    polars_ws, spark_ws = _both(scenario_ws["ws"], tmp_path)
    clusters = _assert_same(polars_ws, spark_ws, tmp_path)
    assert clusters["flagged"].sum() >= 1  # the comparison covers flagged clusters, not only empty tables


def test_shared_samples_parity(spark: Any, samples: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    coortweet = sorted(samples.rglob("coortweet_*.csv"))  # CooRTweet CSVs name no platform: --platform
    rest = [str(p) for p in sorted(samples.rglob("*")) if p.is_file() and p.name != "SOURCES.txt" and p not in coortweet]
    _invoke("load", *rest, "-w", str(ws), "--silent", "--skip-unknown")
    _invoke("load", *map(str, coortweet), "-w", str(ws), "--silent", "--platform", "facebook")
    polars_ws, spark_ws = _both(ws, tmp_path)
    _assert_same(polars_ws, spark_ws, tmp_path)
    assert ParquetStore(spark_ws).scores("edges").height >= 1
    fallback = tmp_path / "fallback"  # clustering per connected component in Spark: the same results
    shutil.copytree(ws, fallback, symlinks=True)
    _invoke("score", "-w", str(fallback), "--silent", "--engine", "spark", "--driver-edges", "0")
    assert ParquetStore(fallback).score_params()["driver_edges"] == 0
    _assert_same(polars_ws, fallback, tmp_path)
    assert ParquetStore(fallback).scores("clusters").height >= 1


def test_input_uri_reads_current_generation(spark: Any, scenario_ws: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "results"
    _invoke("score", "-w", str(out), "--silent", "--engine", "spark", "--input", scenario_ws["ws"].resolve().as_uri())
    params = ParquetStore(out).score_params()
    assert params["inputs"]["generation"] == ParquetStore(scenario_ws["ws"]).generation()
    assert_frame_equal(ParquetStore(out).scores("edges"), ParquetStore(scenario_ws["ws"]).scores("edges"),
                       check_exact=False, rel_tol=0, abs_tol=1e-9)


def test_input_that_is_not_a_workspace_is_one_line(spark: Any, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["score", "-w", str(tmp_path / "o"), "--engine", "spark", "--input",
                                      str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "not a cib workspace" in result.output and "Traceback" not in result.output


def test_empty_workspace_and_bad_current_are_one_line(spark: Any, tmp_path: Path) -> None:
    empty = CliRunner().invoke(cli, ["score", "-w", str(tmp_path / "empty"), "--engine", "spark"])
    assert empty.exit_code == 1 and "no posts in workspace" in empty.output
    bad = tmp_path / "bad"
    (bad / "generations").mkdir(parents=True)
    (bad / "generations" / "CURRENT").write_text("g-000001/../../../etc\n")
    result = CliRunner().invoke(cli, ["score", "-w", str(tmp_path / "o"), "--engine", "spark", "--input", str(bad)])
    assert result.exit_code == 1 and "does not name a generation" in result.output


def test_spark_options_need_the_spark_engine(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["score", "-w", str(tmp_path), "--master", "local[1]"])
    assert result.exit_code == 2 and "--engine spark" in result.output
    result = CliRunner().invoke(cli, ["score", "-w", str(tmp_path), "--driver-edges", "0"])
    assert result.exit_code == 2 and "--engine spark" in result.output
    result = CliRunner().invoke(cli, ["score", "-w", str(tmp_path), "--engine", "spark", "--neo4j", "bolt://x:1"])
    assert result.exit_code == 2 and "no --neo4j" in result.output


def test_xlingual_parity_on_the_three_language_rings(spark: Any, tmp_path: Path) -> None:
    """--xlingual on Spark: the candidates' captions go to the driver, the polars engine's step embeds and
    groups them, their actions join the others in Spark; the same edges, clusters and exports."""
    from cib.signals.xlingual import SIGNAL, available
    from tests.test_xlingual import RINGS, _linked, _workspace

    need(available(), "optional model not installed: pip install 'cib[xlingual]'")
    ws = _workspace(tmp_path / "rings")
    polars_ws, spark_ws = tmp_path / "polars", tmp_path / "spark"
    shutil.copytree(ws, polars_ws, symlinks=True)
    shutil.copytree(ws, spark_ws, symlinks=True)
    _invoke("score", "-w", str(polars_ws), "--silent", "--xlingual")
    out = CliRunner().invoke(cli, ["score", "-w", str(spark_ws), "--xlingual", "--engine", "spark"],
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert ParquetStore(spark_ws).score_params()["engine"] == "spark"
    assert "61 embedded now, 0 from the cache" in out.stderr  # its own cache: the same 61 captions embedded
    _assert_same(polars_ws, spark_ws, tmp_path)
    linked = _linked(spark_ws)
    assert set(linked) == {(f"x:{a}_a", f"x:{b}_a") for a, b in (("en", "ru"), ("en", "uk"), ("ru", "uk"))}
    assert all(signals == [SIGNAL] for signals in linked.values()) and len(RINGS) == 3
    assert ParquetStore(spark_ws).score_params()["xlingual_figures"]["embedded"] == 61


@pytest.mark.parametrize("buckets", [1, 2, 3, 7])
def test_pair_kernel_gives_the_same_pairs_on_any_split_of_objects(buckets: int) -> None:
    """The contract the Spark engine relies on: objects are independent, so bucketing them changes nothing."""
    acts = pl.DataFrame({"acc": [0, 1, 2, 0, 3, 1, 2, 3, 0, 1], "post": list(range(10)),
                         "obj": [5, 5, 5, 6, 6, 6, 7, 7, 7, 7], "ts": [0, 10, 20, 0, 5, 4000, 0, 1, 2, 3],
                         "sig": [0] * 10}, schema={"acc": pl.UInt32, "post": pl.UInt32, "obj": pl.UInt32,
                                                   "ts": pl.Int64, "sig": pl.UInt8})
    whole, capped = neighbour_pairs(acts, window_s=60, max_neighbours=2)
    parts = [neighbour_pairs(acts.filter(pl.col("obj") % buckets == b), window_s=60, max_neighbours=2)
             for b in range(buckets)]
    split = pl.concat([closest_pairs(p) for p, _ in parts])
    assert_frame_equal(closest_pairs(whole).sort(PAIRS.names()), split.sort(PAIRS.names()))
    assert capped == sum(c for _, c in parts) == 2  # objects 5 and 7 have a 2nd neighbour inside 60 s: cut there
    assert closest_pairs(whole).select("src", "dst", "obj").rows() == [
        (0, 1, 5), (0, 1, 7), (0, 2, 5), (0, 2, 7), (0, 3, 6), (0, 3, 7), (1, 2, 5), (1, 3, 7), (2, 3, 7)]
    # (1, 2) on object 7 is three places apart in time order: beyond max_neighbours=2


def test_worker_kernels_match_the_polars_engine_in_process(scenario_ws: dict[str, Path]) -> None:
    """The functions Spark ships to its Python workers, called here directly on Arrow batches (so they are
    also covered in this process): the same actions and pairs as the polars engine's stages."""
    from cib.engines.spark import _actions_kernel, _batches, _group_inputs_kernel, _pairs_kernel
    from cib.scoring import ScoreParams
    from cib.signals import actions, coded_pairs, encode
    from cib.signals.objects import object_groups

    params = ScoreParams()
    posts = ParquetStore(scenario_ws["ws"]).posts().collect()
    batches = posts.to_arrow().to_batches(max_chunksize=5_000)
    inputs = pl.from_arrow(list(_batches(_group_inputs_kernel(params), 7_000)(batches)))
    assert isinstance(inputs, pl.DataFrame)

    class Shipped:  # what sparkContext.broadcast hands the workers: the value behind `.value`
        value = object_groups(inputs.unique(), seed=params.cluster.seed)

    acts = pl.from_arrow(list(_batches(_actions_kernel(params, Shipped), 7_000)(batches)))
    assert isinstance(acts, pl.DataFrame)
    expected = actions(posts.lazy(), seed=params.cluster.seed)
    assert_frame_equal(acts.sort(acts.columns), expected.sort(expected.columns))
    coded = encode(expected)
    pairs, capped = coded_pairs(coded, hot_min_accounts=None)
    out = pl.from_arrow(_pairs_kernel(params.window_s, params.max_neighbours)(coded.actions.to_arrow()))
    assert isinstance(out, pl.DataFrame)
    assert int(out["capped"].sum()) == capped
    got = out.filter(pl.col("src").is_not_null()).select([pl.col(c).cast(t) for c, t in PAIRS.items()])
    assert_frame_equal(got.sort(PAIRS.names()), pairs.sort(PAIRS.names()))
