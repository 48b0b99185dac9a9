#!/usr/bin/env bash
# What rca's event counters cost: instructions per rca_obj_alloc + rca_obj_free (free_checks.c)
# under callgrind, counters compiled in (a default build) and out (CMake RCA_STATS=OFF).
#   experiments/bench/stats_cost.sh ON_BUILD OFF_BUILD [N]
# ON_BUILD, OFF_BUILD: CMake build folders; the second configured with -DRCA_STATS=OFF
# -DRCA_BUILD_EXPERIMENTS=OFF -DRCA_BUILD_VMS=OFF. Per operation = (Ir(2N) - Ir(N)) / N, so
# start-up, heap creation and teardown cancel out. Instructions, not time: deterministic here.
set -euo pipefail
if (($# < 2)); then
  echo "usage: stats_cost.sh ON_BUILD OFF_BUILD [N]" >&2
  exit 2
fi
on=$(realpath "$1") off=$(realpath "$2") n=${3:-200000}
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "stats_cost.sh: valgrind not found" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for build in on off; do
  dir=${!build}
  [[ -f $dir/allocator/librca.a ]] || { echo "stats_cost.sh: no $dir/allocator/librca.a" >&2; exit 2; }
  cc -O2 -DNDEBUG -Iinclude -Irefcount/include experiments/bench/free_checks.c \
    "$dir/allocator/librca.a" -lstdc++ -lpthread -ldl -lm -o "$tmp/free_checks_$build"
done
# Instructions of one run (callgrind's "Collected" total).
instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-10s %-8s %14s %14s %10s\n' placement handle "Ir/op stats" "Ir/op no stats" "saved"
for config in "inline pointer" "shared pointer" "thread pointer" "shared index"; do
  read -r placement handle <<<"$config"
  declare -A per
  for build in on off; do
    a=$(instructions "$tmp/free_checks_$build" "$placement" "$handle" "$n")
    b=$(instructions "$tmp/free_checks_$build" "$placement" "$handle" $((2 * n)))
    per[$build]=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
  done
  printf '%-10s %-8s %14s %14s %10s\n' "$placement" "$handle" "${per[on]}" "${per[off]}" \
    "$(awk -v x="${per[on]}" -v y="${per[off]}" 'BEGIN { printf "%.1f", x - y }')"
done
