#!/usr/bin/env bash
# bench/soak.sh [--minutes M] [--rate R] [--nodes N]: a soak test of a local cluster under crashes.
#
# "Ten minutes of 200 submits/s with random cancels, a controller SIGKILL + restart every two
# minutes and a node daemon restart every three: report jobs submitted, completed, lost (must be
# 0), run twice (must be 0), and controller RSS at start and end (growth < 10%)."
#
# Starts its own cluster (N emulated nodes x 8 cores, default 4) in a temporary directory with
# `[controller] kill_grace_s = 1, node_timeout_s = 10`, then for M minutes (default 10):
#   - Submits `locus submit --parsable --requeue` jobs at R submits/s (default 200) when it can
#     keep up (the achieved rate is measured and reported): by default with bench/soak_submit.cpp
#     (build/bin/locus-soak-submit: the CLI's request from one process, SUBMITTERS threads,
#     default 8, each with its own channel); with --submit-with cli, from SUBMITTERS background
#     loops (default 6) of the `locus submit` CLI, which saturate near 40/s on 2 cores (about 22
#     ms of CPU per process). A submit that fails (the controller is down) is retried; a job counts
#     as acknowledged only once the controller returned its id.
#   - Each job sleeps 0.1-0.9 s, then appends "JOBID ATTEMPT NODE" to marks/done/JOBID (a line
#     "JOBID ATTEMPT NODE" also goes to marks/start/JOBID when it starts).
#   - About 5% of submits are followed by `locus cancel` of one of the last 5 jobs of that loop
#     or thread (so that it may be pending, running or already ended).
#   - Every CTL_EVERY s (default 120) the controller is SIGKILLed and restarted with the command
#     line, environment (LOCUS_MUNGE_SOCKET included) and working directory it had, read from
#     /proc/PID before the kill; its pid goes to STATE/pids/controller.pid so `locus down` stops it.
#     `locus up` is given fixed ports so that the same command line serves the same address.
#   - Every NODE_EVERY s (default 180) one node daemon (round robin) is stopped (SIGKILL, SIGQUIT,
#     SIGTERM, ... by default) and restarted the same way. KILL and QUIT leave its batch tasks
#     running for the restarted daemon to adopt; TERM kills them.
# Then it waits (at most DRAIN s, default 300) for every acknowledged job to end and reports:
# acknowledged submits and the achieved rate, end states, lost jobs (acknowledged, but unknown
# to the controller or not ended), jobs completed twice (more than one line in marks/done/JOBID),
# attempts launched twice (two start lines with the same attempt), COMPLETED jobs without a
# completion line, controller RSS (VmRSS) at start, after warm-up (the first 10-s sample at or
# after WARMUP s, default 120, of a controller process up for 30 s or more, when that is before
# the end of submitting), after each restart, at the end of the drain and settled (min_job_age_s
# + 10 s later, once the finished jobs have left its memory; smaps_rollup then in
# run/smaps-settled); the 10-s samples (VmRSS, RssAnon, RssFile) until the drain ends are in
# run/rss-trace.
# Exits 1 when any job was lost, completed twice, launched twice in one attempt or COMPLETED
# without running to its end, when a job was made that no submit acknowledged (a retried submit
# made twice: every submit keeps one submit token across its retries) while no submit was given
# up, or when a daemon did not come back; 2 on usage errors.
#
# Options: --minutes M, --rate R, --nodes N, --submitters P, --ctl-every S, --node-every S,
# --node-signal TERM|KILL|QUIT|alt, --drain S, --submit-with driver|cli, --warmup S,
# --events-kept N (the controller's [controller] events_kept; default: its own default).
# Environment: BUILD_DIR (default build) holds bin/locus; KEEP_TMP=1 keeps the temporary
# directory (logs, markers); it is also kept when the run fails.
set -euo pipefail
export LC_ALL=C

