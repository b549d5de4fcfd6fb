#!/usr/bin/env bash
# The demo of README.md ('npm run demo'): set up, generate the default preset's RTL,
# lint it with Verilator -Wall and synthesize it with Yosys.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=out/demo
node bin/st3d.js describe default
node bin/st3d.js generate default -o "$out" --force
node bin/st3d.js lint "$out"
node bin/st3d.js synth "$out" -w build/demo-synth
echo "[demo] done: RTL in $out"
