// Prefork workers for the test VMs (C5 in a real VM): the parent has built its heap; each worker
// is a fork child that runs one task while a cow_probe counts the pages it makes private, and
// reports through a pipe. The parent prints one line per worker, the same for every VM:
//   <vm> worker id=W ok=0|1 ms=.. minflt=.. obj_pages_shared=.. obj_pages_private=..
//        rc_pages_shared=.. rc_pages_private=.. obj_private_pct=.. rc_private_pct=.. heap_private_pct=..
// or "... pages=NA" when the child could not read its pagemap (rcalab vm parses these lines).
#pragma once

#include "cow_probe.h"

#include <cstddef>
#include <functional>

namespace rca::vms {

struct prefork_hooks {
  std::function<void()> before_fork;        // in the parent, before each fork
  std::function<void()> after_fork_parent;  // in the parent, after each fork (also when it failed)
  std::function<void()> after_fork_child;   // in the child, first thing
};

// Runs `workers` workers; `task` runs in each child and says whether it succeeded. The child
// leaves with _exit and no teardown (a heap teardown would write the pages just measured).
// `rc` is rca's refcount arena ({0, 0}: none); `skip` ranges are left out of both counts.
// Returns how many workers failed, or -1 when a pipe or fork could not be made (message on stderr).
int run_prefork_workers(const char *vm, int workers, cow_range rc, const cow_range *skip,
                        std::size_t nskip, const std::function<bool()> &task,
                        const prefork_hooks &hooks = {});

}  // namespace rca::vms
