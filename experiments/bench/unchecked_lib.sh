#!/usr/bin/env bash
# Builds librca.so with the release-default free checks cut out, for `rcalab alloc`'s
# release_checks_compiled_out rows (RCALAB_UNCHECKED_LIB). The library has no switch for these
# checks, and must not have one: a copy of the working tree under build/unchecked-lib/src gets
# the edits below (scripts/scratch_tree.py: each must apply exactly once), and is built there
# (Release, no tests, experiments or VMs; without jemalloc, whose initial-exec TLS would keep
# dlopen from loading the library into a running rcalab). Prints the library's path.
#
#   experiments/bench/unchecked_lib.sh
#   RCALAB_UNCHECKED_LIB=$(experiments/bench/unchecked_lib.sh) rcalab alloc --backend system
#
# Cut out: the heap magic of every entry point (check_heap), and the arena slot's object tag
# (set at rca_obj_alloc, compared and cleared at rca_obj_free). The slot bitmap's double-free
# check stays: it predates the release-default checks of issue 10 and the free needs the bit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
top=${RCA_UNCHECKED_BUILD:-$root/build/unchecked-lib}
export CCACHE_BASEDIR=$top
/usr/bin/python3 "$root/scripts/scratch_tree.py" "$root" "$top/src" <<'EOF'
[("allocator/internal.h", "  if (!heap || heap->magic != kHeapMagic) [[unlikely]]\n",
  "  if (!heap) [[unlikely]]\n"),
 ("allocator/internal.h",
  "  slot_object_tag(heap, slot).store(object_tag(obj), std::memory_order_relaxed);\n", ""),
 ("allocator/slots.cpp",
  "if (tag.load(std::memory_order_relaxed) != (obj ? object_tag(obj) : 0)) [[unlikely]] {",
  "if (false) {"),
 ("allocator/slots.cpp", "  if (obj) tag.store(0, std::memory_order_relaxed);\n", "")]
EOF
if [[ ! -f $top/build/build.ninja ]]; then
  cmake -S "$top/src" -B "$top/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRCA_BUILD_TESTS=OFF \
    -DRCA_BUILD_EXPERIMENTS=OFF -DRCA_BUILD_VMS=OFF -DRCA_WITH_JEMALLOC=OFF \
    >"$top/configure.log" 2>&1 ||
    { echo "unchecked_lib.sh: configure failed ($top/configure.log)" >&2; exit 1; }
fi
cmake --build "$top/build" --target rca -j "${RCA_BUILD_JOBS:-2}" >"$top/build.log" 2>&1 ||
  { echo "unchecked_lib.sh: build failed ($top/build.log)" >&2; exit 1; }
lib=$(find "$top/build/allocator" -name 'librca.so*' -type f | head -n 1)
[[ -n $lib ]] || { echo "unchecked_lib.sh: no librca.so in $top/build" >&2; exit 1; }
echo "$lib"
