"""Detection quality on the randomised scenario generator: precision / recall / F1 per seed, mean and worst,
and whether any syndicated outlet reached a takedown export. Everything runs through the CLI (load → score →
export takedown) at default settings unless `--window` is given.

Settings were chosen on seeds 1–20; report on the held-out seeds 100–119::

    python benchmarks/quality.py --seeds 100-119                    # defaults
    python benchmarks/quality.py --seeds 100-119 --window 1800 7200 # robustness: window halved / doubled
    python benchmarks/quality.py --seeds 1-20 --window 3600 14400 --jobs 2   # seeds in parallel processes
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from click.testing import CliRunner

from cib.cli import cli
from cib.scenario import generate


def seeds(spec: list[str]) -> list[int]:
    out: list[int] = []
    for item in spec:
        lo, _, hi = item.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def one(seed: int, windows: list[int | None], accounts: int) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix=f"cib-q{seed}-"))
    try:
        generate(work / "s", seed=seed, accounts=accounts)
        truth = json.loads((work / "s" / "ground_truth.json").read_text("utf-8"))
        outlets = set(truth["hard_negatives"]["syndicated_outlets"])
        runner = CliRunner()
        assert runner.invoke(cli, ["load", str(work / "s"), "-w", str(work / "w"), "--silent"]).exit_code == 0
        rows = []
        for window in windows:
            extra = ["--window", str(window)] if window else []
            start = time.perf_counter()
            result = runner.invoke(cli, ["score", "-w", str(work / "w"), "--silent", *extra])
            assert result.exit_code == 0, result.output
            seconds = time.perf_counter() - start
            figures = json.loads(runner.invoke(cli, ["evaluate", "-w", str(work / "w"), "--truth",
                                                     str(work / "s" / "ground_truth.json")]).output)
            out = work / "takedown.csv"
            assert runner.invoke(cli, ["export", "takedown", "-o", str(out), "-w", str(work / "w")]).exit_code == 0
            with open(out, encoding="utf-8") as fh:
                listed = {f"{r['platform']}:{r['account_id']}" if r["platform"] != "telegram"
                          else f"telegram:channel{r['account_id']}" for r in csv.DictReader(fh)}
            rows.append({"seed": seed, "window": window or 3600, "posts": sum(truth["counts"].values()),
                         "seconds": seconds, "outlets_in_takedown": len(listed & outlets), **figures})
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", default=["100-119"], help="seeds or ranges, e.g. 1-20 100")
    parser.add_argument("--window", type=int, nargs="*", default=None, help="windows in seconds (default: 3600)")
    parser.add_argument("--accounts", type=int, default=300, help="organic accounts per platform")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in this many processes at once")
    args = parser.parse_args()
    windows: list[int | None] = list(args.window) if args.window else [None]
    rows = []
    run = partial(one, windows=windows, accounts=args.accounts)
    executor = (ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn"))
                if args.jobs > 1 else None)
    results: Iterable[list[dict]] = executor.map(run, seeds(args.seeds)) if executor else map(run, seeds(args.seeds))
    print(f"{'seed':>4} {'window':>6} {'posts':>7} {'precision':>9} {'recall':>7} {'F1':>6} {'outlets':>7} "
          f"{'score s':>7}  hard negatives flagged")
    for seed_rows in results:  # in seed order, printed as each seed finishes
        for r in seed_rows:
            rows.append(r)
            negatives = {k: v for k, v in r["hard_negatives_flagged"].items() if v}
            print(f"{r['seed']:>4} {r['window']:>6} {r['posts']:>7,} {r['precision']:9.3f} {r['recall']:7.3f} "
                  f"{r['f1']:6.3f} {r['outlets_in_takedown']:>7} {r['seconds']:7.1f}  {negatives or ''}", flush=True)
    if executor:
        executor.shutdown()
    print()
    print("| window s | seeds | precision mean / worst | recall mean / worst | F1 mean / worst | outlets in takedown |")
    print("|---|---|---|---|---|---|")
    for window in sorted({r["window"] for r in rows}):
        sub = [r for r in rows if r["window"] == window]
        cells = [f"{statistics.mean(r[k] for r in sub):.3f} / {min(r[k] for r in sub):.3f}"
                 for k in ("precision", "recall", "f1")]
        print(f"| {window} | {len(sub)} | {' | '.join(cells)} | {sum(r['outlets_in_takedown'] for r in sub)} |")


if __name__ == "__main__":
    main()
