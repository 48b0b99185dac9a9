#!/usr/bin/env bash
# Builds one CPython variant out of tree (experiments/vms/python/README.md):
#   build_cpython.sh VARIANT TARBALL PATCH OUTDIR RCA_SOURCE_DIR LIBRCA JOBS
# VARIANT (names in experiments/vms/README.md): inline (the tarball unpatched), or the tarball with
# PATCH: <idx|ptr>-<freeze|nofreeze> (pymalloc), <idx|ptr>-<freeze|nofreeze>-rcamem (object
# memory from the rca heap), computed-<freeze|nofreeze> (object memory from rca's spans),
# idx-<freeze|nofreeze>-legacy (the index handle in the word's upper half, legacy code's
# references in its lower half: Py_RCA_LEGACY, claim C8).
# OUTDIR/src is the extracted (and patched) source, redone when the tarball or the patch changed;
# OUTDIR/build the build, reconfigured when the tarball or the flags changed; the interpreter
# relinks when LIBRCA is newer.
# Every configure and make runs under nice -n 10 (the machine is shared); CC is "ccache gcc"
# when ccache is installed. Prints the seconds each step took.
set -euo pipefail
if (($# != 7)); then
  echo "usage: $0 VARIANT TARBALL PATCH OUTDIR RCA_SOURCE_DIR LIBRCA JOBS" >&2
  exit 2
fi
variant=$1 tarball=$2 patch=$3 out=$4 rca=$5 librca=$6 jobs=$7
mode="" freeze="" objmem="" legacy=0
cppflags="" libs=""
if [[ $variant =~ ^(idx|ptr)-(freeze|nofreeze)(-rcamem)?$ ]]; then
  mode=$([[ ${BASH_REMATCH[1]} == ptr ]] && echo 1 || echo 2)
  objmem=$([[ -n ${BASH_REMATCH[3]} ]] && echo 1 || echo 0)
elif [[ $variant =~ ^idx-(freeze|nofreeze)-legacy$ ]]; then
  mode=2 objmem=0 legacy=1
elif [[ $variant =~ ^computed-(freeze|nofreeze)$ ]]; then
  mode=3 objmem=1
elif [[ $variant != inline ]]; then
  echo "build_cpython: unknown variant '$variant' (inline, <idx|ptr>-<freeze|nofreeze>[-rcamem]," \
       "computed-<freeze|nofreeze>, idx-<freeze|nofreeze>-legacy)" >&2
  exit 2
fi
[[ $variant == *-freeze* ]] && freeze=1 || freeze=0
if [[ $variant != inline ]]; then
  cppflags="-DPy_RCA_MODE=$mode -DPy_RCA_FREEZE=$freeze -DPy_RCA_OBJMEM=$objmem"
  # Only the legacy builds name it (0 is the headers' default): the others keep their flags.
  ((legacy)) && cppflags+=" -DPy_RCA_LEGACY=1"
  cppflags+=" -I$rca/include -I$rca/refcount/include"
  # rca is C++: the interpreter links its static library and the C++ runtime.
  libs="$librca -lstdc++ -lm -ldl -lpthread"
fi
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"

src=$out/src
build=$out/build
tar_sha=$(sha256sum "$tarball" | cut -c1-64)
src_want=$tar_sha
[[ $variant != inline ]] && src_want+=" $(sha256sum "$patch" | cut -c1-64)"
cfg_want="$tar_sha $cppflags $libs"
mkdir -p "$out"
# A new patch re-extracts the source but keeps the build: tar restores the tarball's times, and
# a patched file whose text did not change gets its old time back, so make rebuilds only what
# the patch really changed (every file includes object.h).
if [[ ! -f $out/src.stamp || $(cat "$out/src.stamp") != "$src_want" ]]; then
  rm -rf "$src.new" "$out/src.stamp"
  mkdir -p "$src.new"
  tar -xzf "$tarball" -C "$src.new" --strip-components=1
  if [[ $variant != inline ]]; then
    patch -s -p1 -d "$src.new" -i "$patch"
    for f in $(sed -n 's|^+++ b/||p' "$patch"); do
      if [[ -f $src/$f ]] && cmp -s "$src/$f" "$src.new/$f"; then
        touch -r "$src/$f" "$src.new/$f"
      fi
    done
  fi
  rm -rf "$src"
  mv "$src.new" "$src"
  echo "$src_want" >"$out/src.stamp"
fi
if [[ ! -f $build/config.status || ! -f $out/cfg.stamp || $(cat "$out/cfg.stamp") != "$cfg_want" ]]; then
  rm -rf "$build" "$out/cfg.stamp"
fi
mkdir -p "$build"
cd "$build"
t0=$(date +%s)
if [[ ! -f config.status ]]; then
  nice -n 10 "$src/configure" --without-ensurepip CC="$cc" CPPFLAGS="$cppflags" LIBS="$libs" \
    >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
  echo "$cfg_want" >"$out/cfg.stamp"
  echo "build_cpython: $variant configured in $(($(date +%s) - t0)) s" >&2
fi
# The variant also goes into pyconfig.h: setup.py passes only CPPFLAGS' -I options to the
# extension modules it builds, and third-party extensions see pyconfig.h, not these CPPFLAGS.
# Its time is kept: the core was compiled with the same values from CPPFLAGS, so nothing needs
# recompiling for it.
if [[ $variant != inline ]] && ! grep -q '^#define Py_RCA_MODE' pyconfig.h; then
  touch -r pyconfig.h "$out/pyconfig.time"
  printf '\n/* rca variant %s (build_cpython.sh) */\n' "$variant" >>pyconfig.h
  printf '#define Py_RCA_MODE %s\n#define Py_RCA_FREEZE %s\n#define Py_RCA_OBJMEM %s\n' \
    "$mode" "$freeze" "$objmem" >>pyconfig.h
  ((legacy)) && printf '#define Py_RCA_LEGACY 1\n' >>pyconfig.h
  touch -r "$out/pyconfig.time" pyconfig.h
fi
if [[ $variant != inline && -f python && $librca -nt python ]]; then
  rm -f python  # relink against the new librca
fi
t1=$(date +%s)
nice -n 10 make -j"$jobs" >make.log 2>&1 || { grep -B2 -A8 -E 'error:|Error [0-9]' make.log | head -60 >&2; exit 1; }
# setup.py reports an extension module it could not build, or built but could not import (a
# symbol the core does not export), and still succeeds: tests would then run the pure-Python
# fallbacks (datetime) or skip. Every module the unpatched build makes must be there.
if grep -q -E 'Failed to build these modules|removed because they could not be imported' make.log; then
  grep -A4 -E 'Failed to build these modules|removed because they could not be imported|undefined symbol' \
    make.log | head -20 >&2
  rm -f python
  echo "build_cpython: $variant: extension modules failed (make.log above; python removed)" >&2
  exit 1
fi
echo "build_cpython: $variant built in $(($(date +%s) - t1)) s ($build/python)" >&2
