"""Cost of ``cib score --xlingual``: captions embedded, texts/s, and scoring seconds without the flag, with it
on an empty cache, and with it again (cache reused); the embedding rate is the captions embedded on the cold
run over the seconds it took more than the warm one.

Usage::

    python benchmarks/xlingual.py [--accounts 300] [--seed 7] [--workdir /tmp/cib-bench-xlingual]

Each run is a fresh ``python -m cib score`` process (`scale.child`), so its time includes Python start-up and
imports, like a user's.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from scale import child  # benchmarks/ is on sys.path when a benchmark runs as a script

SCORE = """
import sys
from cib.cli import cli
sys.argv = ['cib', 'score', '-w', {ws!r}, '--top', '1'{flag}]
try:
    cli()
except SystemExit as exc:
    assert not exc.code, exc.code
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cib-bench-xlingual"))
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    scenario, ws = args.workdir / "scenario", args.workdir / "ws"
    child(f"from cib.scenario import generate; generate({str(scenario)!r}, seed={args.seed}, "
          f"accounts={args.accounts})")
    child(f"import sys; from cib.cli import cli; sys.argv = ['cib', 'load', {str(scenario)!r}, '-w', {str(ws)!r}, "
          "'--silent']\ntry:\n    cli()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code")
    figures: dict[str, object] = {"accounts": args.accounts, "seed": args.seed}
    for name, flag in (("plain", ""), ("xlingual_cold", ", '--xlingual'"), ("xlingual_warm", ", '--xlingual'")):
        seconds, rss, _ = child(SCORE.format(ws=str(ws), flag=flag))
        figures[f"{name}_s"], figures[f"{name}_rss_mib"] = round(seconds, 1), round(rss)
        params = json.loads((ws / "scores" / "params.json").read_text("utf-8"))
        figures[f"{name}_figures"] = params.get("xlingual_figures")
    cold = figures["xlingual_cold_figures"] or {}
    extra = float(figures["xlingual_cold_s"]) - float(figures["xlingual_warm_s"])  # type: ignore[arg-type]
    figures["embed_texts_per_s"] = round(cold.get("embedded", 0) / extra, 1) if extra > 0 else None
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
