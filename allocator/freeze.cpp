// Whole-heap operations: freeze, thaw, page visits, the arena's range.
//
// Freezing keeps each count aside before overwriting it with the frozen value, so that thaw can
// put it back (Instagram's gc.freeze model: a phase, e.g. a fork child, runs with the counts
// frozen and the heap returns to normal afterwards). The saved counts of slots live in a mapping
// laid out like the arena, so a sweep over refcount pages writes only refcount pages and that
// side mapping, never an object page. Inline and embedded counts live in the objects, so their
// saved values sit in the registry. Both operations need a quiescent heap.
#include "internal.h"
#include "placement/placement.h"
#include "prim/prim.h"

#include <cerrno>

using namespace rca::detail;

namespace {

// Counts kept aside while frozen: 8 bytes per count position, whatever the slot width, in a
// mapping of rca's own, so the sweep writes refcount pages and that mapping only. count_bytes is
// the reservation the positions index: the slot arena, or the spans' count windows.
int ensure_saved_counts(rca_heap_t *heap, std::size_t count_bytes) {
  if (heap->saved_counts) return 0;
  const std::size_t bytes = count_bytes / heap->slot_width * 8;
  void *p = nullptr;
  int e = rca::prim::reserve(bytes, &p);
  if (e == 0) e = rca::prim::commit(p, bytes);
  if (e) {
    set_error(e, "cannot map %zu bytes for saved counts", bytes);
    return e;
  }
  heap->saved_counts = p;
  heap->saved_bytes = bytes;
  return 0;
}

struct computed_sweep {
  rca_heap_t *heap;
  long *n;
  bool freeze;
};

void computed_visit(void *count, void *arg) {
  auto &s = *static_cast<computed_sweep *>(arg);
  rca_heap_t *heap = s.heap;
  const std::size_t off = static_cast<std::size_t>(static_cast<char *>(count) - heap->spans.counts);
  std::uint64_t *saved = saved_count_at(heap, off);
  const std::uint64_t c = slot_load(heap, count);
  if (s.freeze) {
    if (count_is_frozen(heap, c)) return;
    *saved = c;
    slot_store(heap, count, frozen_value(heap));
    ++*s.n;
  } else {
    if (*saved && count_is_frozen(heap, c)) {
      slot_store(heap, count, *saved);
      ++*s.n;
    }
    *saved = 0;
  }
}

}  // namespace

