"""Detection quality across scenario seeds at default settings: precision / recall / F1 per seed.

Usage::

    python benchmarks/quality.py --seeds 1 2 3 4 5 [--accounts 400]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from click.testing import CliRunner

from cib.cli import cli
from cib.evaluate import evaluate
from cib.scenario import generate
from cib.scoring import score
from cib.store import ParquetStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--accounts", type=int, default=400)
    args = parser.parse_args()
    print(f"{'seed':>4} {'posts':>8} {'precision':>9} {'recall':>7} {'F1':>6}  hard negatives flagged")
    for seed in args.seeds:
        work = Path(tempfile.mkdtemp(prefix=f"cib-q{seed}-"))
        scenario = generate(work / "s", seed=seed, accounts=args.accounts)
        assert CliRunner().invoke(cli, ["load", str(work / "s"), "-w", str(work / "w"), "--silent"]).exit_code == 0
        store = ParquetStore(work / "w")
        tables = score(store.posts(), store.accounts()).tables
        e = evaluate(tables["clusters"], tables["members"], work / "s" / "ground_truth.json")
        print(f"{seed:>4} {sum(scenario.counts.values()):>8,} {e['precision']:9.3f} {e['recall']:7.3f} {e['f1']:6.3f}  "
              f"{sum(e['hard_negatives_flagged'].values())}")


if __name__ == "__main__":
    main()
