#!/usr/bin/env bash
# Job throughput benchmark: N trivial jobs (`true`) on a local cluster of
# 8 emulated nodes of 16 CPUs, submitted (a) one by one through the CLI and
# (b) as one array job; optionally the same workload on Slurm for comparison.
#
#   bench/throughput.sh N [--with-slurm]
#
# Locus is taken from $BUILD_DIR/bin (default build/, relative to the repo).
# --with-slurm installs Debian's slurm-wlm and munge with apt-get if missing
# (needs root), starts a private munged, slurmctld and 8 slurmd in a temp dir,
# on free ports, and stops them at the end.
# Set KEEP_TMP=1 to keep the temp dir (logs) after the run.
# Docs: docs/benchmarks.md.
set -euo pipefail

usage() { echo "usage: $0 N [--with-slurm]" >&2; exit 2; }

N=""
WITH_SLURM=0
for arg in "$@"; do
  case "$arg" in
    --with-slurm) WITH_SLURM=1 ;;
    -h|--help) usage ;;
    *) [[ -z "$N" && "$arg" =~ ^[1-9][0-9]*$ ]] || usage; N="$arg" ;;
  esac
done
[[ -n "$N" ]] || usage

NODES=8
CPUS=16
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO/$BUILD_DIR"
for b in locus locus-controller locus-node locus-supervise; do
  [[ -x "$BUILD_DIR/bin/$b" ]] || { echo "throughput: $BUILD_DIR/bin/$b not found (make build)" >&2; exit 1; }
done
# A generous bound so that a stuck run fails instead of hanging.
WAIT_TIMEOUT=$(( 300 + N / 2 ))

TMP="$(mktemp -d "${TMPDIR:-/tmp}/locus-bench.XXXXXX")"
LOCUS_STATE="$TMP/locus"
SLURM_PIDS=()
MUNGED_PID=""

# Kills any Locus daemon still running from our state dir (by its exact path).
kill_locus_leftovers() {
  local f pid pids=()
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [[ "$pid" != "$$" ]] || continue
    if tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "--state $LOCUS_STATE/"; then pids+=("$pid"); fi
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -f "$LOCUS_STATE/pids/controller.pid" ]]; then
    "$LOCUS" down --state "$LOCUS_STATE" >/dev/null 2>&1
  fi
  kill_locus_leftovers
  local pid
  for pid in "${SLURM_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${SLURM_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [[ -n "$MUNGED_PID" ]]; then
    kill "$MUNGED_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$MUNGED_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$MUNGED_PID" 2>/dev/null
  fi
  if [[ "${KEEP_TMP:-0}" = 1 ]]; then
    echo "throughput: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
# rate COUNT START END -> COUNT / (END - START), one decimal
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; if (d <= 0) d = 1e-9; printf "%.1f", n / d }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }'; }
PHASE=locus
die() {
  echo "throughput: $*" >&2
  if [[ "$PHASE" = locus && -f "$LOCUS_STATE/logs/controller.log" ]]; then
    echo "throughput: last lines of $LOCUS_STATE/logs/controller.log:" >&2
    tail -n 5 "$LOCUS_STATE/logs/controller.log" >&2
  fi
  exit 1
}

# Run private copies of the binaries, so that a rebuild during the run does not
# break it (`locus up` starts the daemons that sit next to `locus`).
mkdir -p "$TMP/bin"
cp "$BUILD_DIR/bin/locus" "$BUILD_DIR/bin/locus-controller" "$BUILD_DIR/bin/locus-node" "$BUILD_DIR/bin/locus-supervise" "$TMP/bin/"
LOCUS="$TMP/bin/locus"

# Job output files land in the working directory: keep them in the temp dir.
mkdir -p "$TMP/work"
cd "$TMP/work"

echo "throughput: N=$N, $NODES nodes x $CPUS CPUs, $(nproc) host cores, temp $TMP"

# ---------------------------------------------------------------- Locus ----
# Builds before 4d8e8bb could wrongly report "the controller exited at start"
# on a loaded machine (they read /proc/PID/cmdline right after posix_spawn,
# before the kernel had set it) and left that controller running: retry, and
# reap whatever a failed attempt left behind.
up_env=""
for attempt in 1 2 3 4 5; do
  if up_env=$("$LOCUS" up --nodes "$NODES" --topology "pack:1 core:$CPUS pu:1" --detach \
                --state "$LOCUS_STATE" 2>"$TMP/locus-up.err"); then
    break
  fi
  up_env=""
  echo "throughput: locus up attempt $attempt failed: $(tail -1 "$TMP/locus-up.err")" >&2
  kill_locus_leftovers
