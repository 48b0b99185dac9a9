#!/usr/bin/env bash
# Does the fuzzer find defects 6, 7 and 10 of issue 10 when they are put back?
#
#   fuzz/mutants.sh [SECONDS] [DEFECT ...]        defects: 6 7 10 (default: all three)
#
# For each defect, a copy of the working tree under build/mutants/<defect>/src gets one small edit
# that undoes the defect's fix (the library itself has no switch for it), the fuzzer is built from
# that copy (clang-14, as fuzz/run.sh builds it) and run on every placement for at most SECONDS
# (default 300), from the hand seeds of the basic, threads and exhaust scenarios only: no seed
# does misuse, so the fuzzer has to make the misuse operations up itself. The mutant is found when
# the fuzzer stops with a crash (the model's "misuse was not caught", rca's fatal message in the
# wrong place, or an ASan report); the script prints the seconds it took and exits non-zero if a
# mutant survives. Environment: RCA_MUTANT_SEEDS=all also gives it the misuse seeds and the found
# corpus (as fuzz/run.sh does), RCA_FUZZ_ARGS extra libFuzzer flags (e.g. -seed=1),
# RCA_FUZZ_SANITIZERS as for fuzz/run.sh (default address,undefined; "undefined" builds the
# mutants without ASan under build/mutants-undefined, "none" with coverage alone under
# build/mutants-none).
#
#   6   the generic operations (rca_obj_incref/decref/count) unchecked: live_object_slot trusts
#       the object's header (allocator/heap.cpp)
#   7   embedded bare slots unchecked: no registry entry for them (allocator/placement/embedded.cpp)
#   10  an object's slot freed without its object tag check (allocator/slots.cpp)
#
#   fuzz/mutants.sh --check-edits                 only checks that each edit still applies
#
# (ctest runs the second form, fuzz_mutant_edits_apply: a change to the code an edit names makes
# it fail at once, instead of leaving a mutant that no longer builds or no longer puts the defect
# back.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
check_edits=0
if [[ ${1:-} == --check-edits ]]; then
  check_edits=1
  shift
fi
secs=${1:-300}
shift || true
defects=("$@")
((${#defects[@]})) || defects=(6 7 10)
sanitizers=${RCA_FUZZ_SANITIZERS:-address,undefined}
default_top=$root/build/mutants
[[ $sanitizers == address,undefined ]] || default_top=$root/build/mutants-${sanitizers//,/-}
top=${RCA_MUTANTS_BUILD:-$default_top}
# The copies differ in one file: with paths relative to here, ccache serves the rest.
export CCACHE_BASEDIR=$top

# The edit that undoes each defect's fix (scripts/scratch_tree.py: each must apply exactly once).
edits() {
  case $1 in
    6) cat <<'EOF' ;;
[("allocator/heap.cpp",
  "  check_heap(heap, what);\n  char desc[128];\n  if (heap->tracking && !registry_contains(",
  "  check_heap(heap, what);\n  if (heap) return heap->placement->obj_slot(heap, obj);\n"
  "  char desc[128];\n  if (heap->tracking && !registry_contains(")]
EOF
    7) cat <<'EOF' ;;
[("allocator/placement/embedded.cpp",
  "    if (heap->tracking) registry_add(heap, embedded_slot, block_kind::slot);\n", ""),
 ("allocator/placement/embedded.cpp",
  "    if (heap->tracking)\n      registry_remove(heap, reinterpret_cast<void *>(handle), "
  "block_kind::slot, what);\n", "")]
EOF
    10) cat <<'EOF' ;;
[("allocator/slots.cpp",
  "if (tag.load(std::memory_order_relaxed) != (obj ? object_tag(obj) : 0)) [[unlikely]] {",
  "if (false) {")]
EOF
    *)
      echo "mutants.sh: no edit for defect $1 (known: 6 7 10)" >&2
      return 1
      ;;
  esac
}

# As fuzz/run.sh: 5 frames per allocation in ASan's records; the caller's options win.
export ASAN_OPTIONS=malloc_context_size=5${ASAN_OPTIONS:+:$ASAN_OPTIONS}

if ((check_edits)); then
  for defect in "${defects[@]}"; do
    edits "$defect" | /usr/bin/python3 "$root/scripts/scratch_tree.py" --check "$root"
    echo "defect $defect: its edits apply"
  done
  exit 0
fi

fail=0
for defect in "${defects[@]}"; do
  dir=$top/$defect
  rm -rf "$dir/corpus" "$dir/crashes"
  mkdir -p "$dir/corpus" "$dir/crashes"
  edits "$defect" | /usr/bin/python3 "$root/scripts/scratch_tree.py" "$root" "$dir/src"
  if [[ ! -f $dir/build/build.ninja ]]; then
    CC=clang-14 CXX=clang++-14 cmake -S "$dir/src/fuzz" -B "$dir/build" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRCA_FUZZ_SANITIZERS="$sanitizers" >/dev/null
  fi
  cmake --build "$dir/build" --target fuzz_heap -j "${RCA_BUILD_JOBS:-2}" >"$dir/build.log" 2>&1 ||
    { echo "!! defect $defect: the mutant does not build (log: $dir/build.log)"; fail=1; continue; }
  if [[ ${RCA_MUTANT_SEEDS:-basic} == all ]]; then
    cp "$here"/corpus/* "$dir/corpus/"
    cp -n "$here"/corpus-found/*/* "$dir/corpus/" 2>/dev/null || true
  else
    cp "$here"/corpus/basic-* "$here"/corpus/threads-* "$here"/corpus/exhaust-* "$dir/corpus/"
  fi
  log=$dir/fuzz.log
  start=$(date +%s.%N)
  if RCA_FUZZ_PLACEMENTS=all "$dir/build/fuzz_heap" "$dir/corpus" -dict="$here/heap.dict" \
      -max_total_time="$secs" -max_len=4096 -len_control=20 -rss_limit_mb=2048 -timeout=30 \
      -reload=0 -detect_leaks=0 -artifact_prefix="$dir/crashes/" ${RCA_FUZZ_ARGS:-} \
      >"$log" 2>&1; then
    echo "!! defect $defect: not found in ${secs}s (log: $log)"
    fail=1
    continue
  fi
  took=$(echo "$(date +%s.%N) - $start" | bc)
  execs=$(grep -aoE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
  # (Without ASan a wild read is UBSan's SEGV report; an unknown report still prints the time.)
  what=$(grep -aE 'check failed|ERROR: [A-Za-z]+Sanitizer|runtime error|^rca: |deadly signal' "$log" |
    head -n 1 || true)
  context=$(grep -a -m1 'context:' "$log" || true)
  printf 'defect %s: found in %.1f s (%s executions): %s\n' "$defect" "$took" "${execs:-?}" "$what"
  [[ -z $context ]] || echo "  ${context# }"
done
exit $fail
