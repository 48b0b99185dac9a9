// The one place that lists rcalab's subcommands.
//
// To add a subcommand:
//   1. write a source file with `int run_<name>(rca::lab::context &ctx)` in namespace rca::lab
//      (see indirection.cpp for the pattern: read ctx.opt, write rows with ctx.out; a claim it
//      decides gets a rule in experiments/plots/verdicts.py);
//   2. declare it below and add one line to the table;
//   3. add the source file to RCALAB_SOURCES in experiments/CMakeLists.txt.
#include "registry.hpp"

namespace rca::lab {

int run_indirection(context &);
int run_freeze(context &);
int run_threads(context &);
int run_aliasing(context &);
int run_cow(context &);
int run_ipc(context &);
int run_alloc(context &);
// Beside the VMs it runs, linked into rcalab (a named exception of the layers, docs/DESIGN.md).
int run_vm(context &);      // experiments/vms/driver/vm.cpp
int run_malloc(context &);  // experiments/malloc/malloc.cpp, beside its workload programs

const std::vector<subcommand> &subcommands() {
  static const std::vector<subcommand> table = {
      {"indirection", "C1",
       "incref/decref ns/op, inline vs handles, working sets L1..DRAM, sequential and random",
       run_indirection, true},
      {"freeze", "C2",
       "cost of the frozen-count check at 0/50/100 % frozen, with and without __builtin_expect",
       run_freeze, true},
      {"threads", "C3",
       "threads on own objects: shared/thread/padded pages vs inline; shared objects: atomic vs "
       "biased",
       run_threads, true},
      {"aliasing", "C4",
       "field reads between increfs: inline vs handle, restrict, -fno-strict-aliasing; asm saved",
       run_aliasing, true},
      {"cow", "C5",
       "pages a read-only fork child makes private: object vs refcount pages, frozen or not",
       run_cow, true},
      {"ipc", "C6",
       "raw pipe/socket/shm bytes/s vs serialise+send+deserialise of the same object graph",
       run_ipc, true},
      {"alloc", "-",
       "objects/s and bytes/object of rca heaps over each backend vs the bare allocators",
       run_alloc, true},
      {"vm", "C7",
       "whole-VM time per placement/freeze vs inline (Duktape), VM prefork pages (C5), VM threads "
       "(C3), CPython pickle (C6)",
       run_vm, false},
      {"malloc", "-",
       "rca's allocator as the process malloc (LD_PRELOAD) vs glibc, mimalloc, jemalloc: time "
       "and peak RSS per workload, ratios to mimalloc",
       run_malloc, false},
  };
  return table;
}

const subcommand *find_subcommand(const std::string &name) {
  for (const auto &s : subcommands())
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace rca::lab
