#!/usr/bin/env bash
# Mutation testing of the detector (cib/signals/ and cib/clustering.py) with mutmut; config in pyproject.toml
# ([tool.mutmut]: the fast targeted tests are tests/test_detector.py, tests/test_signals.py and the doctests).
# Prints the kill rate per file and in total; exits 1 when fewer than MIN_KILL % (default 80) are killed.
#   bash scripts/mutation.sh            # full run from scratch (2,451 mutants: 20-40 a minute on 2 busy cores)
#   JOBS=4 bash scripts/mutation.sh     # more workers
#   KEEP=1 bash scripts/mutation.sh     # continue an interrupted run, re-testing only what changed
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || bash scripts/setup.sh
[ "${KEEP:-0}" = "1" ] || rm -rf mutants
# polars' thread pool and fork() do not mix; one thread per worker also keeps timings stable
export POLARS_MAX_THREADS=1
.venv/bin/mutmut run --max-children "${JOBS:-2}" >mutants.log 2>&1 || { tail -c 3000 mutants.log; exit 1; }
.venv/bin/python scripts/mutation_report.py --min "${MIN_KILL:-80}"
