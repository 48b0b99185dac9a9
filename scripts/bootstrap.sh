#!/usr/bin/env bash
# Installs the Debian packages rca needs, only when something is missing.
# Usage: scripts/bootstrap.sh [--paper] [--cpython]
#   --paper    adds what building the PDF needs
#   --cpython  also fetches Debian's python3.11 source package into $RCA_CPYTHON_CACHE (default
#              ~/.cache/rca/cpython) for -DRCA_BUILD_CPYTHON=ON (experiments/vms/python/README.md)
set -euo pipefail
paper=0
cpython=0
for arg in "$@"; do
  case $arg in
    --paper) paper=1 ;;
    --cpython) cpython=1 ;;
    *) echo "bootstrap: unknown option '$arg' (known: --paper --cpython)" >&2; exit 2 ;;
  esac
done
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO=sudo
pkgs=(cmake ninja-build g++ gcc clang-14 libclang-rt-14-dev clang-format-14 pkg-config binutils
      libgtest-dev libgmock-dev libbenchmark-dev libmimalloc-dev libjemalloc-dev
      duktape-dev libpython3.11-dev python3.11 python3-matplotlib valgrind linux-perf)
if ((paper)); then
  # pdflatex only (papers/README.md says why): 21 packages, ~63 MB download.
  pkgs+=(texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "bootstrap: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if ((cpython)); then
  "$(dirname "$0")/fetch-cpython.sh"
fi