usage() {
  echo "usage: bench/soak.sh [--minutes M] [--rate R] [--nodes N] [--submitters P] [--ctl-every S]" >&2
  echo "                     [--node-every S] [--node-signal TERM|KILL|QUIT|alt] [--drain S]" >&2
  echo "                     [--submit-with driver|cli] [--warmup S] [--events-kept N]" >&2
  exit 2
}
MINUTES=10
RATE=200
NODES=4
SUBMITTERS=
SUBMIT_WITH=driver
WARMUP=120
EVENTS_KEPT=
# Finished jobs leave the controller's memory this long after they end (the soak's config).
MIN_JOB_AGE=60
CTL_EVERY=120
NODE_EVERY=180
NODE_SIGNAL=alt
DRAIN=300
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case "$1" in
    --minutes) MINUTES=$2 ;;
    --rate) RATE=$2 ;;
    --nodes) NODES=$2 ;;
    --submitters) SUBMITTERS=$2 ;;
    --ctl-every) CTL_EVERY=$2 ;;
    --node-every) NODE_EVERY=$2 ;;
    --node-signal) NODE_SIGNAL=$2 ;;
    --drain) DRAIN=$2 ;;
    --submit-with) SUBMIT_WITH=$2 ;;
    --warmup) WARMUP=$2 ;;
    --events-kept) EVENTS_KEPT=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $SUBMIT_WITH =~ ^(driver|cli)$ ]] || usage
if [[ -z $SUBMITTERS ]]; then
  if [[ $SUBMIT_WITH == driver ]]; then SUBMITTERS=8; else SUBMITTERS=6; fi
fi
for v in "$MINUTES" "$RATE" "$NODES" "$SUBMITTERS" "$CTL_EVERY" "$NODE_EVERY" "$DRAIN" "$WARMUP" "${EVENTS_KEPT:-1}"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || usage
done
[[ $NODE_SIGNAL =~ ^(TERM|KILL|QUIT|alt)$ && $NODES -le 64 && $SUBMITTERS -le 64 ]] || usage

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
BINS=(locus locus-controller locus-node locus-supervise)
[[ $SUBMIT_WITH == cli ]] || BINS+=(locus-soak-submit)
for b in "${BINS[@]}"; do
  [[ -x $BUILD_DIR/bin/$b ]] || { echo "soak: $BUILD_DIR/bin/$b missing: build first (make build)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "soak: python3 missing" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/locus-soak.XXXXXX")
STATE=$TMP/state
MARKS=$TMP/marks
mkdir -p "$TMP/bin" "$TMP/work" "$TMP/run" "$MARKS/done" "$MARKS/start"
# Private copies of the binaries: a rebuild during the run must not change what restarts.
for b in "${BINS[@]}"; do cp "$BUILD_DIR/bin/$b" "$TMP/bin/"; done
LOCUS=$TMP/bin/locus
# Job output would land in the submit directory: keep it out of the checkout (and use /dev/null).
cd "$TMP/work"

