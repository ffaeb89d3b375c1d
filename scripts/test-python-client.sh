#!/usr/bin/env bash
# Runs the Python client's tests (src/clients/python) against the built bin/kvtier, with Debian's python3 (the one
# python3-grpcio and python3-protobuf install into; a pyenv or venv python3 on PATH would not see them).
# Usage: scripts/test-python-client.sh [RESULTS_DIR]   writes RESULTS_DIR/python-client.trx for scripts/test-summary.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
trx=()
if [ $# -gt 0 ]; then
  mkdir -p "$1"
  trx=(--trx "$(cd "$1" && pwd)/python-client.trx")
fi
export KVTIER_BIN=${KVTIER_BIN:-$root/bin/kvtier}
[ -x "$KVTIER_BIN" ] || { echo "$KVTIER_BIN is missing: run make build first" >&2; exit 1; }
cd "$root/src/clients/python"
exec "$python" run_tests.py "${trx[@]}"
