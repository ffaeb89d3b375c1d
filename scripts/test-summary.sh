#!/usr/bin/env bash
# Sums the TRX files of a `dotnet test` run into one closing line: "tests: N passed, N failed", preceded by each
# failed test's name and the head of its message, so a log's tail alone says what failed.
set -euo pipefail
dir=${1:-artifacts/test-results}
passed=0; failed=0; skipped=0
shopt -s nullglob
for f in "$dir"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); passed=$((passed + ${p:-0}))
  x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); failed=$((failed + ${x:-0}))
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  skipped=$((skipped + ${t:-0} - ${e:-0}))
  if [ "${x:-0}" -gt 0 ] && command -v python3 >/dev/null; then
    python3 - "$f" <<'PY' || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") != "Failed":
        continue
    msg = r.findtext(".//t:Message", default="", namespaces=ns).strip()
    stack = r.findtext(".//t:StackTrace", default="", namespaces=ns).strip().splitlines()[:6]
    print(f"FAILED {r.get('testName')} ({r.get('duration')})")
    print("  " + msg[:1500].replace("\n", "\n  "))
    for line in stack:
        print("    " + line.strip())
PY
  fi
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
