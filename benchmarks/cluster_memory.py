"""Driver memory per significant edge for clustering on the driver: how ``--driver-edges``'s default was chosen.

Builds a campaign-like significant-edge graph in polars (cliques of 12 accounts, 66 edges each; EDGES rows with
three evidence pairs each, and three EVIDENCE rows per edge, as `cib.scoring.score_pairs` holds them), then runs
`cib.clustering.communities` (Leiden) on it; prints bytes per edge (frames' estimated size, RSS after building
them, RSS after Leiden) and Leiden's time. Peak RSS of the whole process: run it under ``/usr/bin/time -v``.

Usage::

    /usr/bin/time -v python benchmarks/cluster_memory.py --edges 500000
"""

from __future__ import annotations

import argparse
import gc
import time

import polars as pl
import psutil

from cib.clustering import ClusterParams, communities


def _uid(column: str) -> pl.Expr:
    return pl.lit("x:acct") + (pl.col("k") * 12 + pl.col(column)).cast(pl.String).str.zfill(9)


def _post(seed: int) -> pl.Expr:
    return pl.lit("x:") + pl.int_range(0, pl.len()).hash(seed).cast(pl.String).str.slice(0, 12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, default=500_000)
    args = parser.parse_args()
    proc = psutil.Process()
    gc.collect()
    base = proc.memory_info().rss
    clique = (pl.DataFrame({"i": list(range(12))}).join(pl.DataFrame({"j": list(range(12))}), how="cross")
              .filter(pl.col("i") < pl.col("j")))
    pairs = pl.DataFrame({"k": pl.int_range(0, args.edges // clique.height + 1, eager=True)}).join(clique, how="cross")
    edges = pairs.select(
        src=_uid("i"), dst=_uid("j"), signals=pl.lit(["co_url", "co_caption"]),
        weight=(pl.int_range(0, pl.len()) % 97 + 1) / 100.0, n_shared=pl.lit(3), min_gap_s=pl.lit(1.0),
        median_gap_s=pl.lit(2.0), evidence=pl.concat_list([_post(2 * r) + pl.lit("|") + _post(2 * r + 1) for r in range(3)]),
        expected=pl.lit(0.1), log10_p=pl.lit(-5.0))
    evidence = pl.concat([edges.select(
        "src", "dst", signal=pl.lit("co_url"),
        object=pl.lit("u:https://example.org/") + pl.int_range(0, pl.len()).cast(pl.String) + pl.lit(f"/{r}"),
        post_a=_post(10 + r), post_b=_post(20 + r), gap_s=pl.lit(1.0), idf=pl.lit(1.0), src_first=pl.lit(True),
        expected=pl.lit(0.1)) for r in range(3)])
    del pairs
    gc.collect()
    n = edges.height
    built = proc.memory_info().rss - base
    estimated = edges.estimated_size() + evidence.estimated_size()
    start = time.perf_counter()
    groups = communities(edges, ClusterParams())
    seconds = time.perf_counter() - start
    gc.collect()
    after = proc.memory_info().rss - base
    print(f"edges {n:,}: frames {estimated / n:,.0f} B/edge estimated, {built / n:,.0f} B/edge RSS; after Leiden "
          f"{after / n:,.0f} B/edge RSS; Leiden {seconds:.1f} s, {len(groups):,} groups; "
          f"load average {psutil.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
