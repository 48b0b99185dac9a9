#!/usr/bin/env bash
# Fetches Debian's python3.11 source package (3.11.2, ~26 MB) into $RCA_CPYTHON_CACHE (default
# ~/.cache/rca/cpython) from the Debian archive and suite this machine already uses, and checks
# the upstream tarball's sha256. Called by scripts/bootstrap.sh --cpython; does nothing when the
# checked tarball is there. CPython's source is never put in the work tree.
set -euo pipefail
cache=${RCA_CPYTHON_CACHE:-$HOME/.cache/rca/cpython}
orig=python3.11_3.11.2.orig.tar.gz
# Also in experiments/vms/python/cpython.cmake, which refuses any other tarball.
sha=2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849
have_ok() { [[ -f $cache/$orig ]] && echo "$sha  $cache/$orig" | sha256sum --quiet -c - 2>/dev/null; }
if have_ok; then
  exit 0
fi
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO=sudo
# A deb-src twin of the archive's own entry, in a file of our own (the machine's list is not
# edited): deb822 /etc/apt/sources.list.d/debian.sources, or one-line /etc/apt/sources.list.
list=/etc/apt/sources.list.d/rca-cpython-src.sources
if [[ ! -f $list ]]; then
  entry=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    # The first stanza is the main archive (the security archive has no python3.11 of its own).
    entry=$(awk 'BEGIN{RS=""} NR==1' /etc/apt/sources.list.d/debian.sources |
            grep -E '^(URIs|Suites|Components|Signed-By):')
  elif [[ -f /etc/apt/sources.list ]]; then
    line=$(grep -E '^deb +[a-z]+://' /etc/apt/sources.list | grep -v security | head -1 || true)
    if [[ -n $line ]]; then
      read -r _ uri suite comps <<<"$line"
      entry=$(printf 'URIs: %s\nSuites: %s\nComponents: %s' "$uri" "$suite" "$comps")
    fi
  fi
  if [[ -z $entry ]]; then
    echo "fetch-cpython: no Debian archive entry found in /etc/apt to add a deb-src twin of" >&2
    exit 1
  fi
  printf 'Types: deb-src\n%s\n' "$entry" | $SUDO tee "$list" >/dev/null
  echo "fetch-cpython: added $list" >&2
fi
$SUDO apt-get update -qq
mkdir -p "$cache"
(cd "$cache" && apt-get source --download-only python3.11 >&2)
if ! have_ok; then
  echo "fetch-cpython: $cache/$orig is missing or its sha256 is not $sha" >&2
  exit 1
fi
echo "fetch-cpython: $cache/$orig checked" >&2
