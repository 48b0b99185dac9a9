#!/usr/bin/env bash
# Formats the project's C and C++ sources with .clang-format, or checks that they are formatted.
#   scripts/format.sh            rewrite every tracked .c/.h/.cpp/.hpp file in place
#   scripts/format.sh --check    change nothing; list the files that differ and exit 1 if any
#   scripts/format.sh [--check] FILE...   the same for the given files only
# clang-format 14 exactly (Debian's clang-format-14, installed by scripts/bootstrap.sh): other
# versions lay out some constructs differently, and CI must agree with what developers ran.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [[ ${1:-} == --check ]]; then
  check=1
  shift
fi
fmt=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$fmt" >/dev/null; then
  echo "format.sh: $fmt not found (apt-get install clang-format-14, or scripts/bootstrap.sh)" >&2
  exit 2
fi
if ! "$fmt" --version | grep -q "version 14\."; then
  echo "format.sh: $fmt is not clang-format 14 ($("$fmt" --version))" >&2
  exit 2
fi
if (($# > 0)); then
  files=("$@")
else
  # Everything tracked that is C or C++; third-party sources are never committed (see README).
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
fi
if ((check == 0)); then
  "$fmt" -i --style=file "${files[@]}"
  exit 0
fi
bad=0
changed=0
for f in "${files[@]}"; do
  n=$("$fmt" --style=file "$f" | diff "$f" - | grep -c '^<' || true)
  if ((n > 0)); then
    echo "$f: $n lines differ from clang-format" >&2
    bad=$((bad + 1))
    changed=$((changed + n))
  fi
done
if ((bad > 0)); then
  echo "format.sh: $bad of ${#files[@]} files not formatted ($changed lines); run scripts/format.sh" >&2
  exit 1
fi
echo "format.sh: ${#files[@]} files formatted"
