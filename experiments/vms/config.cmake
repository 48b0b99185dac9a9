# What the test VMs build, shared by experiments/vms/CMakeLists.txt and tests/vms/CMakeLists.txt
# (tests/ is configured before experiments/, so both read the same answers from here).
# Read from two directories (each gets its own variables), so no include_guard.

# Duktape variants: what must be compiled in (count location x freeze check). Placement and
# backend are run-time choices of each build. Names: <inline|ptr|idx|computed>-<freeze|nofreeze>
# (computed: no count in the header; counts found from the object's address, placement computed)
# and <inline|ptr|idx>-<freeze|nofreeze>-side: -side keeps the mark-and-sweep flags in rca's side
# bitmaps (DUK_RCA_SIDE, see the patch). Computed builds have no side-bits variant (their objects
# hold no rca slot to give a position); the patch refuses the combination too.
set(RCA_DUK_ALL_VARIANTS inline-freeze inline-nofreeze ptr-freeze ptr-nofreeze idx-freeze idx-nofreeze
    computed-freeze computed-nofreeze
    inline-freeze-side inline-nofreeze-side ptr-freeze-side ptr-nofreeze-side idx-freeze-side
    idx-nofreeze-side)
# Built by default: every count location and freeze setting, and the side-bits builds of the
# frozen ones (the prefork comparison); any other one by -DRCA_DUK_VARIANTS.
set(RCA_DUK_DEFAULT_VARIANTS inline-freeze inline-nofreeze ptr-freeze ptr-nofreeze idx-freeze
    idx-nofreeze computed-freeze computed-nofreeze inline-freeze-side ptr-freeze-side idx-freeze-side)
# Under sanitizers only five: sanitizers check memory and thread safety of the patch, not its
# speed, and these builds cover every code path of the patch (inline count, pointer handle,
# index handle, computed; freeze check on and off; side bits with positions from index handles)
# while halving the preset's build and test time.
if(RCA_SANITIZE)
  set(_rca_duk_default inline-freeze ptr-nofreeze idx-freeze computed-freeze idx-freeze-side)
else()
  set(_rca_duk_default ${RCA_DUK_DEFAULT_VARIANTS})
endif()
set(RCA_DUK_VARIANTS "${_rca_duk_default}" CACHE STRING "Duktape variants to build (see experiments/vms/config.cmake)")
foreach(v IN LISTS RCA_DUK_VARIANTS)
  if(v MATCHES "^computed-.*-side$")
    message(FATAL_ERROR "RCA_DUK_VARIANTS: '${v}': side bits are not built for computed Duktape "
                        "(its objects hold no rca slot to give their side-bit positions)")
  endif()
  if(NOT v IN_LIST RCA_DUK_ALL_VARIANTS)
    message(FATAL_ERROR "RCA_DUK_VARIANTS: unknown variant '${v}' (known: ${RCA_DUK_ALL_VARIANTS})")
  endif()
endforeach()

# CPython host: Debian's libpython3.11 through its own python3.11-config (the python3 first on
# PATH here is a separate pyenv build and must not be used).
find_program(RCA_PYTHON_CONFIG python3.11-config PATHS /usr/bin NO_DEFAULT_PATH)
set(RCA_VMS_HAVE_PYTHON OFF)
if(RCA_PYTHON_CONFIG)
  execute_process(COMMAND ${RCA_PYTHON_CONFIG} --embed --includes OUTPUT_VARIABLE RCA_PYTHON_INCLUDES
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _r1)
  execute_process(COMMAND ${RCA_PYTHON_CONFIG} --embed --ldflags OUTPUT_VARIABLE RCA_PYTHON_LDFLAGS
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _r2)
  if(_r1 EQUAL 0 AND _r2 EQUAL 0 AND RCA_PYTHON_LDFLAGS MATCHES "python3\\.11")
    set(RCA_VMS_HAVE_PYTHON ON)
  endif()
endif()
if(NOT RCA_VMS_HAVE_PYTHON)
  message(STATUS "rca vms: /usr/bin/python3.11-config not usable: rca-python is not built "
                 "(install libpython3.11-dev: scripts/bootstrap.sh)")
endif()
