// Populations of rca objects and compile-time access to their counts.
//
// A layout (placement, handle, slot width) is picked at run time, but the code that touches
// counts must be compiled for it, as a VM would be: with_layout() calls a templated functor with
// the slot type and the handle type (rca::rc), so each measured loop is specialised.
#pragma once

#include "../harness/pages.hpp"
#include "options.hpp"

#include <rca/rca.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace rca::lab {

/// Payload starts here in every object (the largest rca header is 16 bytes: embedded).
inline constexpr std::size_t kPayloadOffset = 16;

struct layout {
  rca_placement_t placement = RCA_PLACEMENT_INLINE;
  rca_handle_kind_t handle_kind = RCA_HANDLE_KIND_POINTER;
  unsigned slot_bits = 32;
  rca_address_t address = RCA_ADDRESS_SPAN;  ///< computed: the address function
  /// "inline", "embedded", "shared/pointer", "thread/index", "computed/span", ...
  std::string name() const;
  /// "none" for inline; computed: its address function ("span", "granule")
  const char *handle_kind_name() const;
};

/// The layouts selected by the flags: --placement (default `placements`), --handle-kind (default
/// pointer and index where allowed), --slot-bits (default `slot_bits`).
std::vector<layout> select_layouts(const options &opt,
                                   const std::vector<rca_placement_t> &placements,
                                   const std::vector<unsigned> &slot_bits = {32});

/// The rcalab flags that select exactly these layouts again ("--placement ... --handle-kind ...
/// --slot-bits ..."), for a nested run of the same experiment.
std::string layout_flags(const std::vector<layout> &layouts);

/// Every placement, in rca's order.
std::vector<rca_placement_t> all_placements();

/// A heap configured for a layout, sized for n objects (padded slots need a line each).
rca::config make_config(const layout &l, std::size_t n, rca_backend_t backend = RCA_BACKEND_SYSTEM,
                        bool track_objects = false);

/// What the compiled kernels take as `base`: the slot base (index handles), or the bias of a
/// computed heap with the granule address function.
void *count_base(const rca::heap &heap, const layout &l);

/// A heap holding n objects of object_bytes each, counts at 1, payload zeroed.
struct population {
  population(const layout &l, std::size_t n, std::size_t object_bytes, bool track_objects = false);
  /// Frees every object: rca_heap_destroy frees only objects it tracks (track_objects).
  ~population();
  population(const population &) = delete;
  population &operator=(const population &) = delete;
  layout lay;
  std::size_t object_bytes;
  rca::heap heap;
  std::vector<void *> objs;
  void *base = nullptr;  ///< slot base (index handles); the bias (computed/granule)

  page_set object_pages() const;    ///< every page holding part of an object
  page_set refcount_pages() const;  ///< the heap's refcount arena
};

/// Calls f.template operator()<Slot, Handle>() with the types compiled for l.
template <class F>
decltype(auto) with_layout(const layout &l, F &&f) {
  auto pick = [&]<class Slot>() -> decltype(auto) {
    if (l.placement == RCA_PLACEMENT_INLINE)
      return f.template operator()<Slot, rca::rc::inline_handle<Slot>>();
    if (l.placement == RCA_PLACEMENT_COMPUTED) {
      if (l.address == RCA_ADDRESS_GRANULE)
        return f.template operator()<Slot, rca::rc::computed_granule_handle<Slot>>();
      return f.template operator()<Slot, rca::rc::computed_span_handle<Slot>>();
    }
    if (l.handle_kind == RCA_HANDLE_KIND_INDEX)
      return f.template operator()<Slot, rca::rc::index_handle<Slot>>();
    return f.template operator()<Slot, rca::rc::pointer_handle<Slot>>();
  };
  if (l.slot_bits == 64) return pick.template operator()<std::uint64_t>();
  return pick.template operator()<std::uint32_t>();
}

/// The count slot of obj, the way compiled VM code finds it (no call into the library).
template <class Slot, class Handle>
[[gnu::always_inline]] inline Slot *slot_of(void *obj, Slot *base) {
  return Handle::slot(*reinterpret_cast<typename Handle::stored *>(obj), base);
}

/// Count semantics used by the experiments: release builds of VMs run unchecked.
template <class Slot>
using plain_rc = rca::rc::counter<Slot, false, true, true, false>;
template <class Slot>
using atomic_rc = rca::rc::counter<Slot, true, true, true, false>;

/// Indices 0..n-1 shuffled with seed.
std::vector<std::size_t> shuffled(std::size_t n, std::uint64_t seed);

// One pass over `order`: incref each object's count and decref the previous one, so every count
// returns to where it was. The measured kernel of C1, C2 and C3 (noinline: one copy per variant
// to time and to read in the saved assembly).
template <class Slot, class Handle, class Counter>
[[gnu::noinline]] std::uint64_t pass(void *const *order, std::size_t n, Slot *base) {
  Slot *prev = slot_of<Slot, Handle>(order[0], base);
  Counter::incref(prev);
  std::uint64_t zero = 0;
  for (std::size_t i = 1; i < n; ++i) {
    Slot *s = slot_of<Slot, Handle>(order[i], base);
    Counter::incref(s);
    zero += Counter::decref(prev);
    prev = s;
  }
  zero += Counter::decref(prev);
  return zero;  // always 0: counts start at 1; returned so the loop has a use
}

}  // namespace rca::lab
