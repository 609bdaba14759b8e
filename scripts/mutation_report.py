"""Per-file mutation kill rates from a finished ``mutmut run`` (reads ``mutants/**/*.py.meta``).

A mutant counts as killed when a test failed or timed out on it (a hang is a detected change); "survived" and
"no tests" count against the score.

Example::

    python scripts/mutation_report.py            # table + total
    python scripts/mutation_report.py --min 80   # exit 1 below 80 %
    python scripts/mutation_report.py --survivors cib/clustering.py
    python scripts/mutation_report.py --retry    # before `mutmut run`: test the undetected mutants again
    python scripts/mutation_report.py --sample 1200 --unchecked   # names to pass to `mutmut run`
    python scripts/mutation_report.py --sample 1200               # kill rate of that random sample

mutmut itself re-tests only mutants of functions whose code changed; ``--retry`` clears the verdict of every
survivor and "no tests" mutant so that tests added since (by anyone) get their chance to kill them.
``--sample N`` restricts everything to a fixed random sample of N mutants (seeded, the same on every call), an
unbiased estimate of the kill rate when a full run does not fit the time (mutmut itself runs the mutants of
fast functions first, so a part of a full run is not a fair sample).
"""

from __future__ import annotations

import argparse
import json
import random
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


def verdicts(root: Path) -> dict[str, tuple[str, int | None]]:
    """``{mutant name: (source file, exit code or None)}`` for every mutant under `root`."""
    out: dict[str, tuple[str, int | None]] = {}
    for meta in sorted(root.rglob("*.py.meta")):
        source = meta.relative_to(root).as_posix()[: -len(".meta")]
        for name, code in json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {}).items():
            out[name] = (source, code)
    return out


def sample(names: list[str], n: int, seed: int = 15) -> set[str]:
    """A fixed random sample of `n` mutant names (all of them when there are fewer).

    >>> sorted(sample(["c", "a", "b"], 2)) == sorted(sample(["b", "c", "a"], 2)), len(sample(["a"], 5))
    (True, 1)
    """
    ordered = sorted(names)
    return set(random.Random(seed).sample(ordered, n)) if n < len(ordered) else set(ordered)


def collect(root: Path, only: set[str] | None = None) -> dict[str, Counter[str]]:
    per_file: dict[str, Counter[str]] = {}
    for name, (source, code) in verdicts(root).items():
        if only is None or name in only:
            per_file.setdefault(source, Counter())[status_of(code)] += 1
    return per_file


def survivors(root: Path, source: str) -> list[str]:
    meta = root / f"{source}.meta"
    codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
    return sorted(k for k, c in codes.items() if c is not None and status_of(c) not in DETECTED)


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
    parser.add_argument("--sample", type=int, metavar="N", help="only a fixed random sample of N mutants")
    parser.add_argument("--unchecked", action="store_true", help="print the names of the unchecked mutants")
    args = parser.parse_args(argv)
    only = sample(list(verdicts(args.root)), args.sample) if args.sample else None
    if args.unchecked:
        print("\n".join(sorted(n for n, (_, code) in verdicts(args.root).items()
                               if code is None and (only is None or n in only))))
        return 0
    if args.retry:
        print(f"{retry_undetected(args.root)} undetected mutants will be tested again")
        return 0
    if args.survivors:
        if not (args.root / f"{args.survivors}.meta").is_file():
            print(f"{args.survivors}: no mutmut results under {args.root} (give a mutated source file, e.g. "
                  f"cib/clustering.py)", file=sys.stderr)
            return 2
        print("\n".join(survivors(args.root, args.survivors)))
        return 0
    per_file = collect(args.root, only)
    if only is not None:
        print(f"random sample of {len(only)} mutants (seed 15)")
    if not per_file:
        print(f"no mutmut results under {args.root}", file=sys.stderr)
        return 1
    print(f"{'file':32} {'mutants':>8} {'checked':>8} {'killed':>7} {'timeout':>8} {'survived':>9} {'no tests':>9} "
          f"{'rate':>7}")
    total: Counter[str] = Counter()
    for source, counts in per_file.items():
        total += counts
        print(_row(source, counts))
    print(_row("total", total))
    checked = sum(total.values()) - total["not checked"]
    rate = 100 * sum(total[s] for s in DETECTED) / checked if checked else 0.0
    if total["not checked"]:
        print(f"rate = detected / checked; {total['not checked']} mutants not checked yet (KEEP=1 bash "
              f"scripts/mutation.sh goes on)")
        return 1 if args.min else 0
    return 1 if rate < args.min else 0


def _row(label: str, counts: Counter[str]) -> str:
    """One table line; the rate is over the mutants checked so far.

    >>> _row("f.py", Counter({"killed": 3, "survived": 1, "not checked": 4}))[32:].split()
    ['8', '4', '3', '0', '1', '0', '75.0%']
    """
    n = sum(counts.values())
    checked = n - counts["not checked"]
    rate = f"{100 * sum(counts[s] for s in DETECTED) / checked:6.1f}%" if checked else "      -"
    return (f"{label:32} {n:8} {checked:8} {counts['killed']:7} {counts['timeout']:8} {counts['survived']:9} "
            f"{counts['no tests']:9} {rate}")


if __name__ == "__main__":
    sys.exit(main())
