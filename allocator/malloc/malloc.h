// rca malloc: rca's span allocator (spans.cpp, the allocator of the `computed` placement) as the
// process's malloc, without counts. One process heap, made on the first call (the dynamic loader
// or libc may call malloc before any constructor has run), whose region has no count windows
// and no span headers; each thread allocates from its own span cache, found through one
// initial-exec thread-local pointer (no lookup). The common cases of malloc and free are inline
// here; everything else goes to the files beside this one:
//   process.cpp  the process heap, its options, thread caches, thread exit, fork
//   alloc.cpp    slow paths: large and huge blocks, aligned blocks, realloc, calloc, free checks
//   huge.cpp     blocks beyond the region: one mapping each, in a table of their own
//   stats.cpp    RCA_SHOW_STATS at exit, without allocating
//   entry.cpp    the C entry points (malloc, free, posix_memalign, ...)
//   new.cpp      the C++ operators new and delete
#pragma once

#include "../spans.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace rca::detail::malloc_layer {

// Blocks above this get a mapping of their own (huge.cpp), as do larger ones when the region is
// exhausted: realloc can then grow them with mremap instead of a copy, and free gives their
// memory back at once (glibc's largest mmap threshold).
inline constexpr std::size_t kHugeMin = std::size_t(32) << 20;
// The default region: address space only (descriptors and memory are faulted in as used).
inline constexpr std::size_t kDefaultRegion = std::size_t(64) << 30;

// Emptied one-unit spans each thread keeps for its next span (span_cache::spare): up to 512 KiB
// a thread, for a program that frees and allocates 8-64 KiB blocks in turn (each a span of its
// own) without the region lock and a page fault each time. None with RCA_CHECKS (the count
// windows' accounting assumes a span keeps its class while it holds the unit).
inline constexpr std::uint32_t kSpareSpans = 8;

// Free units kept committed beyond RCA_RETAIN_PAGES, in percent of the units in use, while the
// units in use and kept stay within kRetainAbovePeak percent past the peak in use
// (span_region::retain_limit). Faulting a large block's pages in again cost more than the
// block's own work: large_mix at scale 1, 1 thread, faulted 1.17M times with 64 units kept;
// 69k kept up to the peak and 10x the units in use (the share bound when all 8 buffers happened
// to be small); 38k with 50x; 21k with 50x and 25 % past the peak (peak RSS 78 -> 87 MB,
// mimalloc's 100 MB and 24k faults). A program whose use falls below a fiftieth of its peak
// gives the rest back as it frees.
inline constexpr std::size_t kDefaultRetainPercent = 5000;
inline constexpr unsigned kRetainAbovePeak = 25;
inline constexpr std::size_t kMaxRetainPercent = 100000;

// One thread's span cache. Recycled when its thread exits (its spans are abandoned first).
struct thread_cache {
  pool spans;                // span_cache at spans.spans (pool: what spans.cpp takes)
  thread_cache *next_all;    // every cache ever made (fork handling)
  thread_cache *next_free;   // caches of exited threads, ready for reuse
  unsigned long thread = 0;  // prim::thread_id of its thread
  bool active = false;       // a live thread uses it
};

// What the hot paths read: written once by the first call, read-only after. Relaxed atomics (plain
// loads): a free of null or of a foreign pointer may race with the first call in another thread,
// and reads either the old zeros (slow path) or the final values.
struct region_view {
  std::atomic<std::uintptr_t> base;   // spans.base
  std::atomic<std::uintptr_t> bytes;  // units_limit << kSpanShift (0 before the first call)
  std::atomic<span_desc *> descs;
  std::uintptr_t offset(const void *p) const noexcept {
    return reinterpret_cast<std::uintptr_t>(p) - base.load(std::memory_order_relaxed);
  }
  bool contains_offset(std::uintptr_t off) const noexcept {
    return off < bytes.load(std::memory_order_relaxed);
  }
  span_desc *desc_at(std::uintptr_t off) const noexcept {
    return descs.load(std::memory_order_relaxed) + (off >> kSpanShift);
  }
};
extern constinit region_view g_region;

// The calling thread's cache for the inline paths; null before its first call, after its exit,
// and always when checks are on (every call then takes the checked path in alloc.cpp).
extern constinit thread_local thread_cache *t_fast __attribute__((tls_model("initial-exec")));

// ---- process.cpp ----------------------------------------------------------------------------
/// The process heap, made on first use (aborts with a message when it cannot be).
rca_heap_t *process_heap() noexcept;
/// The calling thread's cache, made on first use; null for a thread past its exit hook.
thread_cache *thread_cache_of() noexcept;
/// Options as read from the environment at the first call.
struct malloc_options {
  std::size_t region_bytes = kDefaultRegion;           // RCA_OBJECT_LIMIT (or less: see make_heap)
  bool region_set = false;                             // RCA_OBJECT_LIMIT was given
  std::size_t retain_pages = kDefaultRetainPages;      // RCA_RETAIN_PAGES
  std::size_t retain_percent = kDefaultRetainPercent;  // RCA_RETAIN_PERCENT
  bool checks = false;      // RCA_CHECKS: a marker word per block; every double free found
  bool show_stats = false;  // RCA_SHOW_STATS
};
const malloc_options &options() noexcept;
/// Thread caches made so far (RCA_SHOW_STATS).
std::size_t thread_caches_made() noexcept;

