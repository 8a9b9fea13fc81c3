#!/usr/bin/env bash
# bench/mpi_launch.sh [REPS]: how long an Open MPI program takes to start under Locus, against
# plain mpirun on the same machine (issue 6, "Benchmark (bench/mpi_launch)").
#
# Starts its own cluster of 4 emulated nodes (8 cores each) in a temporary directory and, for 2, 8
# and 32 ranks (on 2, 4 and 4 nodes), REPS times each (default 5, medians reported), runs
# tests/mpi/init_time.c, which prints when each rank returned from MPI_Init and MPI_Finalize:
#   locus   a job (`locus submit -N .. -n ..`) whose script runs `locus run --mpi openmpi init_time`;
#           the clock starts at the script's first line (the job has started)
#   mpirun  plain `mpirun --oversubscribe -np N` from this script, with the transports Locus uses
#           between emulated nodes (TCP over loopback: `--mca btl tcp,self`, `*_if_include lo`)
#   4 hosts (diagnostic) Open MPI's own multi-node launch without Locus: the same mpirun options
#           Locus passes (hostfile of pseudo-hosts n1..nN, plm rsh, attached daemons) with an rsh
#           agent that only runs the command here. Its gap to `mpirun` is what one orted per
#           node costs; its gap to `locus` is what Locus adds (locus-rsh, step creation, ...).
# Figures are milliseconds from the clock's start: "init" = the last rank returned from MPI_Init,
# "fin" = the last rank returned from MPI_Finalize, "exit" = the launcher (locus run or mpirun)
# returned. Every process it starts is stopped on exit, failure and Ctrl-C included.
#
# Environment: BUILD_DIR (default build) holds bin/locus and tests/mpi/mpi_init_time.
set -euo pipefail
export LC_ALL=C  # EPOCHREALTIME's decimal point

REPS=${1:-5}
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/mpi_launch.sh [REPS]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
LOCUS=$BUILD_DIR/bin/locus
PROG=$BUILD_DIR/tests/mpi/mpi_init_time
for f in "$LOCUS" "$PROG"; do
  [[ -x $f ]] || { echo "mpi_launch: $f missing: build first (make build BUILD_DIR=...)" >&2; exit 2; }
done
MPIRUN=$(command -v mpirun) || { echo "mpi_launch: mpirun not found (make deps)" >&2; exit 2; }
# The same transports as `locus run --mpi openmpi` on emulated nodes (openmpi_plan.cpp).
LOOPBACK=(--mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)
ROOT_FLAG=()
[[ $(id -u) -eq 0 ]] && ROOT_FLAG=(--allow-run-as-root)

