"""Scoring at 10M posts: replicate a loaded workspace N times into a bigger one and time `cib score` on it.

Each copy gets its own account, post and repost ids (suffix ``~r<i>``) and its own 14-day period, so the
copies are independent populations with the same structure (N times as many campaigns and hard
negatives). Loading is measured separately by benchmarks/scale.py; this isolates the scoring stages.

Usage::

    python benchmarks/scale.py --posts 1000000          # builds /tmp/cib-bench/p1000000/ws
    python benchmarks/score_10m.py --source /tmp/cib-bench/p1000000/ws --copies 10
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import polars as pl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path("/tmp/cib-bench/p1000000/ws"))
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--target", type=Path, default=Path("/tmp/cib-bench/replicated"))
    args = parser.parse_args()
    replicate(args.source, args.copies, args.target)
    from cib.scoring import score
    from cib.store import ParquetStore

    store = ParquetStore(args.target)
    n = store.posts().select(pl.len()).collect().item()
    start = time.perf_counter()
    result = score(store.posts(), store.accounts(),
                   on_stage=lambda e: print(f"   {e['stage']:>16}: {e['seconds']:7.2f} s  {e['rows']:>12,} rows  "
                                            f"rss {e['rss_mb']:7.0f} MiB", flush=True))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    clusters = result.tables["clusters"]
    print(json.dumps({"posts": n, "score_seconds": round(seconds, 1), "peak_rss_mib": round(peak),
                      "clusters": clusters.height, "flagged": int(clusters["flagged"].sum())}))


def replicate(source: Path, copies: int, target: Path) -> None:
    """Write `copies` independent copies of the workspace `source` as ``target/{posts,accounts}.parquet``."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    posts = pl.scan_parquet(source / "posts.parquet")
    accounts = pl.scan_parquet(source / "accounts.parquet")

    def tag(col: str, i: int) -> pl.Expr:
        return pl.when(pl.col(col).is_not_null()).then(pl.col(col) + f"~r{i}").otherwise(None).alias(col)

    frames, accs = [], []
    for i in range(copies):
        shift = pl.duration(days=14 * i)
        frames.append(posts.with_columns(tag("uid", i), tag("account_uid", i), tag("repost_of", i),
                                         tag("repost_account_uid", i), created_at=pl.col("created_at") + shift))
        accs.append(accounts.with_columns(tag("uid", i)))
    pl.concat(frames).sink_parquet(target / "posts.parquet")
    pl.concat(accs).sink_parquet(target / "accounts.parquet")


if __name__ == "__main__":
    main()
