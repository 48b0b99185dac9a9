// The refcount arena: one reservation per heap, carved into 4 KiB refcount pages whose
// descriptors live in a separate mapping.
#include "internal.h"
#include "prim/prim.h"

#include <cerrno>
#include <cstring>
#include <new>

namespace rca::detail {

int arena_init(arena &a, std::size_t limit_bytes, std::size_t retain_pages, unsigned slot_width,
               unsigned slot_stride) noexcept {
  a.retain = retain_pages;
  if (prim::page_size() != kPageSize) {
    set_error(ENOTSUP, "rca needs 4 KiB OS pages (this system has %zu)", prim::page_size());
    return ENOTSUP;
  }
  // A 32-bit index must reach every slot: resolve_config refuses larger limits.
  if (limit_bytes > max_arena_limit(slot_width)) {
    set_error(EINVAL, "arena_limit %zu is above %zu", limit_bytes, max_arena_limit(slot_width));
    return EINVAL;
  }
  const std::size_t pages = (limit_bytes + kPageSize - 1) / kPageSize;
  a.page_limit = pages + 1;  // + the guard page
  a.reserved = a.page_limit * kPageSize;
  void *base = nullptr;
  if (int e = prim::reserve(a.reserved, &base)) {
    set_error(e, "cannot reserve %zu bytes for refcount pages", a.reserved);
    return e;
  }
  a.base = static_cast<char *>(base);
  a.descs_bytes = (a.page_limit * sizeof(page_desc) + kPageSize - 1) / kPageSize * kPageSize;
  void *descs = nullptr;
  int e = prim::reserve(a.descs_bytes, &descs);
  if (e == 0) e = prim::commit(descs, a.descs_bytes);  // lazily faulted: costs only what is used
  if (e) {
    prim::release(a.base, a.reserved);
    set_error(e, "cannot map %zu bytes of page descriptors", a.descs_bytes);
    return e;
  }
  a.descs = static_cast<page_desc *>(descs);  // zero-filled: every page unused, no owner
  a.object_tags_bytes =
      (a.page_limit * (kPageSize / slot_stride) * sizeof(std::uint32_t) + kPageSize - 1) /
      kPageSize * kPageSize;
  void *tags = nullptr;
  e = prim::reserve(a.object_tags_bytes, &tags);
  if (e == 0) e = prim::commit(tags, a.object_tags_bytes);  // zero: no slot holds an object
  if (e) {
    prim::release(a.descs, a.descs_bytes);
    prim::release(a.base, a.reserved);
    set_error(e, "cannot map %zu bytes of object tags", a.object_tags_bytes);
    return e;
  }
  a.object_tags = static_cast<std::atomic<std::uint32_t> *>(tags);
  return 0;
}

void arena_destroy(arena &a) noexcept {
  if (a.base) prim::release(a.base, a.reserved);
  if (a.descs) prim::release(a.descs, a.descs_bytes);
  if (a.object_tags) prim::release(a.object_tags, a.object_tags_bytes);
  a.base = nullptr;
  a.descs = nullptr;
  a.object_tags = nullptr;
}

namespace {

void reset_descriptor(const rca_heap_t *heap, page_desc *d) noexcept {
  const unsigned cap = static_cast<unsigned>(kPageSize / heap->slot_stride);
  d->capacity = static_cast<std::uint16_t>(cap);
  d->used = 0;
  d->first_free_word = 0;
  for (std::size_t w = 0; w < kBitmapWords; ++w) {
    const std::size_t first = w * 64;
    std::uint64_t bits = 0;
    if (cap > first)
      bits = cap - first >= 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << (cap - first)) - 1;
    d->free_bits[w].store(bits, std::memory_order_relaxed);
    d->remote_bits[w].store(0, std::memory_order_relaxed);
  }
  d->owner.store(nullptr, std::memory_order_relaxed);
  d->list_owner = nullptr;
  d->next = d->prev = nullptr;
  d->in_avail = false;
}

}  // namespace

page_desc *arena_take_page(rca_heap_t *heap) noexcept {
  arena &a = heap->arena;
  std::size_t idx;
  {
    std::lock_guard<std::mutex> g(a.lock);
    if (!a.empty.empty()) {
      idx = a.empty.back();
      a.empty.pop_back();
    } else if (a.next_fresh < a.page_limit) {
      idx = a.next_fresh;
      if (int e = prim::commit(a.base + idx * kPageSize, kPageSize)) {
        set_error(e, "cannot commit a refcount page");
        return nullptr;
      }
      ++a.next_fresh;
    } else {
      set_error(ENOMEM, "refcount arena exhausted (arena_limit %zu bytes)",
                heap->config.arena_limit);
      return nullptr;
    }
    if (++a.pages_in_use > a.pages_peak) a.pages_peak = a.pages_in_use;
    page_desc *d = &a.descs[idx];
    reset_descriptor(heap, d);
    d->state.store(page_state::owned, std::memory_order_relaxed);
    return d;
  }
}

void arena_return_page_locked(rca_heap_t *heap, page_desc *page) noexcept {
  arena &a = heap->arena;
  page->owner.store(nullptr, std::memory_order_relaxed);
  page->state.store(page_state::unused, std::memory_order_relaxed);
  --a.pages_in_use;
  a.empty.push_back(static_cast<std::uint32_t>(page_index(a, page)));
  // Keep up to `retain` empty pages committed for reuse (re-faulting a page costs far more than
  // the slot work); give the memory of the one that just fell out of that window to the OS.
  if (a.empty.size() > a.retain) {
    const std::uint32_t old = a.empty[a.empty.size() - 1 - a.retain];
    prim::decommit(a.base + std::size_t(old) * kPageSize, kPageSize);
  }
}

void arena_return_page(rca_heap_t *heap, page_desc *page) noexcept {
  std::lock_guard<std::mutex> g(heap->arena.lock);
  arena_return_page_locked(heap, page);
}

}  // namespace rca::detail