// ---- alloc.cpp ------------------------------------------------------------------------------
void *alloc_slow(std::size_t size) noexcept;
void free_slow(void *p) noexcept;
/// A block aligned to `alignment` (a power of two), or null with errno ENOMEM.
void *alloc_aligned(std::size_t alignment, std::size_t size) noexcept;
void *realloc_block(void *p, std::size_t size) noexcept;
void *calloc_block(std::size_t count, std::size_t size) noexcept;
std::size_t usable_size(const void *p) noexcept;

// ---- huge.cpp -------------------------------------------------------------------------------
/// A mapping of its own for `size` bytes aligned to `alignment` (any power of two), zeroed; null
/// with errno ENOMEM when the OS refuses.
void *huge_alloc(std::size_t size, std::size_t alignment) noexcept;
/// The usable bytes of huge block p, or 0 when p is not one.
std::size_t huge_size(const void *p) noexcept;
/// Frees huge block p; false (nothing done) when p is not one.
bool huge_free(void *p) noexcept;
/// Resizes huge block p (mremap), or null with errno ENOMEM (p untouched).
void *huge_realloc(void *p, std::size_t size) noexcept;
struct huge_totals {
  std::size_t blocks, bytes, peak_bytes, made;
};
huge_totals huge_stats() noexcept;
void huge_fork_prepare() noexcept;
void huge_fork_release() noexcept;

/// malloc_trim: the calling thread's spare spans go back to the region, and the region's free
/// units beyond `pad` bytes go back to the OS. True when any memory went back.
bool trim(std::size_t pad) noexcept;

// ---- stats.cpp ------------------------------------------------------------------------------
/// The process heap's figures, gathered from the region's descriptors and the huge-block table
/// under their locks (the hot paths count nothing).
struct heap_totals {
  struct per_class {
    std::uint64_t spans = 0, blocks = 0, capacity = 0;
  } cls[kSizeClasses + 1];
  std::size_t units_in_use = 0, units_peak = 0, spans_in_use = 0, next_fresh = 0;
  std::size_t committed_free_units = 0;  // free units whose memory is still committed
  std::size_t retain_limit = 0;          // how many may stay so now (spans_retain_limit)
  std::size_t abandoned_spans = 0, spare_spans = 0;
  // Bytes of live blocks in spans: blocks in use as their owners know it (a block freed by
  // another thread counts until its owner collects it) times their size.
  std::uint64_t live_bytes = 0;
  std::uint64_t free_blocks = 0;  // blocks of spans in use that are free or never handed out
  huge_totals huge{};
};
heap_totals gather_totals() noexcept;
/// Prints the process heap's statistics to stderr (RCA_SHOW_STATS, at exit).
void print_stats() noexcept;

// ---- the inline paths -----------------------------------------------------------------------

/// malloc's common case: the thread's head span of the class has a block.
[[gnu::always_inline]] inline void *alloc(std::size_t size) noexcept {
  thread_cache *tc = t_fast;
  if (tc && size <= kSmallBlockMax) [[likely]] {
    span_desc *d = tc->spans.spans.avail[class_of(size)].head;
    if (d) [[likely]] {
      if (free_block_link *b = d->local_free) [[likely]] {
        d->local_free = b->next;
        ++d->used;
        return b;
      }
      const std::uint32_t i = d->bump.load(std::memory_order_relaxed);
      if (i < d->capacity) [[likely]] {
        d->bump.store(i + 1, std::memory_order_relaxed);
        ++d->used;
        return d->first + std::size_t(i) * d->block_size;
      }
    }
  }
  return alloc_slow(size);
}

/// free's common case: a block of a span the thread owns, which stays neither empty nor full.
/// What it checks on the way costs a multiply: p is a block boundary below the span's bump and
/// not the block freed last (the cheap part of double-free detection; RCA_CHECKS has the rest).
[[gnu::always_inline]] inline void dealloc(void *p) noexcept {
  thread_cache *tc = t_fast;
  const std::uintptr_t off = g_region.offset(p);
  if (tc && g_region.contains_offset(off)) [[likely]] {
    span_desc *d = g_region.desc_at(off);
    if (d->owner.load(std::memory_order_relaxed) == &tc->spans.spans) [[likely]] {
      const std::uint64_t in_span = static_cast<std::uint64_t>(static_cast<char *>(p) - d->first);
      const auto index = static_cast<std::uint32_t>((in_span * d->reciprocal) >> 32);
      // The span must stay in its list: not full, and not emptied unless it is its class's
      // only span with room (which the slow path would keep too).
      if (std::uint64_t(index) * d->block_size == in_span &&
          index < d->bump.load(std::memory_order_relaxed) && !d->in_full &&
          (d->used > 1 || tc->spans.spans.avail[d->size_class].count == 1) && d->local_free != p)
          [[likely]] {
        auto *b = static_cast<free_block_link *>(p);
        b->next = d->local_free;
        d->local_free = b;
        --d->used;
        return;
      }
    }
  }
  free_slow(p);
}

}  // namespace rca::detail::malloc_layer
