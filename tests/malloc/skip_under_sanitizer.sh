#!/bin/sh
# Stands in for the rca malloc preload and static tests in a sanitizer build (ctest reports it
# skipped, with this reason): a sanitizer runtime is itself the process's malloc and intercepts
# malloc, free and the rest, so a second replacement can neither be preloaded nor linked under it.
# The layer's internals run under the sanitizer instead (test_malloc_internals).
echo "skipped: $1 needs rca malloc as the process's malloc, which a $2 build cannot have"
exit 77
