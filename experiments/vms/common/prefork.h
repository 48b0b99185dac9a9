// Prefork workers for the test VMs (C5 in a real VM): the parent has built its heap; each worker
// is a fork child that runs the task `tasks` times while a cow_probe counts the pages it makes
// private, reports through a pipe, and waits until the parent has read every process's memory
// (/proc/PID/smaps_rollup) with all workers alive, as a server operator sees it. The parent
// prints one line per worker, the same for every VM:
//   <vm> worker id=W ok=0|1 ms=.. tasks=T task_ms_median=.. task_ms_min=.. task_ms_max=..
//        minflt=.. obj_pages_shared=.. obj_pages_private=.. rc_pages_shared=.. rc_pages_private=..
//        gc_pages_shared=.. gc_pages_private=.. gc_pages_new=.. obj_private_pct=..
//        rc_private_pct=.. gc_private_pct=.. heap_private_pct=..
// (or "... pages=NA" when the child could not read its pagemap), then one line for all:
//   <vm> prefork_memory workers=K one_rss_kb=.. parent_rss_kb=.. parent_pss_kb=.. pss_kb_sum=..
//        uss_kb_sum=.. rss_kb_sum=.. pss_vs_one_rss=..
// (or "memory=NA"), where one_rss_kb is the parent's RSS before the first fork (one process
// doing the work alone) and the sums cover the parent and every worker. rcalab vm parses these.
#pragma once

#include "cow_probe.h"

#include <cstddef>
#include <functional>

namespace rca::vms {

struct prefork_hooks {
  std::function<void()> before_fork;        // in the parent, before each fork
  std::function<void()> after_fork_parent;  // in the parent, after each fork (also when it failed)
  std::function<void()> after_fork_child;   // in the child, first thing
  std::function<void(int)> child_done;      // in the child (worker id), after its tasks
};

struct prefork_setup {
  cow_range rc;                     // rca's refcount arena ({0, 0}: none)
  cow_range gc;                     // the VM's GC metadata, e.g. side bitmaps ({0, 0}: none)
  const cow_range *skip = nullptr;  // left out of every count (bookkeeping, not the VM's heap)
  std::size_t nskip = 0;
  int tasks = 1;  // tasks per worker (1..4096)
};

// Runs `workers` workers; `task` runs `setup.tasks` times in each child and says whether it
// succeeded. The child leaves with _exit and no teardown (a heap teardown would write the pages
// just measured). Returns how many workers failed, or -1 when a pipe or fork could not be made
// (message on stderr).
int run_prefork_workers(const char *vm, int workers, const prefork_setup &setup,
                        const std::function<bool()> &task, const prefork_hooks &hooks = {});

}  // namespace rca::vms
