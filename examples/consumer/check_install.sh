#!/usr/bin/env bash
# Installs rca from a build tree into a scratch prefix, then builds a C program against it four
# ways: find_package(rca) with rca::rca and rca::rca_static, pkg-config with and without --static.
# Each runs; the static ones must need no librca.so, the shared ones no LD_LIBRARY_PATH for
# anything but librca. The installed rca-demo must run with no LD_LIBRARY_PATH (its RUNPATH).
#
# Usage: check_install.sh BUILD_DIR SCRATCH_DIR [C_SOURCE [RUNNER]]
#   C_SOURCE defaults to consumer.c; RUNNER, when given, is run as `RUNNER BINARY` instead of the
#   binary itself (check_readme.sh runs each binary under every placement).
set -euo pipefail
build=$1 scratch=$2 here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$(dirname "${3:-$here/consumer.c}")" && pwd)/$(basename "${3:-$here/consumer.c}")
runner=${4:-}
rm -rf "$scratch" && mkdir -p "$scratch"
prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdirs="$prefix/lib:$prefix/lib/x86_64-linux-gnu"
run() {  # run BINARY: with librca.so found through LD_LIBRARY_PATH when it needs one
  if [[ -n $runner ]]; then LD_LIBRARY_PATH=$libdirs "$runner" "$1"; else LD_LIBRARY_PATH=$libdirs "$1"; fi
}
is_static() {  # no librca.so among the binary's needs
  if readelf -d "$1" | grep -q 'NEEDED.*librca'; then
    echo "check_install: $1 needs librca.so, but was linked statically" >&2
    return 1
  fi
}

cmake -S "$here" -B "$scratch/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DRCA_CONSUMER_SOURCE="$src" >/dev/null
cmake --build "$scratch/cmake-build" >/dev/null
run "$scratch/cmake-build/consumer"
is_static "$scratch/cmake-build/consumer_static"
run "$scratch/cmake-build/consumer_static"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -pedantic -Werror "$src" -o "$scratch/consumer-pc" $(pkg-config --cflags --libs rca)
run "$scratch/consumer-pc"
# pkg-config --static: librca.a (not the .so beside it) and its private libraries.
static_libs=$(pkg-config --static --libs rca)
static_libs=${static_libs/-lrca /-Wl,-Bstatic -lrca -Wl,-Bdynamic }
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -pedantic -Werror "$src" -o "$scratch/consumer-pc-static" \
  $(pkg-config --cflags rca) $static_libs
is_static "$scratch/consumer-pc-static"
run "$scratch/consumer-pc-static"

# rca malloc: linked through find_package (rca::rca_malloc, rca::rca_malloc_static) and
# pkg-config rca-malloc (shared, and --static), and preloaded into a system program.
if [[ -e "$scratch/cmake-build/malloc_consumer" ]]; then
  LD_LIBRARY_PATH=$libdirs "$scratch/cmake-build/malloc_consumer" >/dev/null
  "$scratch/cmake-build/malloc_consumer_static" >/dev/null
  malloc_src=$here/malloc_consumer.c
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror "$malloc_src" -o "$scratch/malloc-pc" \
    $(pkg-config --cflags --libs rca-malloc) -ldl
  LD_LIBRARY_PATH=$libdirs "$scratch/malloc-pc" >/dev/null
  malloc_static=$(pkg-config --static --libs rca-malloc)
  malloc_static=${malloc_static/-lrca_malloc /-Wl,-Bstatic -lrca_malloc -Wl,-Bdynamic }
  # shellcheck disable=SC2086
  cc -std=c11 -Wall -Wextra -Werror "$malloc_src" -o "$scratch/malloc-pc-static" $malloc_static -ldl
  if readelf -d "$scratch/malloc-pc-static" | grep -q 'NEEDED.*librca_malloc'; then
    echo "check_install: malloc-pc-static needs librca_malloc.so" >&2; exit 1
  fi
  "$scratch/malloc-pc-static" >/dev/null
  lib=$(find "$prefix" -name librca_malloc.so | head -1)
  LD_PRELOAD=$lib ls "$prefix" >/dev/null
  malloc_note=", rca malloc four ways and preloaded"
else
  malloc_note=" (no rca malloc in this build)"
fi

# The installed demo finds librca.so by itself (RUNPATH $ORIGIN/../lib...).
demo=$prefix/bin/rca-demo
if ! env -u LD_LIBRARY_PATH "$demo" 2000 >/dev/null; then
  echo "check_install: installed rca-demo does not run without LD_LIBRARY_PATH" >&2
  readelf -d "$demo" | grep -E 'RUNPATH|RPATH' >&2 || echo "  (no RUNPATH)" >&2
  exit 1
fi
echo "install check: find_package(rca) rca::rca and rca::rca_static, pkg-config shared and --static, installed rca-demo${malloc_note}: all ran"
