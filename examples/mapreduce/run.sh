#!/usr/bin/env bash
# examples/mapreduce/run.sh HDFS_PATH [locus-mapreduce options]
#
# Builds locus-mapreduce if needed (in $BUILD_DIR, default build/ of this repository), then runs
# it against the cluster named by $LOCUS_CONTROLLER. The NameNode is the one in the cluster's
# config: $LOCUS_CONFIG when set, else the one the controller was started with (locus up
# --config FILE). Its last line of output is `node_local=N rack_local=N remote=N`.
#
#   eval "$(build/bin/locus up --nodes 4 --config locus.toml --detach)"
#   bash examples/mapreduce/run.sh hdfs:///data
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
case $build in /*) ;; *) build=$repo/$build ;; esac
bin=$build/bin/locus-mapreduce

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  echo "usage: $0 HDFS_PATH [locus-mapreduce options]   (hdfs:///PATH or webhdfs://HOST:PORT/PATH)" >&2
  [[ -x $bin ]] && "$bin" --help >&2
  exit 2
fi
if [[ -z ${LOCUS_CONTROLLER:-} ]]; then
  echo "run.sh: LOCUS_CONTROLLER is not set (eval \"\$(locus up --nodes 4 --config FILE --detach)\" sets it)" >&2
  exit 2
fi

# Build if the binary is missing or older than its sources (cmake knows the rest).
stale=0
if [[ ! -x $bin ]]; then
  stale=1
else
  for f in "$here"/*.cpp "$here"/CMakeLists.txt; do
    [[ $f -nt $bin ]] && stale=1
  done
fi
if (( stale )); then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    echo "run.sh: configuring $build" >&2
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  fi
  echo "run.sh: building locus-mapreduce in $build" >&2
  cmake --build "$build" --target locus-mapreduce -j "${JOBS:-2}" >&2
fi

exec "$bin" --controller "$LOCUS_CONTROLLER" "$@"
