#!/usr/bin/env bash
# papers/build.sh — the paper from one command: experiments (or reuse), values, tables, figures, PDF.
#
#   papers/build.sh                      result set papers/results/<short host name>/
#   papers/build.sh --label mybox        papers/results/mybox/
#   papers/build.sh --results DIR        any result set (e.g. papers/results/ci-sample)
#   papers/build.sh --no-run             never run experiments: build from the rows that are there
#   papers/build.sh --fresh              only say whether the rows would be reused (exit 0) or rerun (1)
#   papers/build.sh --run                run them even when the rows are newer than the code
#   papers/build.sh --quick              run `rcalab all --quick` / `rcalab vm --quick` (minutes)
#   papers/build.sh --no-pdf             values, tables, figures and the static check only
#   papers/build.sh --strict             fail when an experiment's rows are missing (CI)
#   papers/build.sh --build DIR          CMake build folder for rcalab (default build/release)
#
# Environment: JOBS (build parallelism, default 2), ARGS (extra rcalab flags, e.g. '--reps 9 --pin').
# Output: papers/build/<label>/rca.pdf, with generated/ (values.tex, tab-*.tex, fig-*.pdf,
# verdicts.txt) beside it. Exit status: 0 ok, 1 a step failed, 2 usage.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PAPERS=$ROOT/papers
PY=/usr/bin/python3   # Debian's python3 with python3-matplotlib (the python3 first on PATH may lack it)
JOBS=${JOBS:-2}
ARGS=${ARGS:-}

label="" results="" mode=auto pdf=1 strict="" quick="" build=build/release
while (($#)); do
  case $1 in
    --label) label=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --run) mode=run; shift ;;
    --no-run) mode=no; shift ;;
    --fresh) mode=fresh; shift ;;
    --quick) quick=--quick; shift ;;
    --no-pdf) pdf=0; shift ;;
    --strict) strict=--strict; shift ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "papers/build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

if [[ -z $results ]]; then
  [[ -n $label ]] || label=$(hostname -s 2>/dev/null | tr -c 'A-Za-z0-9_\n-' '_' || echo local)
  results=$PAPERS/results/$label
