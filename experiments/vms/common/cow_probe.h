// Pages a forked child makes private, read from /proc/self/pagemap.
//
// In a fork child every inherited anonymous page is shared with the parent until one of them
// writes it; the write copies the page and the copy is *exclusively mapped* (pagemap bit 56).
// Soft-dirty (bit 55) does not work on these kernels (docs/DESIGN.md section 7), so: snapshot which
// pages are present and shared right after fork, run the operation, and count the snapshot's
// pages that turned exclusive. Pages of rca's refcount arena and of the VM's GC metadata (side
// bitmaps) are counted apart from the rest (object pages: everything else writable and private
// in the process).
//
// The probe allocates nothing with malloc (its buffers are fresh mmaps, made after fork, so
// they are exclusive from the start and never counted).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rca::vms {

struct cow_counts {
  std::size_t obj_shared = 0;   // object pages present and shared at cow_begin
  std::size_t obj_private = 0;  // of those, made private (copied) by cow_end
  std::size_t rc_shared = 0;    // the same for refcount pages
  std::size_t rc_private = 0;
  std::size_t gc_shared = 0;  // the same for GC metadata (a VM's side bitmaps)
  std::size_t gc_private = 0;
  std::size_t gc_new = 0;  // GC metadata pages first backed after cow_begin (zero-fill, private)
};

struct cow_probe;

struct cow_range {
  std::uintptr_t lo = 0, hi = 0;
};

// Call in the child right after fork. nullptr (and a message on stderr) when pagemap cannot be
// read: the caller reports the figures as unavailable. The skip ranges (at most 16) are left out
// of both counts: bookkeeping that is not part of the VM's heap.
// `rc` and `gc` ({0, 0}: none) are counted apart from the object pages.
cow_probe *cow_begin(cow_range rc, cow_range gc, const cow_range *skip = nullptr,
                     std::size_t nskip = 0);

// The process's mappings (start, end) in `out`, at most `cap`; returns how many. No malloc.
std::size_t list_mappings(cow_range *out, std::size_t cap);
// Counts pages made private since cow_begin and frees the probe.
bool cow_end(cow_probe *p, cow_counts *out);

}  // namespace rca::vms
