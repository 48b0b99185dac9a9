#!/bin/sh
# A suite that CMake lists must be built or the configure must fail: a renamed or deleted file may
# never just shrink ctest. Configures copies of the source tree, each with one listed file gone,
# and requires each configure to fail naming what is missing; the intact copy must configure (so a
# failure here is the removal's doing).
#   listed_suites_must_exist.sh <source dir> <scratch dir> <cmake> <generator>
set -u
src=$1 work=$2 cmake=$3 generator=$4
rm -rf "$work"
mkdir -p "$work"

copy_tree() {  # the parts of the project a configure reads (not papers/ and build folders)
  mkdir -p "$1"
  for p in CMakeLists.txt cmake refcount include allocator examples tests fuzz experiments; do
    cp -R "$src/$p" "$1/$p" || exit 1
  done
}

configure() {  # <tree> <log>: the cheap options (no VMs, no jemalloc), experiments and tests on
  "$cmake" -S "$1" -B "$1/build" -G "$generator" -DRCA_BUILD_VMS=OFF -DRCA_WITH_JEMALLOC=OFF \
    -DRCA_BUILD_EXPERIMENTS=ON -DRCA_BUILD_TESTS=ON >"$2" 2>&1
}

failed=0
copy_tree "$work/intact"
if ! configure "$work/intact" "$work/intact.log"; then
  echo "FAIL: the intact tree does not configure:"; tail -20 "$work/intact.log"; exit 1
fi
# Each removal: the file to delete, and a pattern the configure's output must contain.
check_removal() {
  name=$1 file=$2 pattern=$3
  copy_tree "$work/$name"
  rm -f "$work/$name/$file"
  if configure "$work/$name" "$work/$name.log"; then
    echo "FAIL: configure succeeded without $file (the suite would silently leave ctest)"
    failed=1
  elif ! grep -q "$pattern" "$work/$name.log"; then
    echo "FAIL: configure without $file failed, but its output does not name it ($pattern):"
    tail -20 "$work/$name.log"
    failed=1
  else
    echo "ok: without $file the configure fails"
  fi
  rm -rf "$work/$name"
}
check_removal reliability_suite tests/reliability/test_counts.cpp "test_counts.cpp"
check_removal allocator_suite tests/allocator/test_slots.cpp "test_slots.cpp"
check_removal experiments_folder experiments/CMakeLists.txt "experiments"
check_removal vms_folder experiments/vms/CMakeLists.txt "vms"
check_removal reliability_folder tests/reliability/CMakeLists.txt "reliability"
rm -rf "$work"
exit $failed
