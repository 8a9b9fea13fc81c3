#!/usr/bin/env bash
# The installed layout works on its own: `cmake --install` into a staging directory (DESTDIR),
# then everything runs from there and nothing from the build tree:
#   - the layout: every program and Slurm command in bin/, etc/locus/locus.toml.example,
#     etc/default/locus-{controller,node}, the systemd units (with the installed paths, and
#     KillMode=process + KillSignal=SIGQUIT for the node daemon), the man pages (groff -ww clean);
#   - `locus --version` (and the daemons') says the project's version;
#   - `locus up` starts a one-node cluster from the staged daemons with the example config, a job
#     submitted with the staged `sbatch` runs under the staged locus-supervise and completes, and
#     `locus down` stops every daemon;
#   - the example config with every "#key = value" line uncommented starts a controller too.
# Every process it starts is stopped on every path out (trap).
#
# usage: install_test.sh CMAKE BUILD_DIR PREFIX SYSCONFDIR VERSION
#   PREFIX, SYSCONFDIR: CMAKE_INSTALL_PREFIX and CMAKE_INSTALL_FULL_SYSCONFDIR of BUILD_DIR.
set -uo pipefail

if [[ $# -ne 5 ]]; then
  echo "usage: $0 CMAKE BUILD_DIR PREFIX SYSCONFDIR VERSION" >&2
  exit 2
fi
CMAKE=$1 BUILD=$2 PREFIX=$3 SYSCONFDIR=$4 VERSION=$5

# How long to wait for a job to end, or for a controller to write its address.
readonly JOB_TIMEOUT_S=60
readonly START_TIMEOUT_S=30

TMP=$(mktemp -d "${TMPDIR:-/tmp}/locus-install-test.XXXXXX")
STAGE=$TMP/stage
BIN=$STAGE$PREFIX/bin
ETC=$STAGE$SYSCONFDIR
CLUSTER=$TMP/cluster
failures=0
extra_pids=()

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# Our daemons only: a pid file may outlive its process and the pid be reused.
ours() {
  local exe
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  [[ $exe == "$TMP"/* || $exe == */munged ]]
}

cleanup() {
  if [[ -d $CLUSTER/pids ]]; then
    "$BIN/locus" down --state "$CLUSTER" >/dev/null 2>&1
    for f in "$CLUSTER"/pids/*.pid; do
      [[ -e $f ]] || continue
      pid=$(<"$f")
      ours "$pid" && kill -KILL "$pid" 2>/dev/null
    done
  fi
  for pid in "${extra_pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # Anything else still running from the staging directory (a supervisor, a job).
  for exe in /proc/[0-9]*/exe; do
    target=$(readlink "$exe" 2>/dev/null) || continue
    if [[ $target == "$TMP"/* ]]; then
      pid=${exe#/proc/}
      kill -KILL "${pid%/exe}" 2>/dev/null
    fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# Waits up to $1 seconds for the command "${@:2}" to succeed, checking every 0.1 s.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

echo "== install into $STAGE"
if ! DESTDIR=$STAGE "$CMAKE" --install "$BUILD" >"$TMP/install.log" 2>&1; then
  cat "$TMP/install.log" >&2
  echo "FAIL: cmake --install $BUILD" >&2
  exit 1
fi

echo "== layout"
for program in locus locus-controller locus-node locus-supervise locus-slurm locus-mpi-agent srun \
  locus-rsh sbatch squeue scancel sinfo sacct scontrol sacctmgr; do
  [[ -x $BIN/$program ]] || fail "bin/$program is not installed (or not executable)"
done
for file in "$ETC/locus/locus.toml.example" "$ETC/default/locus-controller" "$ETC/default/locus-node" \
  "$STAGE$PREFIX/lib/systemd/system/locus-controller.service" \
  "$STAGE$PREFIX/lib/systemd/system/locus-node.service" \
  "$STAGE$PREFIX/share/man/man1/locus.1" "$STAGE$PREFIX/share/man/man8/locus-controller.8" \
  "$STAGE$PREFIX/share/man/man8/locus-node.8" "$STAGE$PREFIX/share/man/man8/locus-supervise.8"; do
  [[ -f $file ]] || fail "${file#"$STAGE"} is not installed"
done

echo "== systemd units"
UNITS=$STAGE$PREFIX/lib/systemd/system
unit_has() {
  grep -qxF -- "$2" "$UNITS/$1" || fail "$1 lacks the line '$2'"
}
unit_has locus-controller.service \
  "ExecStart=$PREFIX/bin/locus-controller --state /var/lib/locus/controller --config $SYSCONFDIR/locus/locus.toml \$LOCUS_CONTROLLER_OPTIONS"
unit_has locus-node.service \
  "ExecStart=$PREFIX/bin/locus-node --controller \${LOCUS_CONTROLLER} --state /var/lib/locus/node \$LOCUS_NODE_OPTIONS"
# `systemctl restart locus-node` must leave batch tasks to their supervisors (SIGQUIT, the
# daemon's process alone).
unit_has locus-node.service "KillMode=process"
unit_has locus-node.service "KillSignal=SIGQUIT"
unit_has locus-node.service "EnvironmentFile=-$SYSCONFDIR/default/locus-node"
unit_has locus-node.service "User=root"
# systemd's own parser, where it is installed. The units name the installed programs
# ($PREFIX/bin), which need not exist outside the staging directory: that complaint alone is fine.
if systemd-analyze --version >/dev/null 2>&1; then
  complaints=$(systemd-analyze verify --man=no "$UNITS/locus-controller.service" \
    "$UNITS/locus-node.service" 2>&1 | grep -v 'Command .* is not executable')
  [[ -z $complaints ]] || fail "systemd-analyze verify: $complaints"
else
  echo "systemd-analyze not installed: units not verified"
fi
if grep -q '@' "$UNITS"/*.service "$ETC/locus/locus.toml.example"; then
  fail "a @VARIABLE@ left unconfigured: $(grep -l '@' "$UNITS"/*.service "$ETC/locus/locus.toml.example")"
fi

echo "== man pages"
if command -v groff >/dev/null; then
  for page in "$STAGE$PREFIX"/share/man/man*/*; do
    warnings=$(groff -ww -man -Tutf8 -z "$page" 2>&1)
    [[ -z $warnings ]] || fail "groff warns on ${page#"$STAGE"}: $warnings"
  done
else
  echo "groff not installed: man pages not rendered"
fi

echo "== locus --version"
got=$("$BIN/locus" --version 2>&1)
[[ $got == "locus $VERSION" ]] || fail "locus --version printed '$got', expected 'locus $VERSION'"
for daemon in locus-controller locus-node; do
  got=$("$BIN/$daemon" --version 2>&1)
  [[ $got == "$daemon $VERSION" ]] || fail "$daemon --version printed '$got', expected '$daemon $VERSION'"
done

# From here on the staged programs run with a PATH without the build tree: they must find each
# other in their own directory.
export PATH=$BIN:/usr/sbin:/usr/bin:/sbin:/bin
unset LOCUS_CONTROLLER LOCUS_MUNGE_SOCKET LOCUS_HTTP

echo "== a one-node cluster from the staged programs, with the example config"
if ! "$BIN/locus" up --nodes 1 --state "$CLUSTER" --topology "pack:1 core:2 pu:1" \
  --config "$ETC/locus/locus.toml.example" --detach >"$TMP/up.out" 2>"$TMP/up.err"; then
  cat "$TMP/up.err" "$CLUSTER"/logs/*.log >&2 2>/dev/null
  fail "locus up from the staging directory"
  exit 1
fi
eval "$(grep '^export ' "$TMP/up.out")"
[[ -n ${LOCUS_CONTROLLER:-} ]] || { fail "locus up printed no LOCUS_CONTROLLER: $(cat "$TMP/up.out")"; exit 1; }
for f in "$CLUSTER"/pids/controller.pid "$CLUSTER"/pids/node-*.pid; do
  exe=$(readlink "/proc/$(<"$f")/exe")
  [[ $exe == "$BIN"/* ]] || fail "$(basename "$f" .pid) runs $exe, not the staged program"
done

# The job says which program supervises it: the staged locus-supervise, beside the staged
# locus-node (the daemon looks for it in its own directory).
cd "$TMP" || exit 1
job=$("$BIN/sbatch" --parsable -o "$TMP/job.out" \
  --wrap 'echo "hello from $(hostname -s)"; readlink /proc/$PPID/exe' 2>"$TMP/sbatch.err")
if [[ ! $job =~ ^[0-9]+$ ]]; then
  fail "sbatch: '$job' $(cat "$TMP/sbatch.err")"
  exit 1
fi
if ! "$BIN/locus" wait --timeout "$JOB_TIMEOUT_S" "$job" >"$TMP/wait.out" 2>&1; then
  fail "job $job did not complete: $(cat "$TMP/wait.out"); $("$BIN/locus" show "$job" 2>&1)"
  cat "$CLUSTER"/logs/node-*.log >&2
fi
if [[ -f $TMP/job.out ]]; then
  first=$(sed -n 1p "$TMP/job.out")
  parent=$(sed -n 2p "$TMP/job.out")
  [[ $first == "hello from "* ]] || fail "job output: $(cat "$TMP/job.out")"
  [[ $parent == "$BIN/locus-supervise" ]] || fail "the job's parent is '$parent', not $BIN/locus-supervise"
else
  fail "job $job wrote no $TMP/job.out"
fi
squeue_out=$("$BIN/squeue" 2>&1) || fail "squeue: $squeue_out"

echo "== the example config with every setting uncommented"
sed -E 's/^#([a-z[])/\1/' "$ETC/locus/locus.toml.example" >"$TMP/full.toml"
mkdir -p "$TMP/full"
"$BIN/locus-controller" --config "$TMP/full.toml" --state "$TMP/full" --listen 127.0.0.1:0 \
  >"$TMP/full.log" 2>&1 &
full_pid=$!
extra_pids+=("$full_pid")
controller_up() { [[ -s $TMP/full/controller.addr ]] || ! kill -0 "$full_pid" 2>/dev/null; }
if ! wait_for "$START_TIMEOUT_S" controller_up || [[ ! -s $TMP/full/controller.addr ]]; then
  fail "the controller did not start with the uncommented example: $(cat "$TMP/full.log")"
fi
kill -TERM "$full_pid" 2>/dev/null
wait "$full_pid" 2>/dev/null

echo "== locus down"
pids=()
for f in "$CLUSTER"/pids/*.pid; do pids+=("$(<"$f")"); done
"$BIN/locus" down --state "$CLUSTER" >"$TMP/down.out" 2>&1 || fail "locus down: $(cat "$TMP/down.out")"
for pid in "${pids[@]}"; do
  # Gone, or a zombie of `locus up` that nobody reaps here: not running either way.
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [[ -z $state || $state == Z ]] || fail "pid $pid still runs after locus down"
done

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "PASS"
