#!/usr/bin/env bash
# Benchmarks (see scripts/bench.ts): npm run bench -- [preset ...] [--sim verilator|icarus] [--density p]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx scripts/bench.ts "$@"
