# CPython 3.11 with out-of-line counts (experiments/vms/python/README.md). Opt-in:
# -DRCA_BUILD_CPYTHON=ON builds Debian's python3.11 source (fetched by scripts/bootstrap.sh
# --cpython, checked here) once per variant, out of tree under <build>/cpython/<variant>, with
# experiments/vms/python/build_cpython.sh (nice -n 10, RCA_CPYTHON_JOBS jobs), and adds the ctests
# that run CPython's own regression subset on each variant.
option(RCA_BUILD_CPYTHON "Build CPython 3.11 per count variant (slow: minutes per variant)" OFF)
if(NOT RCA_BUILD_CPYTHON)
  return()
endif()

# The variants, one name per build (experiments/vms/README.md explains them): inline is the
# tarball unpatched (the baseline, pymalloc); idx|ptr keep a handle to a slot in the object,
# computed finds the count from the object's address; -freeze|-nofreeze: the frozen-count check
# compiled in or not; object memory is pymalloc, as in stock CPython, unless -rcamem (the rca
# heap that holds the counts; computed: always rca's spans); -legacy: the index handle in the
# word's upper half and legacy code's references in its lower half (claim C8). Each built
# variant's interpreter is <build>/cpython/<variant>/build/python; <build>/cpython/variants.txt
# lists them.
set(RCA_CPYTHON_ALL_VARIANTS inline
    idx-freeze idx-nofreeze ptr-freeze ptr-nofreeze
    idx-freeze-rcamem idx-nofreeze-rcamem ptr-freeze-rcamem ptr-nofreeze-rcamem
    computed-freeze computed-nofreeze idx-freeze-legacy idx-nofreeze-legacy)
set(RCA_CPYTHON_DEFAULT_VARIANTS inline idx-freeze idx-nofreeze ptr-nofreeze idx-freeze-rcamem
    computed-freeze)
set(RCA_CPYTHON_VARIANTS "${RCA_CPYTHON_DEFAULT_VARIANTS}" CACHE STRING
    "CPython variants to build (experiments/vms/python/cpython.cmake lists the known ones)")
set(RCA_CPYTHON_JOBS 2 CACHE STRING "make -j for each CPython build")
foreach(v IN LISTS RCA_CPYTHON_VARIANTS)
  if(NOT v IN_LIST RCA_CPYTHON_ALL_VARIANTS)
    message(FATAL_ERROR "RCA_CPYTHON_VARIANTS: unknown variant '${v}' "
                        "(known: ${RCA_CPYTHON_ALL_VARIANTS})")
  endif()
endforeach()

# Debian's python3.11 3.11.2 upstream tarball; the patch was written against exactly this.
if(DEFINED ENV{RCA_CPYTHON_CACHE})
  set(_cache_default $ENV{RCA_CPYTHON_CACHE})
else()
  set(_cache_default $ENV{HOME}/.cache/rca/cpython)
endif()
set(RCA_CPYTHON_CACHE ${_cache_default} CACHE PATH
    "Folder holding python3.11_3.11.2.orig.tar.gz (scripts/bootstrap.sh --cpython)")
set(RCA_CPYTHON_TARBALL ${RCA_CPYTHON_CACHE}/python3.11_3.11.2.orig.tar.gz)
set(_sha 2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849)
if(NOT EXISTS ${RCA_CPYTHON_TARBALL})
  message(FATAL_ERROR "rca cpython: ${RCA_CPYTHON_TARBALL} is missing. Fetch it with "
                      "scripts/bootstrap.sh --cpython, or configure with -DRCA_BUILD_CPYTHON=OFF.")
endif()
file(SHA256 ${RCA_CPYTHON_TARBALL} _sum)
if(NOT _sum STREQUAL _sha)
  message(FATAL_ERROR "rca cpython: ${RCA_CPYTHON_TARBALL} has sha256 ${_sum}, but "
                      "experiments/vms/python/cpython-rca.patch was written for ${_sha} (Debian "
                      "python3.11 3.11.2). Refusing to patch another version; delete it and rerun "
                      "scripts/bootstrap.sh --cpython, or configure with -DRCA_BUILD_CPYTHON=OFF.")
endif()

set(_dir ${CMAKE_CURRENT_LIST_DIR})
set(_patch ${_dir}/cpython-rca.patch)
set(RCA_CPYTHON_BUILD_ROOT ${CMAKE_BINARY_DIR}/cpython)
find_program(RCA_PATCH_EXE patch REQUIRED)
find_program(RCA_PERL perl REQUIRED)
set(RCA_CPYTHON_PROGRAMS)
set(_listing "# variant<TAB>interpreter, one line per variant configured (cpython.cmake)\n")
foreach(v IN LISTS RCA_CPYTHON_VARIANTS)
  string(APPEND _listing "${v}\t${RCA_CPYTHON_BUILD_ROOT}/${v}/build/python\n")
