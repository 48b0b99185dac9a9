// The C entry points of rca malloc. They are the only symbols librca_malloc.so exports
// (exports.map) and the only global ones of librca_malloc.a (the rest is localised when the
// archive is made), so a program linking either gets rca's malloc and nothing else of rca's.
#include "malloc.h"

#include <cerrno>
#include <climits>
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

// ---- glibc's malloc.h extras: a program calling them under the preload must reach rca's heap,
// not glibc's (which would report an empty heap, or trim nothing that rca holds) -------------

namespace {
// mallinfo2's figures: arena is the region's memory in spans and in free units still committed;
// of it uordblks is in live blocks and fordblks the rest; ordblks counts free blocks of spans in
// use; hblks and hblkhd are the blocks with mappings of their own; keepcost is what malloc_trim
// would give back. rca has no fastbins (smblks, fsmblks 0), and usmblks is 0 in glibc too.
struct mallinfo2 info() noexcept {
  const heap_totals t = gather_totals();
  struct mallinfo2 m {};
  m.arena = (t.units_in_use + t.committed_free_units) << rca::detail::kSpanShift;
  m.uordblks = t.live_bytes;
  m.fordblks = m.arena - m.uordblks;
  m.ordblks = t.free_blocks;
  m.hblks = t.huge.blocks;
  m.hblkhd = t.huge.bytes;
  m.keepcost = t.committed_free_units << rca::detail::kSpanShift;
  return m;
}
int saturated(std::size_t v) noexcept { return v > INT_MAX ? INT_MAX : static_cast<int>(v); }
}  // namespace

RCA_MALLOC_API struct mallinfo2 mallinfo2(void) noexcept { return info(); }

// The old interface has int fields: a figure beyond INT_MAX reads INT_MAX (glibc's wraps).
RCA_MALLOC_API struct mallinfo mallinfo(void) noexcept {
  const struct mallinfo2 m = info();
  struct mallinfo o {};
  o.arena = saturated(m.arena);
  o.ordblks = saturated(m.ordblks);
  o.hblks = saturated(m.hblks);
  o.hblkhd = saturated(m.hblkhd);
  o.uordblks = saturated(m.uordblks);
  o.fordblks = saturated(m.fordblks);
  o.keepcost = saturated(m.keepcost);
  return o;
}

// 1 when memory went back to the OS: the calling thread's spare spans and the region's free
// units, all but `pad` bytes of them (glibc keeps pad bytes at the top of its heap).
RCA_MALLOC_API int malloc_trim(std::size_t pad) noexcept { return trim(pad) ? 1 : 0; }

// glibc's tuning parameters mean nothing to rca's heap: accepted (1) and ignored, so that a
// program tuning glibc runs unchanged; any other parameter is refused (0), as mallopt(3) says.
RCA_MALLOC_API int mallopt(int param, int) noexcept {
  switch (param) {
    case M_MXFAST:
    case M_NLBLKS:
    case M_GRAIN:
    case M_KEEP:
    case M_TRIM_THRESHOLD:
    case M_TOP_PAD:
    case M_MMAP_THRESHOLD:
    case M_MMAP_MAX:
    case M_CHECK_ACTION:
    case M_PERTURB:
    case M_ARENA_TEST:
    case M_ARENA_MAX: return 1;
    default: return 0;
  }
}
