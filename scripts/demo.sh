#!/usr/bin/env bash
# Newcomer command 1: set up, then run the demo scenario on the embedded store:
# generate exports → load → score → HTML report → takedown list (+ evaluation against ground truth).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -rf cib-demo
.venv/bin/cib demo -o cib-demo "$@"
echo
echo "Open cib-demo/report/index.html; the takedown list is cib-demo/takedown.csv"
