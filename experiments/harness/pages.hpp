// Page-exact write accounting. Soft-dirty bits are not available on these kernels, so rcalab
// counts, in a fork child, the inherited pages that became *exclusively mapped*
// (/proc/self/pagemap bit 56): a page the child writes is copied and turns exclusive, a page it
// only reads stays shared with the parent. Pages are split by address: object pages (the runs
// the caller lists) and refcount pages (the heap's arena range); everything else is "other".
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace rca::lab {

std::size_t page_size();

/// Address runs [lo, hi) of pages, sorted and merged.
class page_set {
 public:
  void add(const void *p, std::size_t bytes);  ///< every page the byte range touches
  void add_range(std::uintptr_t lo, std::uintptr_t hi);
  void finish();  ///< sort and merge; call once before use
  const std::vector<std::pair<std::uintptr_t, std::uintptr_t>> &runs() const { return runs_; }

 private:
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> runs_;
};

/// What a child wrote, in pages, and what the op cost it.
struct page_report {
  std::uint64_t object_pages = 0;      ///< object pages present before the op
  std::uint64_t refcount_pages = 0;    ///< refcount pages present before the op
  std::uint64_t object_private = 0;    ///< object pages the op made exclusive
  std::uint64_t refcount_private = 0;  ///< refcount pages the op made exclusive
  std::uint64_t other_private = 0;     ///< other writable mappings (stack, libc data, ...)
  std::uint64_t exclusive_before =
      0;  ///< object+refcount pages already exclusive before the op (should be 0)
  std::uint64_t skipped_mappings = 0;  ///< mappings over 16 GiB not scanned (sanitizer shadow)
  long minor_faults = 0;               ///< getrusage in the child, op only
  double op_ns = 0;                    ///< wall time of the op in the child
};

/// Forks; the child records what is present, runs `op`, and counts the pages that became
/// exclusive. `op` runs in the child and must not allocate from a heap it measures (it may write
/// the stack). The parent only waits. Throws std::runtime_error when fork or pagemap fail.
page_report account_writes(const page_set &objects, const page_set &refcounts,
                           const std::function<void()> &op);

/// Name of the method account_writes uses (written in each row's `method` column).
inline constexpr const char *kPageMethod = "fork+pagemap_exclusive";

/// Run-time probes of the alternatives (docs/DESIGN.md section 7).
std::string probe_soft_dirty();         ///< "works", or "unsupported: <why>"
std::string probe_pagemap_scan();       ///< "available (unused)", or "unsupported: <why>"
std::string probe_pagemap_exclusive();  ///< "works", or "unsupported: <why>"

}  // namespace rca::lab
