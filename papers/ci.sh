#!/usr/bin/env bash
# CI for papers/: builds the paper from the checked-in result set papers/results/ci-sample (real
# quick-mode rows, no experiment is run) and fails when a referenced value, table or figure is
# missing, a LaTeX reference is undefined, or the sample lacks an experiment (--strict).
# Needs pdflatex (scripts/bootstrap.sh --paper); PAPER_NO_PDF=1 checks the generated sources only.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
PY=/usr/bin/python3

# The checker must catch what it is for: an undefined value, a missing table and figure.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/gen"
printf '\\rvdef{a.b}{1}\n' > "$tmp/gen/values.tex"
printf '\\rv{a.b} \\rv{no.such.value} \\gentable{tab-none} \\includegraphics{fig-none}\n' > "$tmp/t.tex"
if "$PY" papers/tools/check.py "$tmp/t.tex" "$tmp/gen" > "$tmp/out" 2>&1; then
  echo "papers/ci.sh: check.py accepted an undefined value" >&2; exit 1
fi
for want in "undefined value: \\\\rv{no.such.value}" "missing table" "missing figure"; do
  grep -q "$want" "$tmp/out" || { echo "papers/ci.sh: check.py did not report: $want" >&2; cat "$tmp/out" >&2; exit 1; }
done
# ... and an overfull box in the LaTeX log.
printf 'Overfull \\hbox (12.5pt too wide) in paragraph at lines 10--12\nOutput written on rca.pdf\n' > "$tmp/t.log"
printf '\\rv{a.b}\n' > "$tmp/t2.tex"
if "$PY" papers/tools/check.py "$tmp/t2.tex" "$tmp/gen" --log "$tmp/t.log" > "$tmp/out" 2>&1 ||
   ! grep -q "overfull box: 12.5pt at line(s) 10--12" "$tmp/out"; then
  echo "papers/ci.sh: check.py did not fail on an overfull box" >&2; cat "$tmp/out" >&2; exit 1
fi
# gen.py on an empty result set: every claim 'no data', and the check in strict mode says so.
mkdir -p "$tmp/empty"
"$PY" papers/tools/gen.py "$tmp/empty" "$tmp/gen-empty" > /dev/null
"$PY" papers/tools/check.py papers/rca.tex "$tmp/gen-empty" > /dev/null
if "$PY" papers/tools/check.py papers/rca.tex "$tmp/gen-empty" --strict > /dev/null; then
  echo "papers/ci.sh: --strict accepted an empty result set" >&2; exit 1
fi

if [[ ${PAPER_NO_PDF:-0} = 1 ]]; then
  papers/build.sh --results papers/results/ci-sample --no-run --strict --no-pdf
else
  papers/build.sh --results papers/results/ci-sample --no-run --strict
fi
echo "papers/ci.sh: ok in $((SECONDS - start)) s"