fi
[[ $results = /* ]] || results=$ROOT/$results
label=$(basename "$results")
out=$PAPERS/build/$label
say() { echo "paper: $*" >&2; }

# ---- 1. Rows: reuse when newer than the code, else run the experiments ------------------------
EXPERIMENTS=(indirection freeze threads aliasing cow ipc alloc vm)
CODE_PATHS=(allocator include refcount experiments CMakeLists.txt cmake)

code_time() {  # newest of: the last commit touching the code, and any uncommitted code change
  local t m f
  t=$(git -C "$ROOT" log -1 --format=%ct -- "${CODE_PATHS[@]}" 2>/dev/null || echo 0)
  t=${t:-0}
  while IFS= read -r f; do
    [[ -e $ROOT/$f ]] || continue
    m=$(stat -c %Y "$ROOT/$f")
    ((m > t)) && t=$m
  done < <(git -C "$ROOT" diff --name-only HEAD -- "${CODE_PATHS[@]}" 2>/dev/null || true)
  echo "$t"
}

rows_time() {  # oldest measurement date (the rows' own `date` column) over every experiment; 0 if any is missing
  "$PY" - "$results" "${EXPERIMENTS[@]}" <<'EOF'
import calendar, os, sys, time
sys.path.insert(0, os.path.join(os.environ.get("PAPERS", ""), "..", "experiments", "plots"))
import rows as R
d, exps = sys.argv[1], sys.argv[2:]
oldest = None
for e in exps:
    rs = R.load(d, e)
    dates = [r["date"] for r in rs if r.get("date")]
    if not dates:
        print(0, e)
        sys.exit(0)
    t = calendar.timegm(time.strptime(min(dates), "%Y-%m-%dT%H:%M:%SZ"))
    oldest = t if oldest is None else min(oldest, t)
print(oldest, "")
EOF
}

run_experiments() {
  say "building rcalab and the test VMs in $build (-j$JOBS)"
  if [[ ! -f $ROOT/$build/build.ninja ]] && ! cmake -S "$ROOT" -B "$ROOT/$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null; then
    say "cmake failed: no experiments run"; return 1
  fi
  if ! ninja -C "$ROOT/$build" -j"$JOBS" rcalab rca_bench_hot_ops >/dev/null; then
    say "building rcalab failed: no experiments run"; return 1
  fi
  # The VMs are optional targets (duktape-dev / libpython3.11-dev may be missing): build what exists.
  for t in rca-duk rca-python; do
    ninja -C "$ROOT/$build" -j"$JOBS" "$t" >/dev/null 2>&1 || say "target $t not built: rcalab vm will say what is missing"
  done
  local rcalab=$ROOT/$build/experiments/rcalab status=0
  mkdir -p "$results"
  say "running: rcalab all $quick --label $label --out $results $ARGS"
  # shellcheck disable=SC2086
  "$rcalab" all $quick --label "$label" --out "$results" $ARGS || { status=1; say "rcalab all failed (rows of the others kept)"; }
  say "running: rcalab vm $quick --label $label --out $results $ARGS"
  # shellcheck disable=SC2086
  "$rcalab" vm $quick --label "$label" --out "$results" $ARGS || { status=1; say "rcalab vm failed"; }
  if [[ -z $quick && -x $ROOT/$build/experiments/rca_bench_hot_ops ]]; then
    say "running the Google Benchmark microbenchmarks"
    "$ROOT/$build/experiments/rca_bench_hot_ops" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
      --benchmark_out="$results/micro.json" --benchmark_out_format=json >/dev/null || say "microbenchmarks failed"
  fi
  return $status
}

export PAPERS
case $mode in
  fresh)
    ct=$(code_time)
    read -r rt missing < <(rows_time)
    if [[ ! -d $results || $rt -eq 0 ]]; then
      say "no rows for ${missing:-any experiment} in ${results#$ROOT/}: would run the experiments"; exit 1
    elif ((rt > ct)); then
      say "rows in ${results#$ROOT/} ($(date -u -d @"$rt" +%FT%TZ)) are newer than the code ($(date -u -d @"$ct" +%FT%TZ)): would reuse them"; exit 0
    else
      say "rows in ${results#$ROOT/} ($(date -u -d @"$rt" +%FT%TZ)) are older than the code ($(date -u -d @"$ct" +%FT%TZ)): would run the experiments"; exit 1
    fi ;;
  no)
    [[ -d $results ]] || { say "no result set at $results"; exit 1; }
    say "using the rows in ${results#$ROOT/} as they are (--no-run)" ;;
  run)
    run_experiments || say "the experiments did not all run: building from the rows that exist" ;;
  auto)
    ct=$(code_time)
    read -r rt missing < <(rows_time)
    if [[ ! -d $results || $rt -eq 0 ]]; then
      say "no rows for ${missing:-any experiment} in ${results#$ROOT/}: running the experiments"
      run_experiments || say "the experiments did not all run: building from the rows that exist"
    elif ((rt > ct)); then
      say "reusing the rows in ${results#$ROOT/}: measured $(date -u -d @"$rt" +%FT%TZ), after the last code change $(date -u -d @"$ct" +%FT%TZ) (--run to measure again)"
    else
      say "rows in ${results#$ROOT/} ($(date -u -d @"$rt" +%FT%TZ)) are older than the code ($(date -u -d @"$ct" +%FT%TZ)): running the experiments"
      run_experiments || say "the experiments did not all run: building from the rows that exist"
    fi ;;
esac

# ---- 2. Values, tables, figures from the rows --------------------------------------------------
rm -rf "$out/generated"
mkdir -p "$out/generated"
"$PY" "$PAPERS/tools/gen.py" "$results" "$out/generated"

# ---- 3. The PDF ------------------------------------------------------------------------------------
if ((pdf)); then
  if ! command -v pdflatex >/dev/null; then
    say "pdflatex is missing: run scripts/bootstrap.sh --paper (or use --no-pdf)"
    exit 1
  fi
  say "pdflatex ${out#$ROOT/}/rca.pdf"
  for pass in 1 2 3; do
    if ! (cd "$out" && pdflatex -interaction=nonstopmode -halt-on-error "$PAPERS/rca.tex" >/dev/null); then
      say "pdflatex failed; the end of its log:"
      tail -25 "$out/rca.log" >&2
      exit 1
    fi
    # A third pass only when the second still moved labels.
    ((pass >= 2)) && ! grep -q "Label(s) may have changed" "$out/rca.log" && break
  done
  "$PY" "$PAPERS/tools/check.py" "$PAPERS/rca.tex" "$out/generated" --log "$out/rca.log" $strict
  say "done: ${out#$ROOT/}/rca.pdf ($(grep -o "Output written on rca.pdf ([0-9]* pages" "$out/rca.log" | grep -o "[0-9]* pages"))"
else
  "$PY" "$PAPERS/tools/check.py" "$PAPERS/rca.tex" "$out/generated" $strict
  say "done (no PDF): ${out#$ROOT/}/generated/"
fi
say "verdicts (${out#$ROOT/}/generated/verdicts.txt):"
sed -n 's/\\,/ /g; s/\$\\times\$/x/g; s/\$^\\dagger\$/(noise)/g; s/\\%/%/g; /^C[1-7]:/p' "$out/generated/verdicts.txt" >&2