TMP=$(mktemp -d /tmp/locus-mpi-bench.XXXXXX)
STATE=$TMP/state
CLUSTER_UP=0
CHILD=""  # the session (pid = process group) of the mpirun running now
JOB=""    # the Locus job running now

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $CHILD ]]; then kill -KILL -- "-$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  if [[ -n $JOB ]]; then "$LOCUS" cancel "$JOB" >/dev/null 2>&1 || true; fi
  # The node daemons kill their tasks (orteds and ranks included) when they stop.
  if [[ $CLUSTER_UP -eq 1 ]]; then "$LOCUS" down --state "$STATE" >/dev/null 2>&1 || true; fi
  if [[ $rc -ne 0 && -d $STATE/logs ]]; then
    echo "mpi_launch: failed (rc=$rc); the last lines of the daemons' logs:" >&2
    tail -n 5 "$STATE"/logs/*.log >&2 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

usOf() { echo "${1/./}"; }  # EPOCHREALTIME (s.us) -> us

# The job script: times the launcher from the job's first line.
cat > "$TMP/job.sh" <<'EOF'
#!/bin/bash
export LC_ALL=C
t0=$EPOCHREALTIME
"$1" run --mpi openmpi "$2" > "$3.ranks"
rc=$?
t1=$EPOCHREALTIME
echo "$t0 $t1 $rc" > "$3.times"
exit $rc
EOF
chmod +x "$TMP/job.sh"

# The diagnostic's rsh agent: run the daemon here, each pseudo-host with its own session
# directory (as locus-rsh does on emulated nodes).
cat > "$TMP/agent.sh" <<EOF
#!/bin/sh
host=\$1; shift
mkdir -p "$TMP/sessions/\$host"
OMPI_MCA_orte_tmpdir_base="$TMP/sessions/\$host" exec /bin/sh -c "\$*"
EOF
chmod +x "$TMP/agent.sh"

# Prints "init fin exit" (ms) for one run from its rank lines and launcher times, or fails.
figures() {  # ranks_file t0_us t1_us rc expected_ranks label
  local got
  got=$(grep -c '^init_time ' "$1" || true)
  if [[ $4 -ne 0 || $got -ne $5 ]]; then
    echo "mpi_launch: $6: exit $4, $got of $5 ranks reported" >&2
    cat "$1" >&2
    return 1
  fi
  awk -v t0="$2" -v t1="$3" '
    { for (i = 2; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if (v["init_us"] > init) init = v["init_us"]
      if (v["finalize_us"] > fin) fin = v["finalize_us"] }
    END { printf "%.0f %.0f %.0f\n", (init - t0) / 1000, (fin - t0) / 1000, (t1 - t0) / 1000 }' "$1"
}

runLocus() {  # ranks nodes out
  local id t0 t1 rc
  id=$("$LOCUS" submit --parsable -N "$2" -n "$1" -t 5:00 -o "$3.job" "$TMP/job.sh" "$LOCUS" "$PROG" "$3")
  JOB=$id
  "$LOCUS" wait "$id" > "$3.wait" 2>&1 || true
  JOB=""
  if [[ ! -f $3.times ]]; then
    echo "mpi_launch: job $id did not run its launcher: $(cat "$3.wait")" >&2
    "$LOCUS" show "$id" >&2 || true
    cat "$3.job" >&2 || true
    return 1
  fi
  read -r t0 t1 rc < "$3.times"
  figures "$3.ranks" "$(usOf "$t0")" "$(usOf "$t1")" "$rc" "$1" "locus, $1 ranks"
}

runMpirun() {  # ranks out label MPIRUN_ARGS...
  local n=$1 out=$2 label=$3 t0 t1 rc=0
  shift 3
  t0=$EPOCHREALTIME
  setsid "$MPIRUN" "${ROOT_FLAG[@]}" -np "$n" "$@" "$PROG" > "$out" 2> "$out.err" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  t1=$EPOCHREALTIME
  CHILD=""
  [[ $rc -eq 0 ]] || cat "$out.err" >&2
  figures "$out" "$(usOf "$t0")" "$(usOf "$t1")" "$rc" "$n" "$label"
}

runPlain() { runMpirun "$1" "$2" "mpirun, $1 ranks" --oversubscribe "${LOOPBACK[@]}"; }

runHosts() {  # ranks nodes out
  local i hostfile=$TMP/hosts-$2
  : > "$hostfile"
  for ((i = 1; i <= $2; ++i)); do echo "n$i slots=$(($1 / $2))" >> "$hostfile"; done
  runMpirun "$1" "$3" "4 hosts, $1 ranks" --hostfile "$hostfile" --mca plm rsh --mca plm_rsh_agent \
    "$TMP/agent.sh" --mca plm_rsh_no_tree_spawn 1 --mca orte_leave_session_attached 1 "${LOOPBACK[@]}"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Node names of this run only: a node daemon starting under a name clears that name's task
# cgroups on this machine (what a killed predecessor left), so a test cluster elsewhere on the
# machine with nodes n1..n4 would kill this cluster's jobs if they shared the names.
printf '[[node]]\nnames = "mlb%s[1-4]"\n' "$$" > "$TMP/locus.toml"
CLUSTER_UP=1  # from here on `locus down` cleans up, also after a start that failed halfway
if ! up=$("$LOCUS" up --nodes 4 --config "$TMP/locus.toml" --state "$STATE" \
    --topology "pack:1 numa:1 core:8 pu:1" --detach 2> "$TMP/up.err"); then
  cat "$TMP/up.err" >&2
  exit 1
fi
eval "$up"
export LOCUS_CONTROLLER  # the jobs' `locus run` finds the controller through it

SIZES=(2 8 32)
# $TMP/res-KIND-RANKS: one "init fin exit" line per run. The run functions are called without a
# subshell, so that CHILD and JOB are seen by cleanup.
# One unmeasured round first: the first Open MPI start reads its components from disk.
runLocus 2 2 "$TMP/warm-locus" >/dev/null
runPlain 2 "$TMP/warm-plain" >/dev/null
runHosts 2 2 "$TMP/warm-hosts" >/dev/null
start=$SECONDS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= REPS; ++r)); do
  for n in "${SIZES[@]}"; do
    nodes=$((n < 4 ? n : 4))
    # Interleaved, so that the machine's noise falls on all three alike.
    runLocus "$n" "$nodes" "$TMP/locus-$n-$r" >> "$TMP/res-locus-$n"
    runPlain "$n" "$TMP/plain-$n-$r" >> "$TMP/res-plain-$n"
    runHosts "$n" "$nodes" "$TMP/hosts-$n-$r" >> "$TMP/res-hosts-$n"
  done
  echo "mpi_launch: round $r of $REPS done ($((SECONDS - start)) s)" >&2
done

col() { awk -v c="$2" '{ print $c }' "$TMP/res-$1" | median; }
echo
echo "MPI launch: Open MPI $("$MPIRUN" --version 2>/dev/null | awk 'NR == 1 { print $NF }'), 4 emulated nodes x 8 cores on $(nproc) CPUs, median of $REPS; ms from launcher start"
echo "init = last rank returned from MPI_Init, fin = from MPI_Finalize, exit = launcher returned;"
echo "4 hosts = mpirun over pseudo-hosts n1..n4 with an rsh agent that only runs the command here"
echo "load average: $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
printf '%-5s %-5s | %-20s | %-20s | %-13s | %-20s | %s\n' ranks nodes "locus init/fin/exit" "mpirun init/fin/exit" \
  "ratio init/exit" "4 hosts init/fin/exit" "locus/4 hosts"
for n in "${SIZES[@]}"; do
  nodes=$((n < 4 ? n : 4))
  li=$(col "locus-$n" 1) lf=$(col "locus-$n" 2) le=$(col "locus-$n" 3)
  pi=$(col "plain-$n" 1) pf=$(col "plain-$n" 2) pe=$(col "plain-$n" 3)
  hi=$(col "hosts-$n" 1) hf=$(col "hosts-$n" 2) he=$(col "hosts-$n" 3)
  ratio() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { printf "%.2fx/%.2fx", a / b, c / d }'; }
  printf '%-5s %-5s | %-20s | %-20s | %-13s | %-20s | %s\n' "$n" "$nodes" "$li/$lf/$le" "$pi/$pf/$pe" \
    "$(ratio "$li" "$pi" "$le" "$pe")" "$hi/$hf/$he" "$(ratio "$li" "$hi" "$le" "$he")"
done
echo "target: locus within 1.5x of plain mpirun"
