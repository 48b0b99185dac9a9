#!/usr/bin/env bash
# Installs the Debian packages rca needs, only when something is missing.
# Usage: scripts/bootstrap.sh [--paper]   (--paper adds what building the PDF needs)
set -euo pipefail
pkgs=(cmake ninja-build g++ gcc clang-14 libclang-rt-14-dev pkg-config binutils
      libgtest-dev libgmock-dev libbenchmark-dev libmimalloc-dev libjemalloc-dev
      duktape-dev libpython3.11-dev python3.11 python3-matplotlib valgrind linux-perf)
if [[ ${1:-} == --paper ]]; then
  # pdflatex only (papers/README.md says why): 21 packages, ~63 MB download.
  pkgs+=(texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
