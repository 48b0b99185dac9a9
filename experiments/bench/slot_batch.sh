#!/usr/bin/env bash
# Instructions per slot taken and per slot given back, one call per slot against batches
# (slot_batch.c), under callgrind: deterministic, unlike time on a shared machine.
#   experiments/bench/slot_batch.sh BUILD [N] [ROUNDS]
# BUILD: a CMake build folder (its allocator/librca.a). Defaults: N = 40000 live slots (dicts.py's
# dict), ROUNDS = 5. Prints one line per placement x handle kind.
set -euo pipefail
if (($# < 1)); then
  echo "usage: slot_batch.sh BUILD [N] [ROUNDS]" >&2
  exit 2
fi
build=$(realpath "$1") n=${2:-40000} rounds=${3:-5}
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "slot_batch.sh: valgrind not found" >&2; exit 2; }
[[ -f $build/allocator/librca.a ]] || { echo "slot_batch.sh: no $build/allocator/librca.a" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -DNDEBUG -Iinclude -Irefcount/include experiments/bench/slot_batch.c \
  "$build/allocator/librca.a" -lstdc++ -lpthread -ldl -lm -o "$tmp/slot_batch"
# Instructions inside one function (and what it calls), per slot.
per_slot() {
  local fn=$1
  shift
  valgrind --tool=callgrind --toggle-collect="$fn" --callgrind-out-file="$tmp/callgrind.out" \
    "$tmp/slot_batch" "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' |
    awk -v slots=$((n * rounds)) '{ printf "%.1f", $1 / slots }'
}
printf '%-8s %-8s %12s %12s %12s %12s\n' placement handle "take single" "take batch" \
  "give single" "give batch"
for config in "shared index" "shared pointer" "thread index" "padded index"; do
  read -r placement handle <<<"$config"
  printf '%-8s %-8s %12s %12s %12s %12s\n' "$placement" "$handle" \
    "$(per_slot take_slots "$placement" "$handle" single "$n" "$rounds")" \
    "$(per_slot take_slots "$placement" "$handle" batch "$n" "$rounds")" \
    "$(per_slot give_slots "$placement" "$handle" single "$n" "$rounds")" \
    "$(per_slot give_slots "$placement" "$handle" batch "$n" "$rounds")"
done
