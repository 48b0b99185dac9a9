#!/usr/bin/env bash
# Refreshes papers/results/ci-sample/: one real run of `rcalab all --quick` and `rcalab vm --quick`
# on this machine, CSV rows + environment + saved assembly (the JSON-lines copies are left out to
# keep the checked-in set small). Never edit the rows by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build/h-paper}
JOBS=${JOBS:-2}
[[ -f $build/build.ninja ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j"$JOBS" rcalab rca-duk rca-python >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/experiments/rcalab" all --quick --label ci-sample --out "$tmp"
"$build/experiments/rcalab" vm --quick --label ci-sample --out "$tmp"
rm -rf papers/results/ci-sample
mkdir -p papers/results/ci-sample
cp "$tmp"/*.csv "$tmp"/environment.json papers/results/ci-sample/
[[ -d $tmp/asm ]] && cp -r "$tmp/asm" papers/results/ci-sample/
du -sh papers/results/ci-sample
