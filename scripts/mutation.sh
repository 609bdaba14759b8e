#!/usr/bin/env bash
# Mutation testing of the detector (cib/signals/ and cib/clustering.py) with mutmut; config in pyproject.toml
# ([tool.mutmut]: the fast targeted tests are tests/test_detector.py, test_signals.py, test_null.py,
# test_mutation_targets.py and the doctests of the mutated modules).
# Prints the kill rate per file and in total; exits 1 when fewer than MIN_KILL % (default 80) are killed.
#   bash scripts/mutation.sh            # full run from scratch (3,821 mutants: 20-40 a minute on 2 busy cores)
#   JOBS=4 bash scripts/mutation.sh     # more workers
#   KEEP=1 SAMPLE=1200 bash scripts/mutation.sh   # only a fixed random sample (see below)
#   KEEP=1 bash scripts/mutation.sh     # continue an interrupted run or update the figure after a merge:
#                                       # mutants of changed functions, unchecked ones and every survivor
#                                       # (new tests may kill it) are tested again; the rest keep their verdict
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || bash scripts/setup.sh
if [ "${KEEP:-0}" = "1" ] && [ -d mutants ]; then
  .venv/bin/python scripts/mutation_report.py --retry
  # which tests reach which function is recorded once per run: after a merge that added or split functions a
  # stale record reports their mutants as "no tests" without running anything, so collect it again
  rm -f mutants/mutmut-stats.json
else
  rm -rf mutants
fi
# SAMPLE=N (after a first run created mutants/): test only a fixed random sample of N mutants, for an unbiased
# estimate when the whole run does not fit the time; the report then covers that sample only.
names=()
if [ -n "${SAMPLE:-}" ]; then
  mapfile -t names < <(.venv/bin/python scripts/mutation_report.py --sample "$SAMPLE" --unchecked)
  echo "${#names[@]} mutants of the sample of $SAMPLE still to test"
fi
# polars' thread pool and fork() do not mix; one thread per worker also keeps timings stable
export POLARS_MAX_THREADS=1
if [ -z "${SAMPLE:-}" ] || [ "${#names[@]}" -gt 0 ]; then
  .venv/bin/mutmut run --max-children "${JOBS:-2}" "${names[@]}" >mutants.log 2>&1 || { tail -c 3000 mutants.log; exit 1; }
fi
.venv/bin/python scripts/mutation_report.py --min "${MIN_KILL:-80}" ${SAMPLE:+--sample "$SAMPLE"}
