// Statistics: counters read together, printed on demand or at exit (RCA_SHOW_STATS).
#include "internal.h"
#include "placement/placement.h"

#include <cstdlib>

using namespace rca::detail;

namespace {

#if RCA_STATS
// The heap's own block plus every pool's (see heap_counters). Exact when the heap is quiet;
// while threads work, a free can be summed before the allocation it undoes, so differences
// are clamped at zero.
void sum_events(const rca_heap_t *heap, rca_stats_t *out) {
  std::int64_t bytes = 0;
  auto add = [&](const heap_counters &c) {
    out->objects_allocated += c.objects_allocated.load(std::memory_order_relaxed);
    out->objects_freed += c.objects_freed.load(std::memory_order_relaxed);
    out->slots_allocated += c.slots_allocated.load(std::memory_order_relaxed);
    out->slots_freed += c.slots_freed.load(std::memory_order_relaxed);
    bytes += c.object_bytes.load(std::memory_order_relaxed);
  };
  add(heap->counters);
  {
    auto &lock = const_cast<spin_lock &>(heap->pool_lock);
    std::lock_guard<spin_lock> g(lock);
    for (const pool *p : heap->pools) add(p->counters);
  }
  auto live = [](std::uint64_t made, std::uint64_t gone) {
    return made > gone ? static_cast<size_t>(made - gone) : size_t(0);
  };
  out->live_objects = live(out->objects_allocated, out->objects_freed);
  out->live_slots = live(out->slots_allocated, out->slots_freed);
  out->slot_bytes = out->live_slots * heap->slot_stride;
  out->object_bytes = bytes > 0 ? static_cast<size_t>(bytes) : 0;
  out->events_counted = 1;
}
#else
// Compiled out: unavailable, which is not zero.
void sum_events(const rca_heap_t *, rca_stats_t *out) {
  out->live_objects = out->live_slots = out->slot_bytes = out->object_bytes = SIZE_MAX;
  out->objects_allocated = out->objects_freed = UINT64_MAX;
  out->slots_allocated = out->slots_freed = UINT64_MAX;
  out->events_counted = 0;
}
#endif

}  // namespace

extern "C" {

RCA_API void rca_heap_stats(const rca_heap_t *heap, rca_stats_t *out) {
  check_heap(heap, "rca_heap_stats");
  *out = rca_stats_t{};
  sum_events(heap, out);
  out->page_bytes = kPageSize;
  if (heap->counts_in_spans) {
    out->refcount_pages =
        spans_count_pages(const_cast<rca_heap_t *>(heap), &out->refcount_pages_peak);
    out->arena_reserved = heap->spans.counts_reserved;
  }
  if (heap->placement->has_refcount_pages) {
    auto &a = const_cast<arena &>(heap->arena);
    std::lock_guard<std::mutex> g(a.lock);
    out->refcount_pages = a.pages_in_use;
    out->refcount_pages_peak = a.pages_peak;
    out->arena_reserved = a.reserved;
  }
}

RCA_API void rca_heap_print_stats(const rca_heap_t *heap, FILE *out) {
  check_heap(heap, "rca_heap_print_stats");
  rca_stats_t s;
  rca_heap_stats(heap, &s);
  char desc[128];
  if (!out) out = stderr;
  if (!s.events_counted) {
    std::fprintf(
        out,
        "rca stats: %s\n"
        "  live objects, live slots, object bytes: unavailable (event counters compiled "
        "out: RCA_STATS=OFF)\n"
        "  refcount pages  %zu in use, %zu peak, %zu bytes each; arena %zu bytes reserved\n",
        describe(heap, desc, sizeof desc), s.refcount_pages, s.refcount_pages_peak, s.page_bytes,
        s.arena_reserved);
    return;
  }
  std::fprintf(out,
               "rca stats: %s\n"
               "  live objects    %zu (allocated %llu, freed %llu)\n"
               "  live slots      %zu (allocated %llu, freed %llu), %zu bytes\n"
               "  refcount pages  %zu in use, %zu peak, %zu bytes each; arena %zu bytes reserved\n"
               "  object bytes    %zu\n",
               describe(heap, desc, sizeof desc), s.live_objects,
               static_cast<unsigned long long>(s.objects_allocated),
               static_cast<unsigned long long>(s.objects_freed), s.live_slots,
               static_cast<unsigned long long>(s.slots_allocated),
               static_cast<unsigned long long>(s.slots_freed), s.slot_bytes, s.refcount_pages,
               s.refcount_pages_peak, s.page_bytes, s.arena_reserved, s.object_bytes);
}

}  // extern "C"

namespace rca::detail {

// Heaps still alive at exit print their stats when they asked for them (as MIMALLOC_SHOW_STATS).
void print_stats_at_exit_if_asked() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit([] {
      std::lock_guard<std::mutex> g(heaps_lock());
      for (rca_heap_t *h : live_heaps())
        if (h->config.show_stats) rca_heap_print_stats(h, stderr);
    });
  });
}

}  // namespace rca::detail
