// The C entry points of rca malloc. They are the only symbols librca_malloc.so exports
// (exports.map) and the only global ones of librca_malloc.a (the rest is localised when the
// archive is made), so a program linking either gets rca's malloc and nothing else of rca's.
#include "malloc.h"

#include <cerrno>
#include <cstdlib>
#include <malloc.h>

#define RCA_MALLOC_API extern "C" __attribute__((visibility("default")))

using namespace rca::detail::malloc_layer;

namespace {
inline bool power_of_two(std::size_t x) noexcept { return x && !(x & (x - 1)); }
constexpr std::size_t kPage = 4096;
}  // namespace

RCA_MALLOC_API void *malloc(std::size_t size) noexcept { return alloc(size); }

RCA_MALLOC_API void free(void *p) noexcept { dealloc(p); }

RCA_MALLOC_API void *calloc(std::size_t count, std::size_t size) noexcept {
  return calloc_block(count, size);
}

RCA_MALLOC_API void *realloc(void *p, std::size_t size) noexcept { return realloc_block(p, size); }

RCA_MALLOC_API void *reallocarray(void *p, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc_block(p, bytes);
}

RCA_MALLOC_API int posix_memalign(void **out, std::size_t alignment, std::size_t size) noexcept {
  if (!power_of_two(alignment) || alignment % sizeof(void *) != 0) return EINVAL;
  const int saved = errno;  // posix_memalign reports by its result and leaves errno alone
  void *p = alloc_aligned(alignment, size);
  if (!p) {
    errno = saved;
    return ENOMEM;
  }
  *out = p;
  return 0;
}

// C17: an alignment the implementation does not support gives null (glibc 2.38 and later: EINVAL
// for one that is not a power of two, as here).
RCA_MALLOC_API void *aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  if (!power_of_two(alignment)) {
    errno = EINVAL;
    return nullptr;
  }
  return alloc_aligned(alignment, size);
}

// glibc's memalign takes any alignment and rounds it up to a power of two.
RCA_MALLOC_API void *memalign(std::size_t alignment, std::size_t size) noexcept {
  if (alignment > (SIZE_MAX >> 1) + 1) {
    errno = EINVAL;
    return nullptr;
  }
  std::size_t a = 1;
  while (a < alignment) a <<= 1;
  return alloc_aligned(a, size);
}

RCA_MALLOC_API void *valloc(std::size_t size) noexcept { return alloc_aligned(kPage, size); }

RCA_MALLOC_API void *pvalloc(std::size_t size) noexcept {
  if (size > SIZE_MAX - kPage) {
    errno = ENOMEM;
    return nullptr;
  }
  const std::size_t rounded = size ? (size + kPage - 1) & ~(kPage - 1) : kPage;
  return alloc_aligned(kPage, rounded);
}

RCA_MALLOC_API std::size_t malloc_usable_size(void *p) noexcept { return usable_size(p); }

// Older and newer names for free: cfree (gone from glibc's headers, still in old binaries), and
// C23's free_sized and free_aligned_sized (the size is not needed to find the block).
RCA_MALLOC_API void cfree(void *p) noexcept;
RCA_MALLOC_API void cfree(void *p) noexcept { dealloc(p); }
RCA_MALLOC_API void free_sized(void *p, std::size_t) noexcept;
RCA_MALLOC_API void free_sized(void *p, std::size_t) noexcept { dealloc(p); }
RCA_MALLOC_API void free_aligned_sized(void *p, std::size_t, std::size_t) noexcept;
RCA_MALLOC_API void free_aligned_sized(void *p, std::size_t, std::size_t) noexcept { dealloc(p); }
