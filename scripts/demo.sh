#!/usr/bin/env bash
# The demo of README.md ('npm run demo'), docs/REPORT.md "The demo":
#   1. set up (npm dependencies, Debian tools when missing),
#   2. generate the default preset's RTL (the Spikformer-CIFAR shape, memory-on-logic),
#   3. the 2D-vs-3D report of the tiny preset: a random model through Verilator (activity),
#      synthesis on OSU018, OpenSTA and the energy of the four views, report.html/json.
# The report runs on tiny, not on the default preset: the default preset's synthesis and
# simulation alone take far longer than the demo's 5-minute budget on 2 cores (docs/REPORT.md
# has its report and wall times; 'st3d report default' makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/setup.sh
out=out/demo
echo "[demo] 1/2 RTL of the default preset -> $out/rtl"
node bin/st3d.js generate default -o "$out/rtl"
echo "[demo] 2/2 the 2D-vs-3D report of the tiny preset (random model at spike density 0.15) -> $out/report"
node bin/st3d.js report tiny --density 0.15 -o "$out/report"
echo "[demo] done in $(( $(date +%s) - t0 )) s: open $out/report/report.html (report.json beside it); the default preset's RTL is in $out/rtl"
