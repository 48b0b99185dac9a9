// Object memory backends. None of them may replace the process's malloc behind its back:
//   system    the process's malloc (glibc here, or whatever the process preloads)
//   mimalloc  Debian's libmimalloc.so.2 opened with RTLD_LOCAL: its mi_* entry points serve
//             rca while the process's own malloc stays as it was
//   jemalloc  Debian's libjemalloc_pic.a linked in with every symbol made local except four
//             renamed entry points (rca_je_mallocx, ...): dlopen of libjemalloc.so.2 fails with
//             "cannot allocate memory in static TLS block", and linking it normally would take
//             over malloc for the whole process.
// Comparisons against a backend that *does* take over the process (LD_PRELOAD) run in separate
// processes (experiments).
#include "internal.h"
#include "prim/prim.h"

#include <cerrno>
#include <cstdlib>
#include <type_traits>

#if defined(__SANITIZE_THREAD__)
#define RCA_TSAN 1
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#endif

namespace rca::detail {
namespace {

// Backends that ThreadSanitizer cannot see into recycle memory between threads without any
// synchronisation it knows of: tell it that a free happens before the next allocation.
inline void *after_alloc(void *p) noexcept {
#ifdef RCA_TSAN
  if (p) __tsan_acquire(p);
#endif
  return p;
}
inline void before_free(void *p) noexcept {
#ifdef RCA_TSAN
  if (p) __tsan_release(p);
#else
  (void)p;
#endif
}

// ---- system ---------------------------------------------------------------------------------
void *sys_malloc(std::size_t n) { return std::malloc(n); }
void sys_free(void *p) { std::free(p); }
void *sys_realloc(void *p, std::size_t n) { return std::realloc(p, n); }

// ---- mimalloc -------------------------------------------------------------------------------
struct mimalloc_api {
  void *(*malloc)(std::size_t);
  void (*free)(void *);
  void *(*realloc)(void *, std::size_t);
  std::size_t (*usable_size)(const void *);
  const char *error;
};
const mimalloc_api &mimalloc() {
  static const mimalloc_api api = [] {
    mimalloc_api a{};
    void *h = prim::library_open("libmimalloc.so.2");
    if (!h) {
      a.error = "libmimalloc.so.2 cannot be loaded (install libmimalloc2.0)";
      return a;
    }
    auto symbol = [h](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(prim::library_symbol(h, name));
    };
    symbol(a.malloc, "mi_malloc");
    symbol(a.free, "mi_free");
    symbol(a.realloc, "mi_realloc");
    symbol(a.usable_size, "mi_usable_size");
    if (!a.malloc || !a.free || !a.realloc || !a.usable_size) {
      a = mimalloc_api{};
      a.error = "libmimalloc.so.2 lacks mi_malloc/mi_free/mi_realloc/mi_usable_size";
    }
    return a;
  }();
  return api;
}
void *mi_malloc_(std::size_t n) { return after_alloc(mimalloc().malloc(n)); }
void mi_free_(void *p) {
  before_free(p);
  mimalloc().free(p);
}
void *mi_realloc_(void *p, std::size_t n) {
  before_free(p);
  return after_alloc(mimalloc().realloc(p, n));
}
std::size_t mi_usable_(const void *p) { return mimalloc().usable_size(p); }

// ---- jemalloc -------------------------------------------------------------------------------
#ifdef RCA_HAVE_JEMALLOC
extern "C" {
void *rca_je_mallocx(std::size_t size, int flags);
void rca_je_dallocx(void *p, int flags);
void *rca_je_rallocx(void *p, std::size_t size, int flags);
std::size_t rca_je_sallocx(const void *p, int flags);
}
// mallocx(0) is undefined in jemalloc's API: ask for at least one byte.
void *je_malloc_(std::size_t n) { return after_alloc(rca_je_mallocx(n ? n : 1, 0)); }
void je_free_(void *p) {
  if (p) {
    before_free(p);
    rca_je_dallocx(p, 0);
  }
}
void *je_realloc_(void *p, std::size_t n) {
  if (!p) return je_malloc_(n);
  before_free(p);
  return after_alloc(rca_je_rallocx(p, n ? n : 1, 0));
}
std::size_t je_usable_(const void *p) { return rca_je_sallocx(p, 0); }
#endif

// ---- rca ------------------------------------------------------------------------------------
// rca's span allocator needs its heap: heap.cpp routes every call of a heap with has_spans to
// spans.cpp. These entry points are never called; reaching one is a routing bug.
[[noreturn]] void unrouted() { fatal("internal error: backend rca called without its heap"); }
void *rca_malloc_(std::size_t) { unrouted(); }
void rca_free_(void *) { unrouted(); }
void *rca_realloc_(void *, std::size_t) { unrouted(); }
std::size_t rca_usable_(const void *) { unrouted(); }

}  // namespace

int backend_load(rca_backend_t b, backend_ops *out) noexcept {
  switch (b) {
    case RCA_BACKEND_SYSTEM:
      *out = {sys_malloc, sys_free, sys_realloc, prim::system_usable_size};
      return 0;
    case RCA_BACKEND_MIMALLOC:
      if (mimalloc().error) {
        set_error(ENOTSUP, "backend mimalloc unavailable: %s", mimalloc().error);
        return ENOTSUP;
      }
      *out = {mi_malloc_, mi_free_, mi_realloc_, mi_usable_};
      return 0;
    case RCA_BACKEND_JEMALLOC:
#ifdef RCA_HAVE_JEMALLOC
      *out = {je_malloc_, je_free_, je_realloc_, je_usable_};
      return 0;
#else
      set_error(ENOTSUP, "backend jemalloc unavailable: rca was built with RCA_WITH_JEMALLOC=OFF");
      return ENOTSUP;
#endif
    case RCA_BACKEND_RCA: *out = {rca_malloc_, rca_free_, rca_realloc_, rca_usable_}; return 0;
    default: set_error(EINVAL, "backend %d out of range", static_cast<int>(b)); return EINVAL;
  }
}

}  // namespace rca::detail

extern "C" RCA_API int rca_backend_available(rca_backend_t b) {
  rca::detail::backend_ops ops;
  return rca::detail::backend_load(b, &ops) == 0;
}
