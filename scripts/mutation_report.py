"""Per-file mutation kill rates from a finished ``mutmut run`` (reads ``mutants/**/*.py.meta``).

A mutant counts as killed when a test failed or timed out on it (a hang is a detected change); "survived" and
"no tests" count against the score.

Example::

    python scripts/mutation_report.py            # table + total
    python scripts/mutation_report.py --min 80   # exit 1 below 80 %
    python scripts/mutation_report.py --survivors cib/clustering.py
    python scripts/mutation_report.py --retry    # before `mutmut run`: test the undetected mutants again

mutmut itself re-tests only mutants of functions whose code changed; ``--retry`` clears the verdict of every
survivor and "no tests" mutant so that tests added since (by anyone) get their chance to kill them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

DETECTED = {"killed", "timeout", "caught by type check", "segfault"}


def status_of(code: int | None) -> str:
    """mutmut's own mapping of a worker's exit code to a status.

    >>> [status_of(c) for c in (1, 0, 36, 33, None)]
    ['killed', 'survived', 'timeout', 'no tests', 'not checked']
    """
    from mutmut.stats import status_by_exit_code

    return str(status_by_exit_code[code])


def collect(root: Path) -> dict[str, Counter[str]]:
    per_file: dict[str, Counter[str]] = {}
    for meta in sorted(root.rglob("*.py.meta")):
        source = meta.relative_to(root).as_posix()[: -len(".meta")]
        codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
        if codes:
            per_file[source] = Counter(status_of(c) for c in codes.values())
    return per_file


def survivors(root: Path, source: str) -> list[str]:
    meta = root / f"{source}.meta"
    codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
    return sorted(k for k, c in codes.items() if status_of(c) not in DETECTED)


def retry_undetected(root: Path) -> int:
    """Clear the verdict of every undetected mutant (mutmut then runs it again); returns how many.

    >>> import tempfile
    >>> tmp = Path(tempfile.mkdtemp())
    >>> _ = (tmp / "m.py.meta").write_text(json.dumps({"exit_code_by_key": {"a": 1, "b": 0, "c": 33, "d": None}}))
    >>> retry_undetected(tmp), json.loads((tmp / "m.py.meta").read_text())["exit_code_by_key"]
    (2, {'a': 1, 'b': None, 'c': None, 'd': None})
    """
    count = 0
    for meta in sorted(root.rglob("*.py.meta")):
        data = json.loads(meta.read_text("utf-8"))
        codes = data.get("exit_code_by_key", {})
        undetected = [k for k, c in codes.items() if c is not None and status_of(c) not in DETECTED]
        if undetected:
            codes.update(dict.fromkeys(undetected))
            meta.write_text(json.dumps(data, indent=4), "utf-8")
            count += len(undetected)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("mutants"), help="mutmut's work folder")
    parser.add_argument("--min", type=float, default=0.0, help="fail below this total kill rate, in %%")
    parser.add_argument("--survivors", metavar="FILE", help="list the undetected mutants of FILE")
    parser.add_argument("--retry", action="store_true", help="clear the verdicts of undetected mutants")
    args = parser.parse_args(argv)
    if args.retry:
        print(f"{retry_undetected(args.root)} undetected mutants will be tested again")
        return 0
    if args.survivors:
        print("\n".join(survivors(args.root, args.survivors)))
        return 0
    per_file = collect(args.root)
    if not per_file:
        print(f"no mutmut results under {args.root}", file=sys.stderr)
        return 1
    print(f"{'file':32} {'mutants':>8} {'killed':>7} {'timeout':>8} {'survived':>9} {'no tests':>9} {'rate':>7}")
    total: Counter[str] = Counter()
    for source, counts in per_file.items():
        total += counts
        n = sum(counts.values())
        detected = sum(counts[s] for s in DETECTED)
        print(f"{source:32} {n:8} {counts['killed']:7} {counts['timeout']:8} {counts['survived']:9} "
              f"{counts['no tests']:9} {100 * detected / n:6.1f}%")
    n = sum(total.values())
    detected = sum(total[s] for s in DETECTED)
    rate = 100 * detected / n
    unchecked = total["not checked"]
    print(f"{'total':32} {n:8} {total['killed']:7} {total['timeout']:8} {total['survived']:9} "
          f"{total['no tests']:9} {rate:6.1f}%" + (f"  ({unchecked} not checked yet)" if unchecked else ""))
    return 1 if rate < args.min else 0


if __name__ == "__main__":
    sys.exit(main())