extern "C" {

RCA_API long rca_heap_freeze(rca_heap_t *heap) {
  check_heap(heap, "rca_heap_freeze");
  long n = 0;
  const std::uint64_t frozen = frozen_value(heap);
  if (heap->counts_in_spans) {  // computed: a sweep of the spans' count windows
    if (int e = ensure_saved_counts(heap, heap->spans.counts_reserved)) return errno = e, -1;
    computed_sweep ctx{heap, &n, true};
    spans_for_each_count(heap, computed_visit, &ctx);
    return n;
  }
  if (heap->placement->has_refcount_pages) {
    if (int e = ensure_saved_counts(heap, heap->arena.reserved)) return errno = e, -1;
    for_each_live_slot(heap, [&](char *slot) {
      const std::uint64_t c = slot_load(heap, slot);
      if (count_is_frozen(heap, c)) return;
      *saved_count_of(heap, slot) = c;
      slot_store(heap, slot, frozen);
      ++n;
    });
    return n;
  }
  if (!heap->tracking) {
    set_error(ENOTSUP,
              "rca_heap_freeze: an %s heap must track its objects to freeze them "
              "(track_objects=1)",
              rca_placement_name(heap->config.placement));
    return -1;
  }
  std::lock_guard<std::mutex> g(heap->registry_lock);
  heap->registry.for_each([&](registry_table::entry &e) {
    if (e.kind != block_kind::object) return;
    void *slot = rca_obj_slot(heap, e.block);
    const std::uint64_t c = slot_load(heap, slot);
    if (count_is_frozen(heap, c)) return;
    e.saved_count = c;
    slot_store(heap, slot, frozen);
    ++n;
  });
  return n;
}

RCA_API long rca_heap_thaw(rca_heap_t *heap) {
  check_heap(heap, "rca_heap_thaw");
  long n = 0;
  if (heap->counts_in_spans) {
    if (!heap->saved_counts) return 0;
    computed_sweep ctx{heap, &n, false};
    spans_for_each_count(heap, computed_visit, &ctx);
    return n;
  }
  if (heap->placement->has_refcount_pages) {
    if (!heap->saved_counts) return 0;
    for_each_live_slot(heap, [&](char *slot) {
      std::uint64_t *saved = saved_count_of(heap, slot);
      if (*saved && count_is_frozen(heap, slot_load(heap, slot))) {
        slot_store(heap, slot, *saved);
        ++n;
      }
      *saved = 0;
    });
    return n;
  }
  if (!heap->tracking) {
    set_error(ENOTSUP, "rca_heap_thaw: an %s heap must track its objects (track_objects=1)",
              rca_placement_name(heap->config.placement));
    return -1;
  }
  std::lock_guard<std::mutex> g(heap->registry_lock);
  heap->registry.for_each([&](registry_table::entry &e) {
    if (e.kind != block_kind::object || e.saved_count == 0) return;
    void *slot = rca_obj_slot(heap, e.block);
    if (count_is_frozen(heap, slot_load(heap, slot))) {
      slot_store(heap, slot, e.saved_count);
      ++n;
    }
    e.saved_count = 0;
  });
  return n;
}

RCA_API void rca_heap_visit_pages(rca_heap_t *heap, rca_page_visitor_t *visit, void *arg) {
  check_heap(heap, "rca_heap_visit_pages");
  if (heap->counts_in_spans) {
    // Computed: the pages of the spans' count windows that hold live counts (each window is
    // whole pages, and the sweep visits a span's counts in address order).
    std::vector<std::pair<char *, std::size_t>> pages;
    spans_for_each_count(
        heap,
        [](void *count, void *out) {
          auto &v = *static_cast<std::vector<std::pair<char *, std::size_t>> *>(out);
          char *page =
              reinterpret_cast<char *>(reinterpret_cast<std::uintptr_t>(count) & ~(kPageSize - 1));
          if (!v.empty() && v.back().first == page) ++v.back().second;
          else v.emplace_back(page, 1);
        },
        &pages);
    for (auto &[page, live] : pages) visit(page, kPageSize, live, arg);
    return;
  }
  if (!heap->placement->has_refcount_pages) return;
  arena &a = heap->arena;
  std::vector<std::pair<char *, std::size_t>> pages;
  {
    std::lock_guard<std::mutex> g(a.lock);
    for (std::size_t i = 1; i < a.next_fresh; ++i) {
      page_desc &d = a.descs[i];
      if (d.state.load(std::memory_order_relaxed) == page_state::unused) continue;
      std::size_t free_slots = 0;
      for (std::size_t w = 0; w < kBitmapWords; ++w)
        free_slots += static_cast<std::size_t>(
            __builtin_popcountll(d.free_bits[w].load(std::memory_order_relaxed) |
                                 d.remote_bits[w].load(std::memory_order_relaxed)));
      pages.emplace_back(a.base + i * kPageSize, d.capacity - free_slots);
    }
  }
  // Call back outside the lock: the visitor may allocate.
  for (auto &[page, live] : pages) visit(page, kPageSize, live, arg);
}

RCA_API void rca_heap_arena_range(const rca_heap_t *heap, void **lo, void **hi) {
  check_heap(heap, "rca_heap_arena_range");
  if (heap->counts_in_spans) {
    *lo = heap->spans.counts;
    *hi = heap->spans.counts + heap->spans.counts_reserved;
    return;
  }
  *lo = heap->arena.base;
  *hi = heap->arena.base ? heap->arena.base + heap->arena.reserved : nullptr;
}

}  // extern "C"
