#!/usr/bin/env bash
# Time-boxed fuzzing of the heap against its model, one run per placement set.
#
#   fuzz/run.sh [SECONDS_PER_SET] [SET ...]
#
# Configures and builds the libFuzzer target with clang-14 (+ address, undefined) into
# build/fuzz (or $RCA_FUZZ_BUILD), then runs it SECONDS_PER_SET seconds (default 60) for each
# placement set (default: inline embedded shared thread padded computed; a set may name several
# placements, comma-separated, or "all"). Each input also picks handle width, slot width,
# checks, tracking, backend and arena limit. The seeds (fuzz/corpus: hand-made, fuzz/make_seeds.py;
# fuzz/corpus-found/<placement>: inputs earlier runs found, minimised with -merge=1) are copied into
# a working corpus per set under the build folder; new inputs stay there, never in the repo.
# Crashes land in build/fuzz/crashes/<set>/ and make the script exit non-zero.
# Environment: RCA_FUZZ_JOBS (parallel sets, default 1), RCA_FUZZ_ARGS (extra libFuzzer flags),
# RCA_FUZZ_SANITIZERS (default address,undefined, CI's; "undefined" drops ASan, about twice the
# executions per second; "none" is the throughput build, coverage alone, about twice again: the
# model and rca's own checks still catch every misuse the fuzzer does and defects 6, 7 and 10
# put back, RELIABILITY.md; they build into build/fuzz-undefined and build/fuzz-none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${1:-60}
shift || true
sets=("$@")
((${#sets[@]})) || sets=(inline embedded shared thread padded computed)
sanitizers=${RCA_FUZZ_SANITIZERS:-address,undefined}
default_build=$root/build/fuzz
[[ $sanitizers == address,undefined ]] || default_build=$root/build/fuzz-${sanitizers//,/-}
build=${RCA_FUZZ_BUILD:-$default_build}

if [[ ! -f $build/build.ninja ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRCA_FUZZ_SANITIZERS="$sanitizers" >/dev/null
fi
cmake --build "$build" --target fuzz_heap -j "${RCA_BUILD_JOBS:-2}"

# ASan keeps 5 frames per allocation and free instead of 30 (malloc_context_size): fewer to
# capture on every malloc, no check removed; a report's own stack stays whole (RELIABILITY.md).
# Options the caller sets in ASAN_OPTIONS come after, so they win.
export ASAN_OPTIONS=malloc_context_size=5${ASAN_OPTIONS:+:$ASAN_OPTIONS}

fail=0
for set in "${sets[@]}"; do
  corpus=$build/corpus/$set
  crashes=$build/crashes/$set
  mkdir -p "$corpus" "$crashes"
  cp -n "$here"/corpus/* "$corpus"/
  # Found inputs of the set's placements (a set such as "shared,thread" or "all" takes several).
  for p in ${set//,/ }; do
    [[ $p == all ]] && p='*'
    for d in "$here"/corpus-found/$p/; do
      [[ -d $d ]] && cp -n "$d"* "$corpus"/ 2>/dev/null || true
    done
  done
  log=$build/fuzz-$set.log
  echo "== fuzzing placement set '$set' for ${secs}s (log: $log)"
  # Leaks: each input must leave its long-lived heap empty (the model checks live objects, slots,
  # bytes and pages), and LeakSanitizer checks the whole process at exit, after every heap is
  # destroyed. libFuzzer's own per-input leak check (-detect_leaks) is off: with heaps that
  # outlive inputs it re-ran inputs and scanned memory for nothing. No corpus reload (-reload):
  # one process per set. -rss_limit_mb bounds a runaway input.
  # CPU time too (user+sys, /usr/bin/time where there is one): on a shared machine executions per
  # CPU-second say what an idle one would give, executions per second do not.
  timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%U %S' -o "$build/cpu-$set")
  start=$(date +%s)
  if RCA_FUZZ_PLACEMENTS=$set "${timer[@]}" "$build/fuzz_heap" "$corpus" \
      -dict="$here/heap.dict" -max_total_time="$secs" -max_len=4096 -len_control=20 \
      -rss_limit_mb=2048 -timeout=30 -detect_leaks=0 -reload=0 -print_final_stats=1 \
      -artifact_prefix="$crashes/" ${RCA_FUZZ_ARGS:-} >"$log" 2>&1; then
    # The last status line (execs, cov, ft, corpus) and the final counters.
    grep -aE '^#[0-9]+' "$log" | tail -n 1
    grep -aE 'stat::number_of_executed_units|stat::peak_rss_mb' "$log" || true
    cpu=unavailable
    if [[ -s $build/cpu-$set ]]; then
      execs=$(grep -aoE 'number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
      cpu=$(awk -v n="${execs:-0}" '{ c = $1 + $2
        printf "%.1f s (%.0f executions per CPU-s)", c, (c > 0 ? n / c : 0) }' "$build/cpu-$set")
    fi
    echo "  $(($(date +%s) - start)) s, CPU $cpu, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  else
    fail=1
    echo "!! placement set '$set' failed; last lines of $log:"
    tail -n 40 "$log"
  fi
done
exit $fail
