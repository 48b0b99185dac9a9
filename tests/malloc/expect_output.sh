#!/bin/sh
# Runs a command and checks how it ended and what it wrote to stderr.
#   expect_output.sh abort|exit0 REGEX COMMAND [ARGS...]
# abort: the command must be killed by SIGABRT, and its stderr match REGEX (rca's one-line
# message for a misuse). exit0: it must exit 0, and its stderr match REGEX (RCA_SHOW_STATS).
set -u
how=$1 regex=$2
shift 2
err=$(mktemp)
"$@" 2>"$err" >/dev/null
rc=$?
status=0
if [ "$how" = abort ] && [ "$rc" -ne 134 ]; then
  echo "FAIL: expected SIGABRT (status 134), got $rc from: $*"; status=1
elif [ "$how" = exit0 ] && [ "$rc" -ne 0 ]; then
  echo "FAIL: expected exit 0, got $rc from: $*"; status=1
fi
if ! grep -Eq "$regex" "$err"; then
  echo "FAIL: stderr does not match /$regex/:"; status=1
fi
[ "$status" -eq 0 ] || cat "$err"
[ "$status" -eq 0 ] && echo "ok: $how, stderr matches /$regex/"
rm -f "$err"
exit "$status"
