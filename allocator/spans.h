// The span allocator's hot paths, inline for the placements that call them (computed.cpp,
// heap.cpp): the common case of an allocation or a free by the span's owner, with no call.
// Everything else goes to spans.cpp.
#pragma once

#include "internal.h"

namespace rca::detail {

// ---- size classes ---------------------------------------------------------------------------
// 16..128 by 16 (8 classes), then four per doubling up to 8 KiB (24 classes).

constexpr std::uint32_t class_size(unsigned c) noexcept {
  if (c < 8) return (c + 1) * 16;
  const unsigned b = 7 + (c - 8) / 4, i = (c - 8) % 4;
  return (1u << b) + (i + 1) * (1u << (b - 2));
}
static_assert(class_size(kSizeClasses - 1) == kSmallBlockMax);

[[gnu::always_inline]] inline unsigned class_of(std::size_t size) noexcept {
  if (size <= 128) return size == 0 ? 0 : static_cast<unsigned>((size + 15) / 16 - 1);
  const unsigned b = 63u - static_cast<unsigned>(__builtin_clzll(size - 1));
  return 8 + (b - 7) * 4 + static_cast<unsigned>((size - 1 - (std::size_t(1) << b)) >> (b - 2));
}

constexpr std::uint32_t reciprocal_of(std::uint32_t size) noexcept {
  return static_cast<std::uint32_t>(((std::uint64_t(1) << 32) + size - 1) / size);
}

// ---- addresses ------------------------------------------------------------------------------

inline std::size_t unit_of(const span_region &r, const span_desc *d) noexcept {
  return static_cast<std::size_t>(d - r.descs);
}
inline char *unit_address(const span_region &r, std::size_t u) noexcept {
  return r.base + (u << kSpanShift);
}
inline char *window_of(const span_region &r, std::size_t u) noexcept {
  return r.counts + u * r.window_bytes;
}

// The count of block `index` (at `block`) of span d: the layouts the two address functions of
// rca/computed.h read.
inline void *count_at(const span_region &r, const span_desc *d, std::uint32_t index,
                      const void *block) noexcept {
  if (r.granule)
    return reinterpret_cast<void *>(r.granule_bias +
                                    (reinterpret_cast<std::uintptr_t>(block) >> RCA_GRANULE_SHIFT) *
                                        r.slot_width);
  return d->counts + std::size_t(index) * r.slot_width;
}

inline std::uint64_t count_load(const span_region &r, const void *c) noexcept {
  return r.slot_width == 4
             ? __atomic_load_n(static_cast<const std::uint32_t *>(c), __ATOMIC_RELAXED)
             : __atomic_load_n(static_cast<const std::uint64_t *>(c), __ATOMIC_RELAXED);
}
inline void count_store(const span_region &r, void *c, std::uint64_t v) noexcept {
  if (r.slot_width == 4)
    __atomic_store_n(static_cast<std::uint32_t *>(c), static_cast<std::uint32_t>(v),
                     __ATOMIC_RELAXED);
  else __atomic_store_n(static_cast<std::uint64_t *>(c), v, __ATOMIC_RELAXED);
}
inline std::uint64_t free_mark(const span_region &r) noexcept {
  return r.slot_width == 4 ? kFreeMark32 : kFreeMark64;
}
inline std::uint64_t raw_mark(const span_region &r) noexcept {
  return r.slot_width == 4 ? kRawMark32 : kRawMark64;
}

[[gnu::always_inline]] inline std::uint64_t free_mark_of(unsigned slot_width) noexcept {
  return slot_width == 4 ? kFreeMark32 : kFreeMark64;
}

/// A count freed with its block: freeze's value kept aside for it goes too, or a later block at
/// that position that is frozen when thaw runs would take the dead block's count (as the arena's
/// slot free does, slots.cpp).
[[gnu::always_inline]] inline void forget_saved_count(rca_heap_t *heap,
                                                      const void *count) noexcept {
  if (heap->saved_counts && heap->counts_in_spans) [[unlikely]] {
    const std::size_t off =
        static_cast<std::size_t>(static_cast<const char *>(count) - heap->spans.counts);
    *reinterpret_cast<std::uint64_t *>(static_cast<char *>(heap->saved_counts) +
                                       off / heap->slot_width * 8) = 0;
  }
}

/// A free by the span's owner that empties its span or leaves a full one (spans.cpp).
void cache_free_local(rca_heap_t *heap, span_cache *c, span_desc *d, void *p) noexcept;

/// span_alloc's common case: the owner's head span of the class has a block. `init` is 1 or the
/// raw mark; *bytes gets the block's size.
[[gnu::always_inline]] inline void *span_alloc_inline(rca_heap_t *heap, pool *mine,
                                                      std::size_t size, bool raw,
                                                      std::size_t *bytes) noexcept {
  span_region &r = heap->spans;
  if (mine && size <= kSmallBlockMax) [[likely]] {
    span_desc *d = mine->spans.avail[class_of(size)].head;
    if (d) [[likely]] {
      char *block;
      std::uint32_t index;
      if (free_block_link *b = d->local_free) {
        d->local_free = b->next;
        block = reinterpret_cast<char *>(b);
        index = static_cast<std::uint32_t>((std::uint64_t(block - d->first) * d->reciprocal) >> 32);
      } else {
        index = d->bump.load(std::memory_order_relaxed);
        // (blocks other threads freed come first: span_take collects them)
        if (index >= d->capacity || d->thread_free.load(std::memory_order_relaxed)) [[unlikely]]
          goto slow;
        d->bump.store(index + 1, std::memory_order_relaxed);
        block = d->first + std::size_t(index) * d->block_size;
      }
      ++d->used;
      *bytes = d->block_size;
      count_store(r, count_at(r, d, index, block),
                  raw ? (r.slot_width == 4 ? kRawMark32 : kRawMark64) : 1);
      return block;
    }
  }
slow:
  void *p = span_alloc(heap, mine, size, raw);
  *bytes = p ? span_usable_size(heap, p) : 0;
  return p;
}

/// After a block was pushed on span d's thread_free list: the span's owner is told when the span
/// is full, and an abandoned span is collected (and adopted by `mine`) here (spans.cpp).
void span_remote_pushed_slow(rca_heap_t *heap, pool *mine, span_desc *d) noexcept;
[[gnu::always_inline]] inline void span_remote_pushed(rca_heap_t *heap, pool *mine,
                                                      span_desc *d) noexcept {
  // Both loads are the Dekker half of retire_to_full and spans_abandon (seq_cst after the push).
  if (d->state.load(std::memory_order_seq_cst) == span_state::owned &&
      !d->full_flag.load(std::memory_order_seq_cst)) [[likely]]
    return;
  span_remote_pushed_slow(heap, mine, d);
}

/// Block p of span d (another thread's, or abandoned) pushed on the span's thread_free list.
[[gnu::always_inline]] inline void span_push_remote(rca_heap_t *heap, pool *mine, span_desc *d,
                                                    void *p) noexcept {
  auto *b = static_cast<free_block_link *>(p);
  free_block_link *head = d->thread_free.load(std::memory_order_relaxed);
  do {
    b->next = head;
  } while (!d->thread_free.compare_exchange_weak(head, b, std::memory_order_seq_cst,
                                                 std::memory_order_relaxed));
  span_remote_pushed(heap, mine, d);
}

/// span_free's common case for a thread that does not own the block's span, in a heap without
/// counts (rca malloc): a block boundary below the bump of a span another thread owns, pushed on
/// the span's thread_free list. False, with nothing done, for anything else (the caller then
/// takes span_free, which checks p in full).
[[gnu::always_inline]] inline bool span_free_remote_inline(rca_heap_t *heap, pool *mine,
                                                           span_desc *d, void *p) noexcept {
  span_cache *owner = d->owner.load(std::memory_order_relaxed);
  if (!owner || owner == &mine->spans || owner == &heap->shared_spans ||
      d->state.load(std::memory_order_acquire) != span_state::owned)
    return false;
  const std::uint64_t off = static_cast<std::uint64_t>(static_cast<char *>(p) - d->first);
  const std::uint32_t index = static_cast<std::uint32_t>((off * d->reciprocal) >> 32);
  if (off >= std::uint64_t(d->bump.load(std::memory_order_relaxed)) * d->block_size ||
      std::uint64_t(index) * d->block_size != off)
    return false;
  span_push_remote(heap, mine, d, p);
  return true;
}

/// span_free's common case: a live block of a span the caller owns, which stays neither empty nor
/// full. Every check of span_free is made (the block is handed out, not interior, not free).
[[gnu::always_inline]] inline std::size_t span_free_inline(rca_heap_t *heap, pool *mine, void *p,
                                                           const char *what) noexcept {
  span_region &r = heap->spans;
  const std::uintptr_t in_region =
      reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(r.base);
  if (mine && in_region < (r.units_limit << kSpanShift)) [[likely]] {
    span_desc *d = &r.descs[in_region >> kSpanShift];
    if (d->owner.load(std::memory_order_relaxed) == &mine->spans) [[likely]] {
      const std::uint64_t off = static_cast<std::uint64_t>(static_cast<char *>(p) - d->first);
      const std::uint32_t index = static_cast<std::uint32_t>((off * d->reciprocal) >> 32);
      if (off < std::uint64_t(d->bump.load(std::memory_order_relaxed)) * d->block_size &&
          std::uint64_t(index) * d->block_size == off) [[likely]] {
        void *count = count_at(r, d, index, p);
        const std::uint64_t mark = free_mark_of(r.slot_width);
        if (count_load(r, count) != mark) [[likely]] {
          count_store(r, count, mark);
          forget_saved_count(heap, count);
          const std::size_t bytes = d->block_size;
          if (d->used > 1 && !d->in_full) [[likely]] {
            auto *b = static_cast<free_block_link *>(p);
            b->next = d->local_free;
            d->local_free = b;
            --d->used;
          } else {
            cache_free_local(heap, &mine->spans, d, p);
          }
          return bytes;
        }
      }
    }
  }
  return span_free(heap, mine, p, what);
}

}  // namespace rca::detail
