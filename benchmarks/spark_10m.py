"""The Spark engine beside the polars engine on the same posts: wall time and peak memory of each.

Replicates a loaded 1M-post workspace N times (benchmarks/score_10m.py's `replicate`), then scores the same
Parquet twice, each engine in its own child process. Peak memory is sampled every 0.2 s as the summed RSS of
the child's whole process tree (the Python driver, Spark's JVM, its Python workers), so the JVM and the
workers count for the Spark engine.

``--engines spark,spark-fallback`` times the Spark engine's clustering on the driver (edges up to
``--driver-edges``) beside the fallback forced with a limit of 0 (connected components in Spark, Leiden and
cluster scoring per component in the workers): each JSON line carries the seconds of its ``clustering`` and
``cluster scores`` stages and whether the two runs gave the same clusters (``clusters_sha256``). CPU seconds
(user + sys of every process of the child's tree, sampled with its memory: the JVM, the Python workers) are
printed beside wall time, since this machine is shared.

Usage::

    python benchmarks/scale.py --posts 1000000 --workdir /tmp/spark-bench   # builds .../p1000000/ws
    python benchmarks/spark_10m.py --source /tmp/spark-bench/p1000000/ws --copies 10 --master 'local[2]'
    python benchmarks/spark_10m.py --copies 1 --engines spark,spark-fallback   # the clustering fallback at 1M
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil
from score_10m import replicate  # benchmarks/ is on sys.path when a benchmark runs as a script

_SUMMARY = """import hashlib
c = r.tables["clusters"]
print(json.dumps({"edges": r.tables["edges"].height, "clusters": c.height, "flagged": int(c["flagged"].sum() or 0),
                  "stages": {e["stage"]: e["seconds"] for e in r.stages},
                  "clusters_sha256": hashlib.sha256(repr(c.rows()).encode()).hexdigest()[:16]}))
"""

_POLARS = """
import json, sys, polars as pl
from cib.scoring import score
posts, accounts = sys.argv[1], sys.argv[2]
stage = lambda e: print(f"   polars {e['stage']:>16}: {e['seconds']:8.2f} s {e['rows']:>12,} rows", file=sys.stderr)
r = score(pl.scan_parquet(posts), pl.scan_parquet(accounts), on_stage=stage)
{SUMMARY}"""

_SPARK = """
import json, sys
from cib.engines.spark import SparkParams, score, session
posts, accounts, master, memory, driver_edges = sys.argv[1:6]
spark = session(SparkParams(master=master, driver_memory=memory))
stage = lambda e: print(f"   spark  {e['stage']:>16}: {e['seconds']:8.2f} s {e['rows']:>12,} rows "
                        f"rss {e['rss_mb']:,.0f} MB", file=sys.stderr)
r = score(spark, posts, accounts, on_stage=stage,
          spark_params=SparkParams(master=master, driver_memory=memory, driver_edges=int(driver_edges)))
{SUMMARY}"""


def measure(code: str, *args: str) -> dict[str, object]:
    """Run `code` in a child Python; wall seconds, peak summed RSS of its process tree (MiB), its JSON line."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    cpu: dict[int, float] = {}  # pid -> its latest user + sys seconds (the JVM is never waited for: sample it)
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            total = 0
            for p in tree:
                try:
                    total += p.memory_info().rss
                    times = p.cpu_times()
                    cpu[p.pid] = max(cpu.get(p.pid, 0.0), times.user + times.system)
                except psutil.Error:
                    pass
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.2)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        raise SystemExit(f"child failed with exit code {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(max(waited, sum(cpu.values())), 1),
            "peak_tree_rss_mib": round(peak / 2**20),
            **json.loads(out.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path("/tmp/spark-bench/p1000000/ws"))
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--target", type=Path, default=Path("/tmp/spark-bench/replicated"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--engines", default="spark,polars",
                        help="comma-separated, in this order: spark, spark-fallback (clustering in Spark), polars")
    parser.add_argument("--driver-edges", type=int, default=None,
                        help="the spark engine's limit (default: cib.engines.spark.DRIVER_EDGES)")
    args = parser.parse_args()
    if args.copies > 1:
        replicate(args.source, args.copies, args.target)
        posts, accounts = args.target / "posts.parquet", args.target / "accounts.parquet"
    else:
        posts, accounts = args.source / "posts.parquet", args.source / "accounts.parquet"
    import polars as pl

    n = pl.scan_parquet(posts).select(pl.len()).collect().item()
    print(f"posts: {n:,}  cores: {psutil.cpu_count()}  load average: {psutil.getloadavg()[0]:.1f}", flush=True)
    from cib.engines.spark import DRIVER_EDGES

    for engine in args.engines.split(","):
        if engine.startswith("spark"):
            limit = 0 if engine == "spark-fallback" else args.driver_edges if args.driver_edges is not None \
                else DRIVER_EDGES
            figures = measure(_SPARK.replace("{SUMMARY}", _SUMMARY), str(posts.resolve()), str(accounts.resolve()),
                              args.master, args.driver_memory, str(limit))
            figures["driver_edges"] = limit
        else:
            figures = measure(_POLARS.replace("{SUMMARY}", _SUMMARY), str(posts), str(accounts))
        print(json.dumps({"engine": engine, "posts": n, **figures,
                          "load_average_after": round(psutil.getloadavg()[0], 1)}), flush=True)


if __name__ == "__main__":
    main()
