#!/bin/bash
# Runs every libFuzzer binary of a fuzz build for a bounded time; `make fuzz` calls it.
#   tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
# Each target starts from a fresh copy of its seeds (tests/fuzz/corpus/<target>/) and its
# regressions, in BUILD_DIR/fuzz-work/<target>/, so runs never write into the repository, with
# tests/fuzz/dict/<target>.dict when there is one (keywords the mutations splice in). Per
# target it prints executions, exec/s and the result; a crash, sanitizer report, leak, timeout
# or out-of-memory leaves its input in BUILD_DIR/fuzz-artifacts/<target>/ and makes the exit
# status 1. Logs: BUILD_DIR/fuzz-logs/<target>.log.
set -uo pipefail

build=${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# A single input slower than this is reported as a timeout (a hang, not a slow parser).
per_input_timeout=25

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for bin in "$build"/bin/fuzz_*; do targets+=("$(basename "$bin" | sed 's/^fuzz_//')"); done
fi

failed=0
printf '%-18s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  bin=$build/bin/fuzz_$t
  if [ ! -x "$bin" ]; then
    printf '%-18s %12s %10s  %s\n' "$t" - - "no binary $bin"
    failed=1
    continue
  fi
  work=$build/fuzz-work/$t
  artifacts=$build/fuzz-artifacts/$t
  log=$build/fuzz-logs/$t.log
  rm -rf "$work" "$artifacts"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  cp "$here/corpus/$t"/* "$work"/ 2>/dev/null
  cp "$here/regressions/$t"/* "$work"/ 2>/dev/null
  dict=()
  [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
  "$bin" "$work" "${dict[@]}" -max_total_time="$seconds" -timeout="$per_input_timeout" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  found=$(ls "$artifacts" 2>/dev/null | head -1)
  if [ $rc -eq 0 ] && [ -z "$found" ]; then
    result=ok
  else
    failed=1
    reason=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)[^(]*|runtime error: .*|FUZZ_CHECK.*|LOCUS_CHECK.*' "$log" | head -1)
    result="FOUND (rc=$rc) ${reason:-see $log} ${found:+-> $artifacts/$found}"
  fi
  printf '%-18s %12s %10s  %s\n' "$t" "${execs:--}" "${rate:--}" "$result"
done
if [ $failed -ne 0 ]; then
  echo "fuzz: findings above; reproduce with $build/bin/fuzz_TARGET FILE, fix, and add the input to"
  echo "      tests/fuzz/regressions/TARGET/ (replayed by unit_fuzz_replay in make test)"
fi
exit $failed
