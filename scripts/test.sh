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
# The gate fails the build when a module of cib/, loaders/, reports/ or queries/ is below 90 % of lines (each
# failing module is named with its figure). Only for a partial local run (`bash scripts/test.sh -k foo`) set
# COVERAGE_GATE=report to see the figures without failing.
if [ "${COVERAGE_GATE:-enforce}" = "report" ] && [ "${CI:-}" != "true" ]; then
  .venv/bin/python scripts/coverage_gate.py coverage.json --quiet || echo "coverage gate: report only (COVERAGE_GATE=report)"
else
  .venv/bin/python scripts/coverage_gate.py coverage.json --quiet
fi