done
[[ -n "$up_env" ]] || die "locus up failed; see $LOCUS_STATE/logs"
eval "$up_env"
export LOCUS_CONTROLLER

# (a) one by one through the CLI
ids=()
t0=$(now)
for ((i = 0; i < N; i++)); do
  id=$("$LOCUS" submit --parsable --wrap true) || die "locus submit failed after $i jobs"
  ids+=("$id")
done
t1=$(now)
"$LOCUS" wait --quiet --timeout "$WAIT_TIMEOUT" "${ids[@]}" || die "locus: not all one-by-one jobs COMPLETED"
t2=$(now)
L1_SUB=$(rate "$N" "$t0" "$t1")
L1_DONE=$(rate "$N" "$t0" "$t2")
echo "locus one-by-one: submitted/s=$L1_SUB completed/s=$L1_DONE (submit $(secs "$t0" "$t1") s, all completed $(secs "$t0" "$t2") s)"

# (b) one array of N tasks
t0=$(now)
aid=$("$LOCUS" submit --parsable --array "1-$N" --wrap true) || die "locus array submit failed"
t1=$(now)
"$LOCUS" wait --quiet --timeout "$WAIT_TIMEOUT" "$aid" || die "locus: not all array tasks COMPLETED"
t2=$(now)
L2_DONE=$(rate "$N" "$t0" "$t2")
echo "locus array: completed/s=$L2_DONE (submit $(secs "$t0" "$t1") s, all completed $(secs "$t0" "$t2") s)"

done_count=$("$LOCUS" queue --state all --json | grep -c '"state": "COMPLETED"' || true)
[[ "$done_count" -eq $((2 * N)) ]] || die "locus: expected $((2 * N)) COMPLETED jobs, found $done_count"

cpid=$(cat "$LOCUS_STATE/pids/controller.pid")
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$cpid/status")
echo "locus controller peak RSS MB=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
"$LOCUS" down --state "$LOCUS_STATE" >/dev/null 2>&1
rm -f "$LOCUS_STATE/pids/controller.pid"

[[ "$WITH_SLURM" = 1 ]] || exit 0
PHASE=slurm

# ---------------------------------------------------------------- Slurm ----
# Debian's Slurm lives in /usr/bin and /usr/sbin. Put them first: build/bin has
# Locus's own sbatch/squeue/... shims, which may be on PATH.
export PATH="/usr/sbin:/usr/bin:$PATH"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null ||
   ! command -v sbatch >/dev/null; then
  [[ "$(id -u)" -eq 0 ]] || die "slurm-wlm and munge are missing; install them (apt-get install slurm-wlm munge) or run as root"
  echo "throughput: installing slurm-wlm and munge"
  apt-cache policy slurm-wlm | sed -n '1,3p'
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
# slurm-wlm's postinst may have started the system daemons; they do not
# interfere (other ports, other socket), but this script only uses its own.
echo "throughput: $(slurmctld -V)"

SD="$TMP/slurm"
mkdir -p "$SD"/{munge,state,log,spool}
for k in $(seq "$NODES"); do mkdir -p "$SD/spool/sn$k"; done

# A private munged: own key, socket, pid, log and seed files.
dd if=/dev/urandom of="$SD/munge/munge.key" bs=1 count=1024 status=none
chmod 0600 "$SD/munge/munge.key"
chmod 0700 "$SD/munge"
MUNGE_SOCKET="$SD/munge/munge.socket"
munged --foreground --force \
  --key-file="$SD/munge/munge.key" --socket="$MUNGE_SOCKET" \
  --pid-file="$SD/munge/munged.pid" --log-file="$SD/munge/munged.log" \
  --seed-file="$SD/munge/munged.seed" >"$SD/log/munged.out" 2>&1 &
MUNGED_PID=$!
for _ in $(seq 100); do [[ -S "$MUNGE_SOCKET" ]] && break; sleep 0.1; done
[[ -S "$MUNGE_SOCKET" ]] || die "munged did not start; see $SD/log/munged.out"

