#!/usr/bin/env bash
# bench/preemption.sh [REPS] [REPLICAS]: how fast a service takes its place on a cluster full of
# borrowed batch work (issue 5, "Benchmark (bench/preemption)").
#
# Starts its own cluster of 4 emulated nodes x 8 cores in a temporary directory, with one pool
# where account `web` is guaranteed 16 cores and account `batch` has no guarantee (all it runs
# is borrowed). Each repeat (default 5):
#   1. 32 one-core batch jobs of account `batch` (QoS normal) fill the cluster;
#   2. a service of account `web` (QoS service) with 0 replicas, a health check (`true` every
#      second, no grace) is scaled to REPLICAS (default 16) replicas of 1 core each;
#   3. the clock runs from `locus service scale` until `locus service show` counts every
#      replica healthy.
# Batch work lost: for each batch job that was preempted (requeued), the core-seconds it had run
# before the scale (its work is lost: it starts again from the beginning).
# Every process it starts is stopped on exit, failure and Ctrl-C included.
#
# Environment: BUILD_DIR (default build) holds bin/locus.
set -euo pipefail
export LC_ALL=C

REPS=${1:-5}
REPLICAS=${2:-16}
[[ $REPS =~ ^[1-9][0-9]*$ && $REPLICAS =~ ^[1-9][0-9]*$ && $REPLICAS -le 32 ]] ||
  { echo "usage: bench/preemption.sh [REPS] [REPLICAS <= 32]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
LOCUS=$BUILD_DIR/bin/locus
[[ -x $LOCUS ]] || { echo "preemption: $LOCUS missing: build first (make build)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "preemption: python3 missing (make deps)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/locus-preempt-bench.XXXXXX)
# Replicas write their output files in the submit directory: keep them out of the checkout.
cd "$TMP"
STATE=$TMP/state
CLUSTER_UP=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $CLUSTER_UP -eq 1 ]]; then "$LOCUS" down --state "$STATE" >/dev/null 2>&1 || true; fi
  if [[ $rc -ne 0 && -d $STATE/logs ]]; then
    echo "preemption: failed (rc=$rc); the last lines of the daemons' logs:" >&2
    tail -n 5 "$STATE"/logs/*.log >&2 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
USER_NAME=$(id -un)
# Node names of this run only (a node daemon clears its name's leftover cgroups at start).
cat > "$TMP/locus.toml" <<EOF
[controller]
kill_grace_s = 2
service_ports = "$((40000 + $$ % 1000 * 16))-$((40000 + $$ % 1000 * 16 + 15 + 32))"
[[node]]
names = "pb$$[1-4]"
[[account]]
name = "web"
users = ["$USER_NAME"]
[[account]]
name = "batch"
users = ["$USER_NAME"]
[[pool]]
name = "main"
default = true
[[pool.quota]]
account = "web"
guaranteed = { cores = 16 }
EOF
CLUSTER_UP=1
up=$("$LOCUS" up --nodes 4 --config "$TMP/locus.toml" --state "$STATE" --topology "pack:1 numa:1 core:8 pu:1" --detach)
eval "$up"
export LOCUS_CONTROLLER

# The value of a JSON expression over `locus ... --json` output.
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$LOCUS" service create web --replicas 0 --cpus 1 -A web --health-cmd true --health-interval 1 \
  --health-grace 0 -- exec sleep 100000 >/dev/null

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= REPS; ++r)); do
  ids=()
  for ((i = 0; i < 32; ++i)); do
    ids+=("$("$LOCUS" submit --parsable -A batch -n 1 -o /dev/null --wrap 'exec sleep 100000')")
  done
  # Wait until all 32 run (the cluster is full).
  deadline=$((SECONDS + 60))
  until [[ $("$LOCUS" queue --json | jq_py "sum(1 for j in d['jobs'] if j['state'] == 'RUNNING' and j['name'] == 'wrap')") -eq 32 ]]; do
    ((SECONDS < deadline)) || { echo "preemption: batch jobs did not all start" >&2; exit 1; }
    sleep 0.1
  done
  sleep 1  # let the batch work age, so that lost work is visible
  declare -A started=()
  for id in "${ids[@]}"; do
    started[$id]=$("$LOCUS" show --json "$id" |
      jq_py "int(__import__('datetime').datetime.fromisoformat(d['start_time'].replace('Z', '+00:00')).timestamp())")
  done
  t0=$(now_ms)
  "$LOCUS" service scale web "$REPLICAS" >/dev/null
  deadline=$((SECONDS + 120))
  until [[ $("$LOCUS" service show web --json | jq_py "d['healthy']") -eq $REPLICAS ]]; do
    ((SECONDS < deadline)) || { echo "preemption: the replicas did not all become healthy" >&2; "$LOCUS" service show web >&2; exit 1; }
    sleep 0.05
  done
  t1=$(now_ms)
  lost=0
  preempted=0
  for id in "${ids[@]}"; do
    attempt=$("$LOCUS" show --json "$id" | jq_py "d['attempt']")
    if [[ $attempt -gt 0 ]]; then
      preempted=$((preempted + 1))
      lost=$((lost + t0 / 1000 - ${started[$id]}))
    fi
  done
  echo "$((t1 - t0)) $lost $preempted" >> "$TMP/results"
  echo "preemption: round $r of $REPS: ${REPLICAS} replicas healthy in $((t1 - t0)) ms, $preempted batch jobs preempted, $lost core-s lost" >&2
  # Back to the start: no replicas, no batch work.
  "$LOCUS" service scale web 0 >/dev/null
  "$LOCUS" cancel "${ids[@]}" >/dev/null 2>&1 || true
  deadline=$((SECONDS + 60))
  until [[ $("$LOCUS" queue --json | jq_py "len(d['jobs'])") -eq 0 ]]; do
    ((SECONDS < deadline)) || { echo "preemption: the cluster did not empty" >&2; exit 1; }
    sleep 0.1
  done
  unset started
done

pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR - 1) * p + 0.5) + 1; print v[i] }'; }
echo
echo "Preemption: 4 emulated nodes x 8 cores on $(nproc) CPUs, full of 32 one-core batch jobs; a service scaled 0 -> $REPLICAS"
echo "load average: $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; $REPS repeats"
echo "time to all replicas healthy (ms): p50 $(awk '{ print $1 }' "$TMP/results" | pct 0.5)  p95 $(awk '{ print $1 }' "$TMP/results" | pct 0.95)"
echo "batch jobs preempted per repeat: p50 $(awk '{ print $3 }' "$TMP/results" | pct 0.5); core-seconds lost: p50 $(awk '{ print $2 }' "$TMP/results" | pct 0.5)  p95 $(awk '{ print $2 }' "$TMP/results" | pct 0.95)"
