#!/usr/bin/env bash
# The demo of README.md ('npm run demo'): set up, generate the default preset's RTL,
# lint it with Verilator -Wall, and map the tiny preset onto the OSU018 cell library.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=out/demo
node bin/st3d.js describe default
node bin/st3d.js generate default -o "$out" --force
node bin/st3d.js lint "$out"
node bin/st3d.js synth tiny -o out/demo-synth   # the default preset takes long on a laptop: docs/PHYSICAL.md, benchmark
echo "[demo] done: RTL in $out, areas of tiny on OSU018 in out/demo-synth/report.json"
