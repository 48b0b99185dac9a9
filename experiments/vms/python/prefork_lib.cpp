// librca_vm_prefork.so: the prefork workers of common/prefork.cpp behind a C ABI, for
// interpreters that load it with ctypes (python/bench/prefork.py). CPython variants built from
// source have no host program of ours to fork their workers, and Debian's stock python3.11 must
// be measured the same way: each loads this library, builds its data set, and calls
// rca_vm_prefork with a task callback. The workers, their page probe and the lines they print
// are the ones the Duktape host and rca-python use, so `rcalab vm` reads them alike.
#include "../common/prefork.h"

#include <cstdint>
#include <cstdio>

extern "C" {

using rca_vm_task_fn = int (*)(void);

// Forks `workers` workers that each run `task` `tasks` times (nonzero: it succeeded); pages in
// [rc_lo, rc_hi) count as refcount pages (0, 0: none). Prints the per-worker lines and the
// memory line with prefix `vm`. Returns the number of failed workers, -1 when no worker could
// be started.
__attribute__((visibility("default"))) int rca_vm_prefork(const char *vm, int workers, int tasks,
                                                          std::uintptr_t rc_lo,
                                                          std::uintptr_t rc_hi,
                                                          rca_vm_task_fn task) {
  if (!vm || !task || workers < 1 || workers > 256 || tasks < 1) {
    std::fprintf(stderr, "rca_vm_prefork: bad arguments (workers 1..256, tasks >= 1, a task)\n");
    return -1;
  }
  rca::vms::prefork_setup setup;
  setup.rc = {rc_lo, rc_hi};
  setup.tasks = tasks;
  std::fflush(stdout);
  return rca::vms::run_prefork_workers(vm, workers, setup, [task] { return task() != 0; });
}

}  // extern "C"
