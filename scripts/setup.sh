#!/usr/bin/env bash
# st3d toolchain setup — idempotent.  Installs what is missing, says exactly what to run
# when it cannot.  Used by 'npm test', 'npm run demo' and CI.
#   npm dependencies : npm ci (or npm install) when node_modules is missing or stale
#   Debian packages  : verilator iverilog yosys opensta qflow-tech-osu018 chromium qflow graywolf gtkwave zlib1g-dev g++ make
#                      slurm-wlm munge
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[setup] $*"; }

# --- Node
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "[setup] st3d needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none)). Install Node 20 and re-run." >&2
  exit 1
fi

# --- npm dependencies
if [ ! -d node_modules ] || [ package.json -nt node_modules/.st3d-installed ] || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.st3d-installed ]; }; then
  say "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch node_modules/.st3d-installed
fi

# --- Debian packages
need=()
command -v verilator >/dev/null 2>&1 || need+=(verilator)
command -v iverilog  >/dev/null 2>&1 || need+=(iverilog)
command -v yosys     >/dev/null 2>&1 || need+=(yosys)
command -v sta       >/dev/null 2>&1 || need+=(opensta)
[ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || need+=(qflow-tech-osu018)
[ -x /usr/bin/chromium ]  || need+=(chromium)   # headless checks of report.html / sweep.html (generator/html/browser.ts)
command -v graywolf  >/dev/null 2>&1 || need+=(graywolf)   # the report's wirelength calibration (scripts/calibrate-wirelength.ts)
[ -x /usr/lib/qflow/scripts/blif2cel.tcl ] || need+=(qflow)   # its BLIF -> GrayWolf .cel converter
command -v vcd2fst   >/dev/null 2>&1 || need+=(gtkwave)     # st3d run --waves fst: fst2vcd / vcd2fst (generator/run/waves.ts)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)          # Verilator --trace-fst links zlib
command -v g++ >/dev/null 2>&1 || need+=(g++)             # Verilator --binary compiles C++
command -v make >/dev/null 2>&1 || need+=(make)
command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1 || need+=(slurm-wlm)   # st3d sweep --slurm test (scripts/slurm/local-cluster.sh)
command -v munged    >/dev/null 2>&1 || need+=(munge)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "[setup] missing tools: ${need[*]}" >&2
    echo "[setup] run:  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  say "installing ${need[*]} with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

say "tools: $(verilator --version | head -1); $(iverilog -V 2>&1 | head -1); $(yosys -V)"