# Free TCP ports: 1 for slurmctld, 1 per slurmd.
mapfile -t PORTS < <(python3 - "$((NODES + 1))" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks: print(s.getsockname()[1])
EOF
)
CTLD_PORT=${PORTS[0]}
HOST=$(hostname -s)
MEM_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 / 16 }' /proc/meminfo)

export SLURM_CONF="$SD/slurm.conf"
{
  cat <<EOF
ClusterName=locusbench
SlurmctldHost=$HOST
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$SD/state
SlurmdSpoolDir=$SD/spool/%n
SlurmctldPidFile=$SD/slurmctld.pid
SlurmdPidFile=$SD/slurmd-%n.pid
SlurmctldLogFile=$SD/log/slurmctld.log
SlurmdLogFile=$SD/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MaxJobCount=$(( 4 * N + 10000 ))
MaxArraySize=$(( N + 1 ))
MinJobAge=300
ReturnToService=2
SlurmdParameters=config_overrides
EOF
  for k in $(seq "$NODES"); do
    echo "NodeName=sn$k NodeHostname=$HOST NodeAddr=127.0.0.1 Port=${PORTS[$k]} CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM_MB State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} >"$SLURM_CONF"

for c in sbatch squeue sinfo scontrol; do
  [[ "$($c -V 2>/dev/null)" = slurm* ]] || die "$(command -v $c) is not Slurm's $c"
done
slurmctld -D -i -f "$SLURM_CONF" >"$SD/log/slurmctld.out" 2>&1 &
SLURM_PIDS+=($!)
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.2; done
scontrol ping >/dev/null 2>&1 || die "slurmctld did not start; see $SD/log/slurmctld.log"
for k in $(seq "$NODES"); do
  slurmd -D -N "sn$k" -f "$SLURM_CONF" >"$SD/log/slurmd-sn$k.out" 2>&1 &
  SLURM_PIDS+=($!)
done
idle=0
for _ in $(seq 150); do
  idle=$(sinfo -h -N -t idle -o '%N' 2>/dev/null | wc -l)
  [[ "$idle" -eq "$NODES" ]] && break
  sleep 0.2
done
[[ "$idle" -eq "$NODES" ]] || { sinfo -N >&2 || true; die "only $idle of $NODES slurmd are idle; see $SD/log"; }

# Wait until the queue is empty; polls every 0.2 s (no sacct without slurmdbd).
slurm_drain() {
  local deadline=$(( SECONDS + WAIT_TIMEOUT ))
  while (( SECONDS < deadline )); do
    [[ "$(squeue -h -o '%i' | wc -l)" -eq 0 ]] && return 0
    sleep 0.2
  done
  die "slurm: jobs still queued after $WAIT_TIMEOUT s"
}
# Every job must have ended COMPLETED: count them in slurmctld's log.
slurm_completed() { grep -c "_job_complete: JobId=.* done" "$SD/log/slurmctld.log" || true; }

# (a) one by one
t0=$(now)
for ((i = 0; i < N; i++)); do
  sbatch --parsable --wrap true -o /dev/null >/dev/null
done
t1=$(now)
slurm_drain
t2=$(now)
S1_SUB=$(rate "$N" "$t0" "$t1")
S1_DONE=$(rate "$N" "$t0" "$t2")
echo "slurm one-by-one: submitted/s=$S1_SUB completed/s=$S1_DONE (submit $(secs "$t0" "$t1") s, all completed $(secs "$t0" "$t2") s)"

# (b) one array of N tasks
t0=$(now)
sbatch --parsable --array="1-$N" --wrap true -o /dev/null >/dev/null
t1=$(now)
slurm_drain
t2=$(now)
S2_DONE=$(rate "$N" "$t0" "$t2")
echo "slurm array: completed/s=$S2_DONE (submit $(secs "$t0" "$t1") s, all completed $(secs "$t0" "$t2") s)"

done_count=$(slurm_completed)
[[ "$done_count" -eq $((2 * N)) ]] || echo "throughput: warning: slurmctld logged $done_count of $((2 * N)) jobs done" >&2
ctld_pid=${SLURM_PIDS[0]}
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$ctld_pid/status")
echo "slurm slurmctld peak RSS MB=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')"

echo "locus/slurm one-by-one completed/s ratio=$(ratio "$L1_DONE" "$S1_DONE")"
echo "locus/slurm array completed/s ratio=$(ratio "$L2_DONE" "$S2_DONE")"
