#!/bin/sh
# Makes librca_malloc.a's one object: every object of rca malloc linked into one (ld -r), then each
# strong global symbol localised except the malloc family (symbols.txt), so that a program may link
# the archive beside librca.a, whose internal names are the same. Weak symbols (inline functions,
# template instances, DW.ref.__gxx_personality_v0) stay as they are: each sits in a COMDAT group
# that the final link may keep from another object, which a local copy would point into.
#   merge_static.sh LD OBJCOPY NM SYMBOLS_TXT OUTPUT OBJECT...
set -eu
ld=$1 objcopy=$2 nm=$3 symbols=$4 out=$5
shift 5
"$ld" -r "$@" -o "$out.merged"
"$nm" --defined-only -g "$out.merged" |
  awk '$2 ~ /^[BDGRST]$/ { print $3 }' | grep -vxF -f "$symbols" > "$out.localize" || true
"$objcopy" --localize-symbols="$out.localize" "$out.merged" "$out"
rm -f "$out.merged" "$out.localize"
