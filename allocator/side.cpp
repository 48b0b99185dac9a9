// Side memory: mappings for rca's own bookkeeping, kept apart from object memory (see types.h).
#include "internal.h"
#include "prim/prim.h"

#include <cerrno>

#if defined(__SANITIZE_ADDRESS__)
#define RCA_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCA_LSAN 1
#endif
#endif
#ifdef RCA_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace rca::detail {

void lsan_root_add([[maybe_unused]] void *p, [[maybe_unused]] std::size_t bytes) noexcept {
#ifdef RCA_LSAN
  __lsan_register_root_region(p, bytes);
#endif
}
void lsan_root_remove([[maybe_unused]] void *p, [[maybe_unused]] std::size_t bytes) noexcept {
#ifdef RCA_LSAN
  __lsan_unregister_root_region(p, bytes);
#endif
}

namespace {

std::size_t round_to_pages(std::size_t bytes) noexcept {
  return (bytes + kPageSize - 1) / kPageSize * kPageSize;
}

void *map_or_die(std::size_t bytes) noexcept {
  void *p = nullptr;
  if (int e = prim::reserve(bytes, &p); e || (e = prim::commit(p, bytes)))
    fatal("cannot map %zu bytes for the object registry (errno %d)", bytes, e);
  lsan_root_add(p, bytes);
  return p;
}

void unmap(void *p, std::size_t bytes) noexcept {
  lsan_root_remove(p, bytes);
  prim::release(p, bytes);
}

}  // namespace

void *side_memory::allocate(std::size_t bytes) noexcept {
  if (bytes == 0) bytes = 1;
  if (bytes > kSmallMax) return map_or_die(round_to_pages(bytes));
  const std::size_t cls = (bytes + kGrain - 1) / kGrain - 1;
  if (free_block *b = free_[cls]) {
    free_[cls] = b->next;
    return b;
  }
  const std::size_t size = (cls + 1) * kGrain;
  if (static_cast<std::size_t>(bump_end_ - bump_) < size) {
    // The rest of the old chunk (less than one block) is given up; a new chunk starts after its
    // header, which links it for the destructor.
    auto *c = static_cast<chunk *>(map_or_die(kChunkBytes));
    c->next = chunks_;
    chunks_ = c;
    bump_ = reinterpret_cast<char *>(c) + kGrain;
    bump_end_ = reinterpret_cast<char *>(c) + kChunkBytes;
  }
  void *p = bump_;
  bump_ += size;
  return p;
}

void side_memory::deallocate(void *p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes == 0) bytes = 1;
  if (bytes > kSmallMax) {
    unmap(p, round_to_pages(bytes));
    return;
  }
  const std::size_t cls = (bytes + kGrain - 1) / kGrain - 1;
  auto *b = static_cast<free_block *>(p);
  b->next = free_[cls];
  free_[cls] = b;
}

void *line_slab::allocate(std::size_t bytes) noexcept {
  const std::size_t size = (bytes + kLineSize - 1) / kLineSize * kLineSize;
  if (size + kLineSize > kChunkBytes) {
    errno = ENOMEM;  // a pool is a few lines; nothing asks for more
    return nullptr;
  }
  if (static_cast<std::size_t>(bump_end_ - bump_) < size) {
    void *m = nullptr;
    if (int e = prim::reserve(kChunkBytes, &m); e || (e = prim::commit(m, kChunkBytes))) {
      if (m) prim::release(m, kChunkBytes);
      errno = e;
      return nullptr;
    }
    lsan_root_add(m, kChunkBytes);
    auto *c = static_cast<chunk *>(m);
    c->next = chunks_;
    c->bytes = kChunkBytes;
    chunks_ = c;
    bump_ = static_cast<char *>(m) + kLineSize;
    bump_end_ = static_cast<char *>(m) + kChunkBytes;
  }
  void *p = bump_;
  bump_ += size;
  return p;  // fresh mapping: zero
}

line_slab::~line_slab() {
  while (chunk *c = chunks_) {
    chunks_ = c->next;
    unmap(c, c->bytes);
  }
}

side_memory::~side_memory() {
  // Large blocks went back as their owner (the registry, destroyed first) released them.
  while (chunk *c = chunks_) {
    chunks_ = c->next;
    unmap(c, kChunkBytes);
  }
}

}  // namespace rca::detail
