#!/bin/sh
# RCA_SHOW_STATS=1 prints the process heap's statistics at exit; unset, nothing.
#   show_stats.sh LIBRCA_MALLOC_SO MALLOC_C MALLOC_C_STATIC
set -eu
lib=$1 prog=$2 static_prog=$3
expect=$(dirname "$0")/expect_output.sh
"$expect" exit0 'rca malloc stats \(pid [0-9]+\)' \
  env LD_PRELOAD="$lib" RCA_SHOW_STATS=1 "$prog" brief
# malloc_c brief keeps one huge block and a thread's small ones live at exit.
"$expect" exit0 'huge +1 live blocks, [1-9][0-9]* bytes \(peak [1-9][0-9]*\), [1-9][0-9]* made' \
  env LD_PRELOAD="$lib" RCA_SHOW_STATS=1 "$prog" brief
"$expect" exit0 'spans +[1-9][0-9]* in use, [1-9][0-9]* abandoned by exited threads' \
  env LD_PRELOAD="$lib" RCA_SHOW_STATS=1 "$prog" brief
"$expect" exit0 'threads +2 caches made' env RCA_SHOW_STATS=1 "$static_prog" brief
if env LD_PRELOAD="$lib" "$prog" brief 2>&1 | grep -q 'rca malloc stats'; then
  echo "FAIL: statistics printed without RCA_SHOW_STATS"; exit 1
fi
echo "ok: no statistics without RCA_SHOW_STATS"
