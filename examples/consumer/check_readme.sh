#!/usr/bin/env bash
# The README's C program, exactly as README.md shows it: extracted, built against the installed
# package the four ways check_install.sh builds (find_package shared and static, pkg-config shared
# and --static) and run under every placement, both handle kinds and both backends compiled in;
# then with RCA_SLOT_BITS=64, which the 32-bit hot path it was compiled with must refuse.
# Usage: check_readme.sh BUILD_DIR SCRATCH_DIR
set -euo pipefail
build=$1 scratch=$2 here=$(cd "$(dirname "$0")" && pwd)
readme=$here/../../README.md
mkdir -p "$scratch"
# The first ```c block after the heading "## The C API in one program".
awk '/^## The C API in one program/ {h=1} h && /^```c$/ {c=1; next} c && /^```$/ {exit} c {print}' \
  "$readme" >"$scratch/readme_example.c"
if [[ ! -s $scratch/readme_example.c ]]; then
  echo "check_readme: no \`\`\`c block under '## The C API in one program' in README.md" >&2
  exit 1
fi
runner=$scratch/run_everywhere.sh
cat >"$runner" <<'RUN'
#!/usr/bin/env bash
# Runs one build of the README program under every placement and handle, then a wrong width.
set -euo pipefail
bin=$1
for p in inline embedded shared thread padded computed; do
  for h in pointer index; do
    [[ $p == embedded && $h == index ]] && continue  # refused by design; the program knows
    out=$(RCA_PLACEMENT=$p RCA_HANDLE_KIND=$h "$bin")
    [[ $out == "$p: count 1" ]] || { echo "readme example under $p/$h printed '$out'" >&2; exit 1; }
  done
  out=$(RCA_PLACEMENT=$p "$bin")  # the program's own choice: index where it can
  [[ $out == "$p: count 1" ]] || { echo "readme example under $p printed '$out'" >&2; exit 1; }
done
if out=$(RCA_SLOT_BITS=64 "$bin" 2>&1); then
  echo "readme example ran with 64-bit slots under its 32-bit hot path" >&2; exit 1
fi
want='has 64-bit slots, but the hot path was compiled with RCA_SLOT_BITS=32'
[[ $out == *"$want"* ]] || { echo "readme example with RCA_SLOT_BITS=64 said '$out'" >&2; exit 1; }
echo "$(basename "$bin"): every placement ok, 64-bit slots refused"
RUN
chmod +x "$runner"
"$here/check_install.sh" "$build" "$scratch/install" "$scratch/readme_example.c" "$runner"