BG_PIDS=()
# Kills any daemon still running from our state dir (matched by its exact path), by pid.
kill_leftovers() {
  local f pid pids=()
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [[ $pid != "$$" ]] || continue
    if tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$STATE/"; then pids+=("$pid"); fi
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  kill "${pids[@]}" 2>/dev/null || true
  sleep 1
  kill -KILL "${pids[@]}" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [[ -d $STATE/pids ]]; then "$LOCUS" down --state "$STATE" >/dev/null 2>&1; fi
  kill_leftovers
  if [[ $rc -ne 0 && -d $STATE/logs ]]; then
    echo "soak: failed (rc=$rc); the last lines of the daemons' logs:" >&2
    tail -n 5 "$STATE"/logs/*.log >&2
  fi
  if [[ ${KEEP_TMP:-0} = 1 || $rc -ne 0 ]]; then
    echo "soak: kept $TMP (logs in $STATE/logs, markers in $MARKS)" >&2
  else
    cd / && rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_us() { echo "${EPOCHREALTIME/./}"; }
log() { printf '%s soak: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }
rss_kb() {
  local v
  v=$(awk '/^VmRSS:/ { v = $2 } END { print v + 0 }' "/proc/$1/status" 2>/dev/null) || true
  echo "${v:-0}"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# True while PID exists and is not a zombie.
running() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [[ ${st%% *} != Z ]]
}

# ------------------------------------------------------------------ cluster ----
read -r CTL_PORT HTTP_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cat > "$TMP/locus.toml" <<EOF
[controller]
kill_grace_s = 1
node_timeout_s = 10
# Finished jobs leave the controller's memory a minute after they end (they stay in the store):
# its RSS then follows the live queue, not the 20,000-job history of a run.
min_job_age_s = $MIN_JOB_AGE
${EVENTS_KEPT:+events_kept = $EVENTS_KEPT}
[[node]]
names = "sk$$[1-$NODES]"
EOF
NODE_NAMES=()
for ((i = 1; i <= NODES; ++i)); do NODE_NAMES+=("sk$$$i"); done
up=$("$LOCUS" up --nodes "$NODES" --config "$TMP/locus.toml" --state "$STATE" --port "$CTL_PORT" \
       --http-port "$HTTP_PORT" --topology "pack:1 numa:1 core:8 pu:1" --detach 2>"$TMP/up.err") ||
  { cat "$TMP/up.err" >&2; die "locus up failed"; }
eval "$up"
export LOCUS_CONTROLLER LOCUS_MUNGE_SOCKET
[[ -n ${LOCUS_MUNGE_SOCKET:-} ]] || log "warning: no LOCUS_MUNGE_SOCKET from locus up (system munged?)"

CTL_PID=$(<"$STATE/pids/controller.pid")
sleep 1
RSS_START=$(rss_kb "$CTL_PID")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "cluster up: controller $LOCUS_CONTROLLER pid $CTL_PID RSS $(mb "$RSS_START") MB; nodes ${NODE_NAMES[*]}; temp $TMP"
echo "start $RSS_START $CTL_PID" > "$TMP/run/rss"

# Starts ARGV... in a new session with the environment in ENVFILE (NUL-separated, as in
# /proc/PID/environ) and working directory CWD, output appended to LOG; prints its pid.
spawn() {
  python3 - "$@" <<'EOF'
import subprocess, sys
envfile, cwd, log, *argv = sys.argv[1:]
raw = open(envfile, "rb").read().split(b"\0")
env = dict(kv.split(b"=", 1) for kv in raw if b"=" in kv)
out = open(log, "ab")
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                     env=env, cwd=cwd, start_new_session=True)
print(p.pid)
EOF
}

# Stops the daemon of PIDFILE with SIGNAL and starts it again with the command line, environment
# and working directory it had; writes the new pid to PIDFILE and prints it.
restart_daemon() {
  local pidfile=$1 logfile=$2 sig=$3 pid argv=() cwd munge t
  pid=$(<"$pidfile")
  running "$pid" || { log "$pidfile: pid $pid is not running"; return 1; }
  mapfile -d '' -t argv < "/proc/$pid/cmdline"
  cp "/proc/$pid/environ" "$TMP/run/environ"
  cwd=$(readlink "/proc/$pid/cwd")
  munge=$(tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^LOCUS_MUNGE_SOCKET=//p')
  [[ -n $munge || -z ${LOCUS_MUNGE_SOCKET:-} ]] ||
    { log "pid $pid has no LOCUS_MUNGE_SOCKET in its environment"; return 1; }
  kill "-$sig" "$pid"
  t=$((SECONDS + 20))
  while running "$pid"; do
    if ((SECONDS >= t)); then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.05
  done
  pid=$(spawn "$TMP/run/environ" "$cwd" "$logfile" "${argv[@]}") || return 1
  echo "$pid" > "$pidfile"
  echo "$pid"
}

CTL_RESTARTS=0
NODE_RESTARTS=0
restart_controller() {
  local t0 t1 pid rss before
  before=$(rss_kb "$CTL_PID")
  rm -f "$STATE/controller/controller.addr"
  t0=$(now_us)
  pid=$(restart_daemon "$STATE/pids/controller.pid" "$STATE/logs/controller.log" KILL) ||
    { die "could not restart the controller"; }
  local deadline=$((SECONDS + 60)) addr=""
  until [[ -s $STATE/controller/controller.addr ]] && addr=$(<"$STATE/controller/controller.addr") && [[ -n $addr ]]; do
    running "$pid" || { die "the restarted controller (pid $pid) exited; see $STATE/logs/controller.log"; }
    ((SECONDS < deadline)) || { die "the restarted controller did not listen within 60 s"; }
    sleep 0.05
  done
  t1=$(now_us)
  [[ $addr == "$LOCUS_CONTROLLER" ]] || die "the restarted controller listens on $addr, not $LOCUS_CONTROLLER"
  CTL_PID=$pid
  CTL_RESTARTS=$((CTL_RESTARTS + 1))
  # Every node back UP (they have node_timeout_s = 10 to reconnect).
  local up=0 t2
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    up=$("$LOCUS" nodes --json 2>/dev/null |
         python3 -c 'import json,sys; print(sum(n["state"] == "UP" for n in json.load(sys.stdin)["nodes"]))' 2>/dev/null) || up=0
    [[ $up -eq $NODES ]] && break
    sleep 0.2
  done
  t2=$(now_us)
  rss=$(rss_kb "$CTL_PID")
  echo "restart$CTL_RESTARTS $rss $CTL_PID $before" >> "$TMP/run/rss"
  log "controller restart $CTL_RESTARTS: RSS before kill $(mb "$before") MB; new pid $CTL_PID listening after $(( (t1 - t0) / 1000 )) ms; $up/$NODES nodes UP after $(( (t2 - t0) / 1000 )) ms; RSS $(mb "$rss") MB"
  echo "ctl $CTL_RESTARTS $(( (t1 - t0) / 1000 )) $(( (t2 - t0) / 1000 )) $up" >> "$TMP/run/restarts"
  [[ $up -eq $NODES ]] || log "warning: only $up of $NODES nodes UP 30 s after the controller restart"
}

restart_node() {
  local name=${NODE_NAMES[$((NODE_RESTARTS % NODES))]} sig=$NODE_SIGNAL t0 t1 pid size
  if [[ $sig == alt ]]; then
    # KILL and QUIT keep the node's batch tasks (their supervisors outlive the daemon, the next
    # one adopts them); TERM kills them (the jobs are requeued).
    local ways=(KILL QUIT TERM)
    sig=${ways[$((NODE_RESTARTS % 3))]}
  fi
  local logfile=$STATE/logs/node-$name.log
  size=$(stat -c %s "$logfile")
  t0=$(now_us)
  pid=$(restart_daemon "$STATE/pids/node-$name.pid" "$logfile" "$sig") ||
    { die "could not restart node $name"; }
  NODE_RESTARTS=$((NODE_RESTARTS + 1))
  local deadline=$((SECONDS + 30)) ok=0
  while ((SECONDS < deadline)); do
    running "$pid" || { die "the restarted node daemon $name (pid $pid) exited; see $logfile"; }
    if tail -c +"$((size + 1))" "$logfile" | grep -q "registered with controller"; then ok=1; break; fi
    sleep 0.1
  done
  t1=$(now_us)
  ((ok)) || { die "node $name did not register within 30 s of its restart"; }
  log "node restart $NODE_RESTARTS: $name (SIG$sig), new pid $pid registered after $(( (t1 - t0) / 1000 )) ms"
  echo "node $NODE_RESTARTS $name $sig $(( (t1 - t0) / 1000 ))" >> "$TMP/run/restarts"
}

# ---------------------------------------------------------------- submitters ----
DURATION=$((MINUTES * 60))
START_US=$(now_us)
END_US=$((START_US + DURATION * 1000000))
# A submit still failing this long after the end is given up (it was never acknowledged).
GIVEUP_US=$((END_US + 90 * 1000000))

# The job: it sleeps 0.D s between its start and completion lines (D drawn per submit, 1-9).
job_script() {
  echo "echo \"\$LOCUS_JOB_ID \$LOCUS_RESTART_COUNT \$LOCUS_NODENAME\" >> $MARKS/start/\$LOCUS_JOB_ID; sleep 0.$1; echo \"\$LOCUS_JOB_ID \$LOCUS_RESTART_COUNT \$LOCUS_NODENAME\" >> $MARKS/done/\$LOCUS_JOB_ID"
}
SUBMIT_ARGS=(--parsable --requeue -J soak -o /dev/null -e /dev/null --wrap)

# One CLI submit loop (--submit-with cli): acknowledged ids to run/acks.K, failed attempts to
# run/fails.K (and their errors to run/errors.K), cancels as "ID RC" to run/cancels.K. The driver
# (bench/soak_submit.cpp) writes the same files, one set per thread.
submitter() {
  local k=$1 period=$((SUBMITTERS * 1000000 / RATE)) next now id d recent=() rc
  next=$(( $(now_us) + RANDOM % (period + 1) ))
  while now=$(now_us); ((now < END_US)); do
    if ((now < next)); then
      sleep "$(printf '0.%06d' $((next - now > 999999 ? 999999 : next - now)))"
      continue
    fi
    next=$((next + period))
    ((next >= now)) || next=$now  # behind the pace: no catching up in bursts
    d=$((RANDOM % 9 + 1))
    while :; do
      if id=$("$LOCUS" submit "${SUBMIT_ARGS[@]}" "$(job_script "$d")" 2>>"$TMP/run/errors.$k") &&
          [[ $id =~ ^[0-9]+$ ]]; then
        echo "$id" >> "$TMP/run/acks.$k"
        recent+=("$id")
        ((${#recent[@]} <= 4)) || recent=("${recent[@]:1}")
        break
      fi
      echo "$(now_us) ${id:-}" >> "$TMP/run/fails.$k"
      (($(now_us) < GIVEUP_US)) || { echo "gaveup" >> "$TMP/run/fails.$k"; break; }
      sleep 0.2
    done
    if ((RANDOM % 20 == 0 && ${#recent[@]} > 0)); then
      id=${recent[$((RANDOM % ${#recent[@]}))]}
      rc=0
      "$LOCUS" cancel "$id" >/dev/null 2>>"$TMP/run/errors.$k" || rc=$?
      echo "$id $rc" >> "$TMP/run/cancels.$k"
    fi
  done
}

# Controller memory every 10 s until the drain ends, to see its trend between restarts and as
# finished jobs leave memory: "SECONDS PID VmRSS RssAnon RssFile" (kB).
rss_sampler() {
  while [[ ! -e $TMP/run/drained ]]; do
    local pid mem
    pid=$(cat "$STATE/pids/controller.pid" 2>/dev/null) || pid=0
    mem=$(awk '/^(VmRSS|RssAnon|RssFile):/ { v[$1] = $2 } END { print v["VmRSS:"] + 0, v["RssAnon:"] + 0, v["RssFile:"] + 0 }' \
          "/proc/$pid/status" 2>/dev/null) || mem="0 0 0"
    echo "$(( ($(now_us) - START_US) / 1000000 )) $pid $mem" >> "$TMP/run/rss-trace"
    sleep 10
  done
}

SUB_PIDS=()
if [[ $SUBMIT_WITH == driver ]]; then
  log "submitting for $MINUTES min at a target of $RATE/s with locus-soak-submit ($SUBMITTERS threads); controller SIGKILL every $CTL_EVERY s, node restart every $NODE_EVERY s"
  "$TMP/bin/locus-soak-submit" --rate "$RATE" --threads "$SUBMITTERS" --end-us "$END_US" \
    --giveup-us "$GIVEUP_US" --out "$TMP/run" --cancel-percent 5 \
    --addr-file "$STATE/controller/controller.addr" -- "${SUBMIT_ARGS[@]}" "$(job_script '{d}')" \
    2>"$TMP/run/driver.err" &
  SUB_PIDS+=($!)
else
  log "submitting for $MINUTES min at a target of $RATE/s with $SUBMITTERS CLI loops; controller SIGKILL every $CTL_EVERY s, node restart every $NODE_EVERY s"
  for ((k = 1; k <= SUBMITTERS; ++k)); do
    submitter "$k" &
    SUB_PIDS+=($!)
  done
fi
BG_PIDS+=("${SUB_PIDS[@]}")
rss_sampler &
BG_PIDS+=($!)

# The chaos schedule: "SECONDS KIND", in time order (the controller first on a tie).
{
  for ((t = CTL_EVERY; t < DURATION; t += CTL_EVERY)); do echo "$t ctl"; done
  for ((t = NODE_EVERY; t < DURATION; t += NODE_EVERY)); do echo "$t node"; done
} | sort -n -k1,1 -k2,2 > "$TMP/run/schedule"
while read -r at kind <&3; do
  wait_us=$((START_US + at * 1000000 - $(now_us)))
  if ((wait_us > 0)); then sleep "$((wait_us / 1000000)).$(printf '%06d' $((wait_us % 1000000)))"; fi
  if [[ $kind == ctl ]]; then restart_controller; else restart_node; fi
done 3< "$TMP/run/schedule"

sub_rc=0
for p in "${SUB_PIDS[@]}"; do wait "$p" || sub_rc=$?; done
SUBMIT_END_US=$(now_us)
if [[ $SUBMIT_WITH == driver ]]; then
  log "$(tail -n 1 "$TMP/run/driver.err")"
  [[ $sub_rc -eq 0 ]] || die "locus-soak-submit failed (rc=$sub_rc): $(head -c 2000 "$TMP/run/driver.err")"
fi
acked=$(cat "$TMP"/run/acks.* 2>/dev/null | wc -l)
log "submitting done: $acked acknowledged in $(( (SUBMIT_END_US - START_US) / 1000000 )) s; waiting up to $DRAIN s for them to end"

# ------------------------------------------------------------------ drain ----
LOAD_END_SUBMIT=$(cut -d' ' -f1-3 /proc/loadavg)
deadline=$((SECONDS + DRAIN))
left=-1
while ((SECONDS < deadline)); do
  if left=$("$LOCUS" queue --json 2>/dev/null |
            python3 -c 'import json,sys; print(sum(j["name"] == "soak" for j in json.load(sys.stdin)["jobs"]))' 2>/dev/null); then
    [[ $left -eq 0 ]] && break
  else
    left=-1
  fi
  sleep 2
done
DRAIN_END_US=$(now_us)
touch "$TMP/run/drained"
log "drain: $left soak jobs still pending or running after $(( (DRAIN_END_US - SUBMIT_END_US) / 1000000 )) s"
sleep 2
CTL_PID=$(<"$STATE/pids/controller.pid")
RSS_END=$(rss_kb "$CTL_PID")
HWM_END=$(awk '/^VmHWM:/ { print $2 }' "/proc/$CTL_PID/status" 2>/dev/null || echo 0)
echo "end $RSS_END $CTL_PID" >> "$TMP/run/rss"
# Settled: once the last finished jobs are past min_job_age_s (purged every 5 s), what the
# controller holds is what an idle one with this history holds.
if [[ $left -eq 0 ]]; then
  log "waiting $((MIN_JOB_AGE + 10)) s for the finished jobs to leave the controller's memory"
  sleep $((MIN_JOB_AGE + 10))
fi
RSS_SETTLED=$(rss_kb "$CTL_PID")
echo "settled $RSS_SETTLED $CTL_PID" >> "$TMP/run/rss"
awk '{ print $1 ": " $2 }' "/proc/$CTL_PID/smaps_rollup" 2>/dev/null | grep -E '^(Rss|Pss_Anon|Pss_File|Anonymous):' > "$TMP/run/smaps-settled" || true
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
"$LOCUS" queue --state all --json > "$TMP/run/all.json" || die "locus queue --state all failed"

# ---------------------------------------------------------------- report ----
set +e
python3 - "$TMP" "$LOCUS" <<EOF
import collections, glob, json, os, subprocess, sys
tmp, locus = sys.argv[1], sys.argv[2]
run, marks = tmp + "/run", tmp + "/marks"

def lines(pattern):
    out = []
    for f in sorted(glob.glob(pattern)):
        with open(f) as fh:
            out += [l.split() for l in fh if l.strip()]
    return out

acks = [int(l[0]) for l in lines(run + "/acks.*")]
fails = lines(run + "/fails.*")
gaveup = sum(1 for l in fails if l == ["gaveup"])
cancels = lines(run + "/cancels.*")
cancel_ok = {int(l[0]) for l in cancels if l[1] == "0"}
jobs = {j["id"]: j for j in json.load(open(run + "/all.json"))["jobs"]}
ackset = set(acks)
dup_ack = len(acks) - len(ackset)

def marklines(kind, jid):
    try:
        with open(f"{marks}/{kind}/{jid}") as fh:
            return [l.split() for l in fh if l.strip()]
    except FileNotFoundError:
        return []

states = collections.Counter()
unknown, not_ended = [], []
for jid in sorted(ackset):
    j = jobs.get(jid)
    if j is None:  # not in the listing: ask for it alone before calling it lost
        r = subprocess.run([locus, "show", "--json", str(jid)], capture_output=True, text=True)
        if r.returncode == 0:
            j = json.loads(r.stdout)
            jobs[jid] = j
    if j is None:
        unknown.append(jid)
        continue
    states[j["state"]] += 1
    if j["state"] in ("PENDING", "RUNNING"):
        not_ended.append(jid)
lost = unknown + not_ended

# Jobs of ours the controller knows but never acknowledged (a submit whose reply was lost).
unacked = sorted(i for i, j in jobs.items() if j["name"] == "soak" and i not in ackset)

done_twice, same_attempt_twice, phantom, requeued, work_after_cancel = [], [], [], [], []
for jid in sorted(set(acks) | set(unacked)):
    done = marklines("done", jid)
    start = marklines("start", jid)
    st = jobs.get(jid, {}).get("state")
    if len(done) > 1:
        done_twice.append((jid, [" ".join(l[1:]) for l in done], st))
    attempts = collections.Counter(l[1] for l in start if len(l) > 1)
    if any(c > 1 for c in attempts.values()):
        same_attempt_twice.append((jid, dict(attempts), st))
    if len(attempts) > 1:
        requeued.append(jid)
    if st == "COMPLETED" and not done:
        phantom.append(jid)
    if st == "CANCELLED" and done:
        work_after_cancel.append(jid)

elapsed = (int("$SUBMIT_END_US") - int("$START_US")) / 1e6
rate = len(ackset) / elapsed if elapsed > 0 else 0
rss = [l for l in lines(run + "/rss")]
rss_start, rss_end = int("$RSS_START"), int("$RSS_END")
growth = 100.0 * (rss_end - rss_start) / rss_start if rss_start else float("nan")
restarts = lines(run + "/restarts")
trace = lines(run + "/rss-trace")

def mb(kb): return f"{int(kb) / 1024:.1f} MB"
print()
print(f"Soak: {int('$NODES')} emulated nodes x 8 cores on {os.cpu_count()} CPUs; {int('$MINUTES')} min at a target of {int('$RATE')} submits/s "
      f"({'locus-soak-submit, ' + '$SUBMITTERS' + ' threads' if '$SUBMIT_WITH' == 'driver' else '$SUBMITTERS' + ' CLI submit loops'}); controller SIGKILL every {int('$CTL_EVERY')} s, node daemon restart every {int('$NODE_EVERY')} s")
print(f"load average: $LOAD_START at start, $LOAD_END_SUBMIT when submitting ended, $LOAD_END at end")
print(f"submitted (acknowledged): {len(ackset)} in {elapsed:.0f} s = {rate:.1f}/s (target {int('$RATE')}/s)"
      + ("" if rate >= 0.95 * int("$RATE") else "  ** below target: the submitter could not keep up on this machine **"))
print(f"submit attempts that failed and were retried: {len(fails) - gaveup}; submits given up: {gaveup}; "
      f"jobs known to the controller but never acknowledged: {len(unacked)}" + (f" {unacked[:10]}" if unacked else ""))
if dup_ack:
    print(f"** the same id was acknowledged twice: {dup_ack} times **")
print(f"cancel requests: {len(cancels)} ({len(cancel_ok)} accepted, {len(cancels) - len(cancel_ok)} refused: already ended or controller down)")
print("end states: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
print(f"completed: {states['COMPLETED']}   cancelled: {states['CANCELLED']}   other: "
      f"{sum(n for s, n in states.items() if s not in ('COMPLETED', 'CANCELLED'))}")
print(f"requeued and run again (more than one attempt started): {len(requeued)}" + (f" {requeued[:10]}" if requeued else ""))
print(f"cancelled after their work completed (a completion line, state CANCELLED): {len(work_after_cancel)}")
print(f"LOST: {len(lost)} (unknown to the controller: {len(unknown)} {unknown[:20]}; not ended: {len(not_ended)} {not_ended[:20]})")
print(f"RUN TWICE (more than one completion line): {len(done_twice)}")
for jid, d, st in done_twice[:20]:
    print(f"   job {jid} ({st}): completions (attempt node) {d}")
print(f"one attempt started twice: {len(same_attempt_twice)}")
for jid, a, st in same_attempt_twice[:20]:
    print(f"   job {jid} ({st}): starts per attempt {a}")
print(f"COMPLETED without a completion line: {len(phantom)}" + (f" {phantom[:20]}" if phantom else ""))
print("restarts:")
for r in restarts:
    if r[0] == "ctl":
        print(f"   controller #{r[1]}: listening after {r[2]} ms, {r[4]}/{int('$NODES')} nodes UP after {r[3]} ms")
    else:
        print(f"   node #{r[1]} {r[2]} (SIG{r[3]}): registered again after {r[4]} ms")
print("controller RSS (VmRSS): " + "; ".join(
    f"{l[0]} {mb(l[1])}" + (f" (before the kill {mb(l[3])})" if len(l) > 3 else "") for l in rss))
if trace:
    vals = [int(l[2]) for l in trace if len(l) >= 3 and l[2].isdigit() and int(l[2]) > 0]
    if vals:
        print(f"controller RSS sampled every 10 s while submitting and draining: min {mb(min(vals))}, max {mb(max(vals))}")
if trace:
    print("controller memory samples (s: VmRSS/RssAnon MB): " + " ".join(
        f"{l[0]}:{int(l[2]) / 1024:.0f}/{int(l[3]) / 1024:.0f}" for l in trace
        if len(l) >= 4 and int(l[2]) > 0 and int(l[0]) % 60 < 10))
# A sample of a controller that has been serving for 30 s at least: one taken just after a
# restart (an empty new process) says nothing about warm-up.
def settled_process(l):
    return any(m[1] == l[1] and int(m[0]) <= int(l[0]) - 30 for m in trace if len(m) >= 3)
warm = [l for l in trace if len(l) >= 3 and int(l[0]) >= int("$WARMUP") and int(l[2]) > 0 and settled_process(l)]
if warm and int(warm[0][0]) < elapsed:
    w = int(warm[0][2])
    print(f"controller RSS after warm-up ({warm[0][0]} s) {mb(w)}, end {mb(rss_end)}: growth "
          f"{100.0 * (rss_end - w) / w:+.1f}%" + ("" if rss_end - w < 0.1 * w else "  ** over 10% **"))
rss_settled = int("$RSS_SETTLED")
print(f"controller RSS settled ({int('$MIN_JOB_AGE') + 10} s after the drain, finished jobs purged): {mb(rss_settled)}: growth "
      f"{100.0 * (rss_settled - rss_start) / rss_start:+.1f}% from the start" + (
      f", {100.0 * (rss_settled - w) / w:+.1f}% from after warm-up" if warm and int(warm[0][0]) < elapsed else ""))
print(f"controller RSS start {mb(rss_start)}, end {mb(rss_end)} (peak of the last process {mb(int('$HWM_END'))}): growth {growth:+.1f}%"
      + ("" if growth < 10 else "  ** over 10% **"))
# Every submit keeps its token across its retries (locus-soak-submit, and the CLI's own retries):
# a job made but never acknowledged is a submit made twice, unless some submit was given up.
made_twice = unacked if gaveup == 0 else []
print(f"MADE TWICE (known to the controller, never acknowledged, no submit given up): {len(made_twice)}")
bad = len(lost) + len(done_twice) + len(same_attempt_twice) + len(phantom) + len(made_twice)
print("RESULT: " + ("FAIL" if bad else "PASS") + f" (lost {len(lost)}, run twice {len(done_twice)}, made twice {len(made_twice)})")
sys.exit(1 if bad else 0)
EOF
rc=$?
exit "$rc"
