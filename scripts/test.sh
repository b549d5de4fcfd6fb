#!/usr/bin/env bash
# The test command documented in README.md ('npm test'): sets up what is missing,
# type-checks, then runs every test (golden models, RTL on Icarus and Verilator,
# generation determinism) and ends with one line "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[test] type-check (tsc --noEmit)"
npx tsc --noEmit
mkdir -p build
rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json=build/vitest.json "$@" || rc=$?
node -e '
const r = JSON.parse(require("fs").readFileSync("build/vitest.json", "utf8"));
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' || rc=1
exit $rc
