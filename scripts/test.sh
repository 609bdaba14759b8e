#!/usr/bin/env bash
# Newcomer command 2 (and what CI runs): set up, fetch what the tests need (Debian chromium, Neo4j Community
# 5.26 from Maven Central), run the linters and the whole test suite against a real Neo4j and a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium" >&2
  else
    sudo -n true 2>/dev/null && sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || echo "warning: chromium missing and no root to install it; browser tests will be skipped locally" >&2
  fi
fi
.venv/bin/python scripts/neo4j_server.py fetch >/dev/null
.venv/bin/ruff check cib loaders queries reports tests benchmarks scripts
.venv/bin/mypy
.venv/bin/lint-imports
# Line + branch coverage of the whole run (unit, integration against Neo4j, browser), then the per-module gate.
rm -f .coverage .coverage.* coverage.json
.venv/bin/pytest --cov --cov-report=term-missing:skip-covered --cov-report=json:coverage.json "$@"
# Report-only until a full run after the loaders rewrite shows every module >= 90 %; then set
# COVERAGE_GATE=enforce here (or in .ci/run) to make a module below the bar fail the build.
if [ "${COVERAGE_GATE:-report}" = "enforce" ]; then
  .venv/bin/python scripts/coverage_gate.py coverage.json --quiet
else
  .venv/bin/python scripts/coverage_gate.py coverage.json --quiet || echo "coverage gate: report only (COVERAGE_GATE=enforce to fail)"
fi
