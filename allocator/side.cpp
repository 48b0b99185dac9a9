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

std::size_t round_to_pages(std::size_t bytes) noexcept {
  return (bytes + kPageSize - 1) / kPageSize * kPageSize;
}

void *side_map(std::size_t bytes, const char *what) noexcept {
  void *p = nullptr;
  if (int e = prim::reserve(bytes, &p); e || (e = prim::commit(p, bytes))) {
    if (p) prim::release(p, bytes);
    fatal("cannot map %zu bytes for %s (errno %d)", bytes, what, e);
  }
  lsan_root_add(p, bytes);
  return p;
}

void side_unmap(void *p, std::size_t bytes) noexcept {
  lsan_root_remove(p, bytes);
  prim::release(p, bytes);
}

void *chunk_bump::allocate(std::size_t size) noexcept {
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
    chunks_ = c;
    bump_ = static_cast<char *>(m) + header_;
    bump_end_ = static_cast<char *>(m) + kChunkBytes;
  }
  void *p = bump_;
  bump_ += size;
  return p;
}

chunk_bump::~chunk_bump() {
  while (chunk *c = chunks_) {
    chunks_ = c->next;
    side_unmap(c, kChunkBytes);
  }
}

void *line_slab::allocate(std::size_t bytes) noexcept {
  const std::size_t size = (bytes + kLineSize - 1) / kLineSize * kLineSize;
  if (size + kLineSize > chunk_bump::kChunkBytes) {
    errno = ENOMEM;  // a pool is a few lines; nothing asks for more
    return nullptr;
  }
  return chunks_.allocate(size);
}

}  // namespace rca::detail
