// rca malloc's paths beyond the inline ones: a thread's first call, spans that ran dry, large
// and huge blocks, aligned blocks, realloc, calloc, and every free the inline path does not
// take, which spans.cpp checks in full (a foreign, interior or never handed out pointer, a block
// in a free span, and with RCA_CHECKS any double free, abort with one line).
#include "malloc.h"

#include <cerrno>
#include <cstring>

namespace rca::detail::malloc_layer {
namespace {

inline bool in_region(const void *p) noexcept {
  return g_region.contains_offset(g_region.offset(p));
}

inline span_desc *desc_of(const void *p) noexcept { return g_region.desc_at(g_region.offset(p)); }

// A block from the span region, or null when it is exhausted.
inline void *region_alloc(std::size_t size) noexcept {
  rca_heap_t *heap = process_heap();
  thread_cache *tc = thread_cache_of();
  return span_alloc(heap, tc ? &tc->spans : nullptr, size, true);
}

[[noreturn]] void foreign(const void *p, const char *what) noexcept {
  fatal(
      "%s: %p is not a block of rca malloc (outside its region and not a mapping of its own: "
      "a pointer from another allocator, or a corrupt one)",
      what, p);
}

}  // namespace

void *alloc_slow(std::size_t size) noexcept {
  if (size >= kHugeMin) [[unlikely]]
    return huge_alloc(size, 1);
  void *p = region_alloc(size);
  if (!p && size > kSmallBlockMax) p = huge_alloc(size, 1);  // the region is exhausted
  if (!p) errno = ENOMEM;
  return p;
}

void free_slow(void *p) noexcept {
  if (!p) return;
  if (in_region(p)) [[likely]] {
    rca_heap_t *heap = process_heap();
    // Another thread's block (t_fast: a thread with a cache and checks off): pushed on its
    // span's list here, without span_free's full checks, when it passes the inline free's.
    if (thread_cache *tc = t_fast; tc && span_free_remote_inline(heap, &tc->spans, desc_of(p), p))
      return;
    thread_cache *tc = thread_cache_of();
    span_free(heap, tc ? &tc->spans : nullptr, p, "free");
    return;
  }
  if (!huge_free(p)) foreign(p, "free");
}

// Spans start on a 64 KiB boundary and rca malloc's have no header, so a block of a size that is
// a multiple of the alignment is aligned to it: every class size is a multiple of each power of
// two up to its own spacing, large blocks start on the unit boundary, huge ones on a page.
// Alignments above a unit get a mapping of their own.
void *alloc_aligned(std::size_t alignment, std::size_t size) noexcept {
  if (alignment <= kGranule) return alloc(size);
  if (alignment > kSpanBytes) {
    void *p = huge_alloc(size ? size : 1, alignment);
    if (!p) errno = ENOMEM;
    return p;
  }
  if (size > SIZE_MAX - alignment) {
    errno = ENOMEM;
    return nullptr;
  }
  const std::size_t rounded = ((size ? size : 1) + alignment - 1) & ~(alignment - 1);
  void *p;
  if (rounded <= kSmallBlockMax) p = alloc(rounded);
  else if (rounded >= kHugeMin || !(p = region_alloc(rounded))) p = huge_alloc(rounded, alignment);
  if (!p) errno = ENOMEM;
  if (p && (reinterpret_cast<std::uintptr_t>(p) & (alignment - 1)) != 0)
    fatal("rca malloc: internal error: block %p of %zu bytes is not aligned to %zu", p, rounded,
          alignment);
  return p;
}

std::size_t usable_size(const void *p) noexcept {
  if (!p) return 0;
  if (in_region(p)) {
    const span_desc *d = desc_of(p);
    const span_state st = d->state.load(std::memory_order_relaxed);
    if (st != span_state::owned && st != span_state::abandoned)
      fatal("malloc_usable_size: %p is not a live block of rca malloc", p);
    return d->block_size;
  }
  if (std::size_t n = huge_size(p)) return n;
  foreign(p, "malloc_usable_size");
}

void *realloc_block(void *p, std::size_t size) noexcept {
  if (!p) return alloc(size);
  if (size == 0) {  // glibc's behaviour, which programs written for it expect
    free_slow(p);
    return nullptr;
  }
  std::size_t old;
  if (in_region(p)) {
    old = usable_size(p);
    // A large block stays a large one in place while the units after it are free: it grows into
    // them, or gives its tail back (no copy).
    if (old > kSmallBlockMax && size > kSmallBlockMax && size < kHugeMin &&
        span_resize_large(process_heap(), p, size))
      return p;
    // In place while the block fits and wastes less than half of itself (the size class stays,
    // or the next smaller one would do no better).
    if (size <= old && size > old / 2) return p;
  } else {
    old = huge_size(p);
    if (!old) foreign(p, "realloc");
    if (size >= kHugeMin)
      if (void *q = huge_realloc(p, size)) return q;  // else as any other block
  }
  void *q = alloc(size);
  if (!q) return nullptr;
  std::memcpy(q, p, size < old ? size : old);
  dealloc(p);
  return q;
}

void *calloc_block(std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) [[unlikely]] {
    errno = ENOMEM;
    return nullptr;
  }
  void *p = alloc(bytes);
  if (!p) return nullptr;
  // Memory that was never written reads as zero: a large span taken fresh or after decommit,
  // and every huge block. Small blocks are reused too often to be worth tracking.
  if (bytes > kSmallBlockMax) {
    if (!in_region(p)) return p;
    if (desc_of(p)->zeroed) return p;
  }
  std::memset(p, 0, bytes);
  return p;
}

}  // namespace rca::detail::malloc_layer
