// Heap configurations the allocator suites run over.
#pragma once

#include <rca/rca.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace rca_test {

struct heap_case {
  rca_placement_t placement;
  rca_handle_kind_t handle_kind;
  unsigned slot_bits;
  rca_backend_t backend;
  rca_address_t address = RCA_ADDRESS_SPAN;  // computed placement only

  rca::config config() const {
    rca::config c;
    c.placement(placement)
        .handle_kind(handle_kind)
        .slot_bits(slot_bits)
        .backend(backend)
        .checks(true);
    c.raw().address = address;
    return c;
  }
  bool computed() const { return placement == RCA_PLACEMENT_COMPUTED; }
  /// The heap hands out slots of its own (rca_slot_alloc).
  bool has_slots() const {
    return placement != RCA_PLACEMENT_INLINE && placement != RCA_PLACEMENT_COMPUTED;
  }
  bool has_refcount_pages() const {
    return placement == RCA_PLACEMENT_SHARED || placement == RCA_PLACEMENT_THREAD ||
           placement == RCA_PLACEMENT_PADDED;
  }
  std::string name() const {
    if (computed())
      return std::string("computed_") + rca_address_name(address) + "_" + std::to_string(slot_bits);
    return std::string(rca_placement_name(placement)) + "_" + rca_handle_kind_name(handle_kind) +
           "_" + std::to_string(slot_bits) + "_" + rca_backend_name(backend);
  }
};

inline void PrintTo(const heap_case &c, std::ostream *os) { *os << c.name(); }

// Every placement x handle kind x slot width on the system backend, plus every placement on
// the other backends; computed heaps (always on rca's span allocator) with each address function.
inline std::vector<heap_case> all_cases() {
  std::vector<heap_case> v;
  for (int p = 0; p < RCA_PLACEMENT_COUNT; ++p)
    for (int h = 0; h < RCA_HANDLE_KIND_COUNT; ++h)
      for (unsigned bits : {32u, 64u}) {
        auto pl = static_cast<rca_placement_t>(p);
        auto hk = static_cast<rca_handle_kind_t>(h);
        if (pl == RCA_PLACEMENT_INLINE && hk == RCA_HANDLE_KIND_INDEX) continue;    // no handle
        if (pl == RCA_PLACEMENT_EMBEDDED && hk == RCA_HANDLE_KIND_INDEX) continue;  // pointer only
        if (pl == RCA_PLACEMENT_COMPUTED) {
          if (hk == RCA_HANDLE_KIND_INDEX) continue;  // no handle
          for (int a = 0; a < RCA_ADDRESS_COUNT; ++a)
            v.push_back({pl, hk, bits, RCA_BACKEND_RCA, static_cast<rca_address_t>(a)});
          continue;
        }
        v.push_back({pl, hk, bits, RCA_BACKEND_SYSTEM});
      }
  for (rca_backend_t b : {RCA_BACKEND_MIMALLOC, RCA_BACKEND_JEMALLOC, RCA_BACKEND_RCA})
    for (int p = 0; p < RCA_PLACEMENT_COUNT; ++p)
      if (p != RCA_PLACEMENT_COMPUTED)
        v.push_back({static_cast<rca_placement_t>(p), RCA_HANDLE_KIND_POINTER, 32, b});
  return v;
}

// The system-backend part of all_cases(): for properties of rca's own bookkeeping, which no
// backend touches. (Threads on the jemalloc backend each add jemalloc arenas, and a later fork
// in the same process then holds more of jemalloc's mutexes at once than TSan's deadlock
// detector can track: a CHECK failure in TSan, not an rca bug.)
inline std::vector<heap_case> system_cases() {
  std::vector<heap_case> v;
  for (const heap_case &c : all_cases())
    if (c.backend == RCA_BACKEND_SYSTEM || c.computed()) v.push_back(c);
  return v;
}

inline std::vector<heap_case> out_of_line_cases() {
  std::vector<heap_case> v;
  for (auto p : {RCA_PLACEMENT_SHARED, RCA_PLACEMENT_THREAD, RCA_PLACEMENT_PADDED})
    for (auto h : {RCA_HANDLE_KIND_POINTER, RCA_HANDLE_KIND_INDEX})
      v.push_back({p, h, 32, RCA_BACKEND_SYSTEM});
  return v;
}

}  // namespace rca_test
