#!/usr/bin/env bash
# A private single-node Slurm cluster on localhost, from Debian's slurm-wlm and munge packages,
# for tests and for trying `st3d sweep --slurm` on one machine.  No systemd, no /etc/slurm:
# every file (munge key and socket, slurm.conf, state, spool, logs, pid files) lives in DIR,
# and `stop` stops exactly the daemons `start` started, by their PIDs.
#
#   scripts/slurm/local-cluster.sh start DIR    # munged, slurmctld, slurmd; waits until the node is idle
#   export SLURM_CONF=DIR/slurm.conf            # (start prints it, and writes it to DIR/env)
#   scripts/slurm/local-cluster.sh stop DIR     # cancels every job, then stops the daemons (TERM, then KILL)
#   scripts/slurm/local-cluster.sh status DIR
#
# Facts this relies on (Debian 12, Slurm 22.05.8): NodeAddr=127.0.0.1 and
# SlurmctldHost=<hostname>(127.0.0.1); CPUs and RealMemory from nproc and free, never more
# than `slurmd -C` reports (more drains the node); proctrack/linuxproc and task/none (the cgroup
# plugins need a writable cgroup file system); MinJobAge=4 and batch_sched_delay=0, or
# `sbatch --wait` polls every 32 s; jobs are cancelled before the daemons stop.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|status DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
say() { echo "[slurm] $*" >&2; }

# a PID is running (a zombie, e.g. a daemon whose parent does not reap it, counts as stopped)
running() {
  local pid=$1
  [ -n "$pid" ] && [ -e "/proc/$pid" ] || return 1
  local state
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)
  [ "$state" != Z ]
}

pid_of() { [ -s "$1" ] && cat "$1" || true; }

stop_pid() {
  local name=$1 pid=$2
  [ -n "$pid" ] || return 0
  running "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    running "$pid" || { say "stopped $name (pid $pid)"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  say "killed $name (pid $pid)"
}

free_ports() {
  node -e '
    const net = require("net");
    const get = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
    (async () => { const a = await get(); let b = await get(); while (b === a) b = await get(); console.log(a, b); })();'
}

case "$cmd" in
start)
  for t in munged munge slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v "$t" >/dev/null 2>&1 || { echo "[slurm] $t not found: install Debian's slurm-wlm and munge (scripts/setup.sh does)" >&2; exit 1; }
  done
  if [ -s "$dir/slurmctld.pid" ] && running "$(cat "$dir/slurmctld.pid")"; then
    echo "[slurm] a cluster is already running in $dir (stop it first: $0 stop $dir)" >&2
    exit 1
  fi
  user=$(id -un)
  host=$(hostname -s 2>/dev/null || hostname)
  rm -rf "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  # munged insists: key readable by its user only, socket folder reachable by everyone
  mkdir -p "$dir/munge/key" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge/key"
  chmod 755 "$dir" "$dir/munge"
  dd if=/dev/urandom of="$dir/munge/key/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/key/munge.key"
  sock="$dir/munge/munge.socket"
  munged --socket="$sock" --key-file="$dir/munge/key/munge.key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" $( [ "$(id -u)" = 0 ] && echo --force )
  for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "[slurm] munged did not start; see $dir/log/munged.log" >&2; exit 1; }

  cpus=$(nproc)
  mem=$(free -m | awk '/^Mem:/{print $2}')
  # never more than slurmd itself detects (a larger RealMemory drains the node)
  det=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  if [ -n "$det" ] && [ "$det" -lt "$mem" ]; then mem=$det; fi
  read -r p1 p2 < <(free_ports)
  cat > "$dir/slurm.conf" <<EOF
# written by scripts/slurm/local-cluster.sh: a private single-node cluster on localhost
ClusterName=st3dlocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$p1
SlurmdPort=$p2
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0
MinJobAge=4
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  : > "$dir/plugstack.conf"
  export SLURM_CONF="$dir/slurm.conf"
  echo "export SLURM_CONF=$dir/slurm.conf" > "$dir/env"
  slurmctld
  slurmd
  # ready when the node is idle
  for _ in $(seq 1 150); do
    st=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
    [ "$st" = idle ] && break
    sleep 0.2
  done
  if [ "${st:-}" != idle ]; then
    echo "[slurm] the node did not become idle (state '${st:-none}'); logs in $dir/log:" >&2
    tail -n 5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    exit 1
  fi
  say "cluster up: node $host ($cpus CPUs, ${mem} MB), controller 127.0.0.1:$p1; pids munged $(pid_of "$dir/munge/munged.pid"), slurmctld $(pid_of "$dir/slurmctld.pid"), slurmd $(pid_of "$dir/slurmd.pid")"
  echo "export SLURM_CONF=$dir/slurm.conf"
  ;;
stop)
  if [ -f "$dir/slurm.conf" ]; then
    export SLURM_CONF="$dir/slurm.conf"
    if [ -s "$dir/slurmctld.pid" ] && running "$(cat "$dir/slurmctld.pid")"; then
      scancel --quiet --user="$(id -un)" 2>/dev/null || true
      for _ in $(seq 1 50); do
        [ -z "$(squeue -h -o %i 2>/dev/null || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  stop_pid slurmd "$(pid_of "$dir/slurmd.pid")"
  stop_pid slurmctld "$(pid_of "$dir/slurmctld.pid")"
  stop_pid munged "$(pid_of "$dir/munge/munged.pid")"
  ;;
status)
  for d in "slurmd:$dir/slurmd.pid" "slurmctld:$dir/slurmctld.pid" "munged:$dir/munge/munged.pid"; do
    n=${d%%:*}
    p=$(pid_of "${d#*:}")
    if [ -n "$p" ] && running "$p"; then echo "$n: running (pid $p)"; else echo "$n: stopped"; fi
  done
  ;;
*)
  echo "usage: $0 start|stop|status DIR" >&2
  exit 2
  ;;
esac
