# rcalab vm's CPython programs (programs.txt) as ctests labelled cpython: each program's
# self-check at its quick size on every CPython variant built (-DRCA_BUILD_CPYTHON=ON) and on
# Debian's stock python3.11; and the C5 prefork script (2 workers, frozen where the build can).
# Semantics only: a program exits 1 when its result is wrong, whatever the time it took.
if(NOT RCA_BUILD_CPYTHON)
  return()
endif()
set(_bench ${CMAKE_CURRENT_LIST_DIR})
file(STRINGS ${_bench}/programs.txt _lines REGEX "^[a-z]")
set(_pythons stock=/usr/bin/python3.11)
set(RCA_CPYTHON_PLACEMENT_stock shared)  # ignored by stock python3.11
foreach(v IN LISTS RCA_CPYTHON_VARIANTS)
  list(APPEND _pythons ${v}=${RCA_CPYTHON_PYTHON_${v}})
endforeach()
foreach(entry IN LISTS _pythons)
  string(REPLACE "=" ";" _e ${entry})
  list(GET _e 0 _name)
  list(GET _e 1 _python)
  set(_env "RCA_PLACEMENT=${RCA_CPYTHON_PLACEMENT_${_name}}")
  foreach(line IN LISTS _lines)
    string(REGEX REPLACE "[ \t]+" ";" _f "${line}")
    list(GET _f 0 _prog)
    list(GET _f 2 _quick)
    add_test(NAME cpython_bench_${_prog}_${_name}
             COMMAND ${_python} -E -s ${_bench}/${_prog}.py ${_quick})
    set_tests_properties(cpython_bench_${_prog}_${_name} PROPERTIES LABELS cpython TIMEOUT 300
                         ENVIRONMENT "${_env}"
                         PASS_REGULAR_EXPRESSION "bench program=${_prog} .* ok=1")
  endforeach()
  # 20000 records (140001 objects), 2 workers, frozen: every worker reads the right sums.
  add_test(NAME cpython_prefork_${_name}
           COMMAND ${_python} -E -s ${_bench}/prefork.py $<TARGET_FILE:rca_vm_prefork> 2 20000 1 1)
  set_tests_properties(cpython_prefork_${_name} PROPERTIES LABELS cpython TIMEOUT 300
                       ENVIRONMENT "${_env}"
                       PASS_REGULAR_EXPRESSION "cpython prefork_memory workers=2")
endforeach()
