# The workload programs of the allocator suite (rcalab malloc), read by experiments/malloc/ (which
# builds them) and tests/experiments/ (which runs their self-checks; tests/ is configured first).
set(RCA_MALLOC_WORKLOADS larson prodcons cache_scratch cache_thrash xmalloc pymix realloc_growth
    large_mix)
# The allocators preloaded beside glibc's malloc: Debian's shared libraries, found at run time by
# rcalab malloc; the tests take the ones present when configured.
set(RCA_MALLOC_MIMALLOC /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/libmimalloc.so.2)
set(RCA_MALLOC_JEMALLOC /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/libjemalloc.so.2)