endforeach()
file(WRITE ${RCA_CPYTHON_BUILD_ROOT}/variants.txt "${_listing}")
foreach(v IN LISTS RCA_CPYTHON_VARIANTS)
  set(_out ${RCA_CPYTHON_BUILD_ROOT}/${v})
  # Always run: CPython's own make decides what is out of date (a no-op takes seconds).
  add_custom_target(cpython-${v} ALL
    COMMAND ${_dir}/build_cpython.sh ${v} ${RCA_CPYTHON_TARBALL} ${_patch} ${_out}
            ${PROJECT_SOURCE_DIR} $<TARGET_FILE:rca_static> ${RCA_CPYTHON_JOBS}
    BYPRODUCTS ${_out}/build/python
    COMMENT "CPython 3.11 ${v} (nice -n 10, -j${RCA_CPYTHON_JOBS}; minutes when out of date)"
    USES_TERMINAL VERBATIM)
  add_dependencies(cpython-${v} rca_static)
  set(RCA_CPYTHON_PYTHON_${v} ${_out}/build/python)
  # The placement its tests run under: the computed builds refuse any other (one line, exit 2).
  if(v MATCHES "^computed-")
    set(RCA_CPYTHON_PLACEMENT_${v} computed)
  else()
    set(RCA_CPYTHON_PLACEMENT_${v} shared)
  endif()
  list(APPEND RCA_CPYTHON_PROGRAMS ${_out}/build/python)
endforeach()

# CPython's own regression tests for counts, GC, finalizers, weakrefs, containers, strings, sys,
# pickle, json and threads, from the same source, on every variant built.
set(RCA_CPYTHON_REGRTESTS
  test_gc test_weakref test_finalization test_dict test_list test_tuple test_set test_unicode
  test_sys test_descr test_class test_pickle test_json test_threading test_generators
  test_itertools test_bytes test_deque test_copy test_scope test_exceptions test_memoryview
  test_string test_float test_long test_int test_bool test_slice test_enumerate test_contextlib
  CACHE STRING "CPython regression tests run on each variant (ctest -L cpython)")
find_program(RCA_STOCK_PYTHON_CONFIG python3.11-config PATHS /usr/bin NO_DEFAULT_PATH)
foreach(v IN LISTS RCA_CPYTHON_VARIANTS)
  # Statically allocated objects share one slot in the patched builds: frozen with the freeze
  # check (None's count no longer moves, as with PEP 683's immortal objects in 3.12), else one
  # count for all of them (other static objects' references move None's count too). test_sys's
  # test_refcount, which expects getrefcount(None) to grow by exactly one, is left out on those
  # variants.
  set(_ignore)
  if(NOT v STREQUAL "inline")
    set(_ignore -i test.test_sys.SysModuleTest.test_refcount)
  endif()
  # Object memory from rca: pymalloc is compiled in (PYTHONMALLOC=pymalloc still selects it) but
  # not the allocator, so sys._debugmallocstats() has no pymalloc statistics to print, while
  # test_debugmallocstats expects them whenever WITH_PYMALLOC is set.
  if(v MATCHES "-rcamem$" OR v MATCHES "^computed-")
    list(APPEND _ignore -i test.test_sys.SysModuleTest.test_debugmallocstats)
  endif()
  # SIGINT back to its default first: a shell without job control starts background commands
  # with SIGINT ignored, and then Python installs no KeyboardInterrupt handler and
  # test_threading's interrupt_main and test_generators' SIGINT cases fail on every build, the
  # unpatched one included. -w: a failed test file runs again, alone and verbose.
  add_test(NAME cpython_regrtest_${v}
    COMMAND ${RCA_PERL} -e [[$SIG{INT} = 'DEFAULT'; exec @ARGV or die "exec: $!"]]
            ${RCA_CPYTHON_PYTHON_${v}} -m test --fail-env-changed -w -q ${_ignore}
            ${RCA_CPYTHON_REGRTESTS})
  set_tests_properties(cpython_regrtest_${v} PROPERTIES LABELS cpython TIMEOUT 3600
    ENVIRONMENT "RCA_PLACEMENT=${RCA_CPYTHON_PLACEMENT_${v}}")
  # C8: an extension built against Debian's stock 3.11 headers (python/c8) must leave the
  # unpatched build and the legacy layout intact in every scenario (the other patched builds
  # crash or miscount by design: rcalab vm's py8 records that, no test expects it).
  if(v STREQUAL "inline" OR v MATCHES "-legacy$")
    if(RCA_STOCK_PYTHON_CONFIG)
      add_test(NAME cpython_c8_${v}
        COMMAND /usr/bin/python3.11 ${_dir}/c8/c8.py --require-ok
                ${RCA_CPYTHON_BUILD_ROOT}/${v}/c8 ${v}=${RCA_CPYTHON_PYTHON_${v}})
      set_tests_properties(cpython_c8_${v} PROPERTIES LABELS cpython TIMEOUT 600
        ENVIRONMENT "RCA_PLACEMENT=${RCA_CPYTHON_PLACEMENT_${v}}")
    else()
      message(STATUS "rca cpython: no /usr/bin/python3.11-config (python3.11-dev): "
                     "no cpython_c8_${v} test")
    endif()
  endif()
  if(NOT v STREQUAL "inline")
    add_test(NAME cpython_rca_slots_${v}
      COMMAND ${RCA_CPYTHON_PYTHON_${v}} ${_dir}/tests/test_rca_slots.py)
    set_tests_properties(cpython_rca_slots_${v} PROPERTIES LABELS cpython TIMEOUT 600)
  endif()
endforeach()
