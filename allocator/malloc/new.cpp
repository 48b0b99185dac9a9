// The C++ operators new and delete (plain, sized, aligned, nothrow, arrays) on rca malloc, all in
// one file so that a static link takes all of them or none. new runs the new-handler loop and
// throws std::bad_alloc, as the standard library's does.
#include "malloc.h"

#include <cstddef>
#include <new>

#define RCA_NEW_API __attribute__((visibility("default")))

using namespace rca::detail::malloc_layer;

namespace {

[[gnu::noinline]] void *new_failed(std::size_t size, std::size_t alignment, bool nothrow) {
  for (;;) {
    std::new_handler handler = std::get_new_handler();
    if (!handler) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    if (nothrow) {
      try {
        handler();
      } catch (...) {
        return nullptr;
      }
    } else {
      handler();
    }
    void *p = alignment ? alloc_aligned(alignment, size) : alloc(size);
    if (p) return p;
  }
}

inline void *new_block(std::size_t size) {
  void *p = alloc(size);
  if (p) [[likely]]
    return p;
  return new_failed(size, 0, false);
}
inline void *new_block(std::size_t size, std::align_val_t a) {
  void *p = alloc_aligned(static_cast<std::size_t>(a), size);
  if (p) [[likely]]
    return p;
  return new_failed(size, static_cast<std::size_t>(a), false);
}
inline void *new_nothrow(std::size_t size) noexcept {
  void *p = alloc(size);
  if (p) [[likely]]
    return p;
  return new_failed(size, 0, true);
}
inline void *new_nothrow(std::size_t size, std::align_val_t a) noexcept {
  void *p = alloc_aligned(static_cast<std::size_t>(a), size);
  if (p) [[likely]]
    return p;
  return new_failed(size, static_cast<std::size_t>(a), true);
}

}  // namespace

RCA_NEW_API void *operator new(std::size_t n) { return new_block(n); }
RCA_NEW_API void *operator new[](std::size_t n) { return new_block(n); }
RCA_NEW_API void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
  return new_nothrow(n);
}
RCA_NEW_API void *operator new[](std::size_t n, const std::nothrow_t &) noexcept {
  return new_nothrow(n);
}
RCA_NEW_API void *operator new(std::size_t n, std::align_val_t a) { return new_block(n, a); }
RCA_NEW_API void *operator new[](std::size_t n, std::align_val_t a) { return new_block(n, a); }
RCA_NEW_API void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return new_nothrow(n, a);
}
RCA_NEW_API void *operator new[](std::size_t n, std::align_val_t a,
                                 const std::nothrow_t &) noexcept {
  return new_nothrow(n, a);
}

RCA_NEW_API void operator delete(void *p) noexcept { dealloc(p); }
RCA_NEW_API void operator delete[](void *p) noexcept { dealloc(p); }
RCA_NEW_API void operator delete(void *p, std::size_t) noexcept { dealloc(p); }
RCA_NEW_API void operator delete[](void *p, std::size_t) noexcept { dealloc(p); }
RCA_NEW_API void operator delete(void *p, const std::nothrow_t &) noexcept { dealloc(p); }
RCA_NEW_API void operator delete[](void *p, const std::nothrow_t &) noexcept { dealloc(p); }
RCA_NEW_API void operator delete(void *p, std::align_val_t) noexcept { dealloc(p); }
RCA_NEW_API void operator delete[](void *p, std::align_val_t) noexcept { dealloc(p); }
RCA_NEW_API void operator delete(void *p, std::size_t, std::align_val_t) noexcept { dealloc(p); }
RCA_NEW_API void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { dealloc(p); }
RCA_NEW_API void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  dealloc(p);
}
RCA_NEW_API void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  dealloc(p);
}
