"""Load and score throughput on a synthetic export: posts/s, per-stage seconds and peak RSS.

Usage::

    python benchmarks/scale.py --posts 1000000 [--workdir /tmp/cib-bench] [--keep]

Each phase runs in its own process so its peak RSS (ru_maxrss of that child) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable


def child(code: str) -> tuple[float, float, str]:
    """Run `code` in a fresh Python; return (seconds, peak RSS MiB of that child, stdout)."""
    start = time.perf_counter()
    out = subprocess.run([PY, "-c", code + _RSS], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    sys.stderr.write(out.stderr)
    text, _, rss = out.stdout.rpartition("@@RSS ")
    return seconds, int(rss) / 1024, text


# Each child reports its own peak resident set size (ru_maxrss, KiB on Linux) as its last line.
_RSS = "\nimport resource as _r; print('@@RSS', _r.getrusage(_r.RUSAGE_SELF).ru_maxrss)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1_000_000, help="approximate number of posts")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cib-bench"))
    parser.add_argument("--keep", action="store_true", help="reuse an existing scenario of that size")
    parser.add_argument("--skip-load", action="store_true", help="with --keep: reuse the loaded workspace too")
    args = parser.parse_args()
    work = args.workdir / f"p{args.posts}"
    accounts = max(200, args.posts // (4 * 21))  # ~21 posts per organic account, four platforms
    if not (args.keep and (work / "scenario" / "ground_truth.json").exists()):
        shutil.rmtree(work, ignore_errors=True)
        seconds, rss, _ = child(f"from cib.scenario import generate; generate({str(work / 'scenario')!r}, seed=1, "
                                f"accounts={accounts})")
        print(f"generate: {seconds:8.1f} s  peak {rss:8.0f} MiB")
    size = sum(p.stat().st_size for p in (work / "scenario").rglob("*") if p.is_file())
    if not (args.keep and args.skip_load and (work / "ws" / "posts.parquet").exists()):
        _load(work, size)
    _score(work)
    print(f"machine:  {os.cpu_count()} cores")


def _load(work: Path, size: int) -> None:
    shutil.rmtree(work / "ws", ignore_errors=True)
    seconds, rss, out = child(
        "import json,sys; from click.testing import CliRunner; from cib.cli import cli; "
        f"r = CliRunner().invoke(cli, ['load', {str(work / 'scenario')!r}, '-w', {str(work / 'ws')!r}, '--silent', "
        "'--json']); print(r.output)")
    summary = json.loads(out[out.index("{"):])
    posts = summary["loaded"]
    print(f"load:     {seconds:8.1f} s  peak {rss:8.0f} MiB  {posts:,} records ({size / 2**20:,.0f} MiB of exports) "
          f"-> {posts / seconds:,.0f} records/s; reconciled={summary['reconciled']}; "
          f"{summary['workspace']['posts']:,} unique posts")


def _score(work: Path) -> None:
    code = (
        "import json; from cib.store import ParquetStore; from cib.scoring import score; from cib.evaluate import evaluate; "
        f"s = ParquetStore({str(work / 'ws')!r}); r = score(s.posts(), s.accounts()); "
        f"e = evaluate(r.tables['clusters'], r.tables['members'], __import__('pathlib').Path({str(work / 'scenario' / 'ground_truth.json')!r})); "
        "print(json.dumps({'stages': r.stages, 'eval': e, 'capped': r.capped_objects}))")
    seconds, rss, out = child(code)
    result = json.loads(out)
    print(f"score:    {seconds:8.1f} s  peak {rss:8.0f} MiB  (capped hot objects: {result['capped']:,})")
    for stage in result["stages"]:
        print(f"   {stage['stage']:>16}: {stage['seconds']:7.2f} s  {stage['rows']:>11,} rows  rss {stage['rss_mb']:7.0f} MiB")
    e = result["eval"]
    print(f"quality:  precision {e['precision']:.3f}  recall {e['recall']:.3f}  F1 {e['f1']:.3f}")


if __name__ == "__main__":
    main()
