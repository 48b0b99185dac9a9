#!/bin/sh
# rca malloc's misuse messages: one line naming the call and the pointer, then abort. Only the
# program under test runs with rca malloc (env), not this script's own tools.
#   misuse.sh LIBRCA_MALLOC_SO MALLOC_C MALLOC_C_STATIC
set -eu
lib=$1 prog=$2 static_prog=$3
expect=$(dirname "$0")/expect_output.sh
"$expect" abort "rca: free: 0x[0-9a-f]+ is a block freed twice of rca malloc's heap" \
  env LD_PRELOAD="$lib" "$prog" misuse double_free
"$expect" abort 'rca: free: 0x[0-9a-f]+ is not a block of rca malloc \(outside its region' \
  env LD_PRELOAD="$lib" "$prog" misuse foreign
"$expect" abort "rca: free: 0x[0-9a-f]+ is an interior pointer of rca malloc's heap" \
  env LD_PRELOAD="$lib" "$prog" misuse interior
"$expect" abort 'rca: free: 0x[0-9a-f]+ is a block freed twice' \
  env LD_PRELOAD="$lib" RCA_CHECKS=1 "$prog" misuse double_free_later
"$expect" abort "rca: rca malloc: option RCA_RETAIN_PAGES: 'lots' is not a size" \
  env LD_PRELOAD="$lib" RCA_RETAIN_PAGES=lots "$prog" preload
"$expect" abort "rca: rca malloc: RCA_RETAIN_PERCENT 200000 is above 100000" \
  env LD_PRELOAD="$lib" RCA_RETAIN_PERCENT=200000 "$prog" preload
"$expect" abort 'rca: free: 0x[0-9a-f]+ is a block freed twice' "$static_prog" misuse double_free
