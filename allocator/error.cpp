// Error reporting: fatal misuse (message + abort) and the thread's last non-fatal error.
#include "internal.h"
#include "prim/prim.h"
#include "placement/placement.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace rca::detail {

namespace {
thread_local char last_error[256];
}

void (*fatal_hook)(const char *message) noexcept = nullptr;

void fatal(const char *fmt, ...) noexcept {
  if (fatal_hook) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fatal_hook(msg);
    std::abort();
  }
  char msg[512];
  int n = std::snprintf(msg, sizeof msg, "rca: ");
  va_list ap;
  va_start(ap, fmt);
  n += std::vsnprintf(msg + n, sizeof msg - static_cast<std::size_t>(n) - 1, fmt, ap);
  va_end(ap);
  if (n > static_cast<int>(sizeof msg) - 2) n = static_cast<int>(sizeof msg) - 2;
  msg[n++] = '\n';
  // Not stdio: the process may be in any state, and the line must come out whole.
  prim::write_stderr(msg, static_cast<std::size_t>(n));
  std::abort();
}

void set_error(int err, const char *fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  errno = err;
}

void not_a_heap(const rca_heap_t *heap, const char *what) noexcept {
  if (!heap) fatal("%s: null heap", what);
  fatal("%s: %p is not a live heap (%s)", what, static_cast<const void *>(heap),
        heap->magic == kDeadHeapMagic ? "destroyed" : "never made by rca_heap_new, or overwritten");
}

const char *describe(const rca_heap_t *heap, char *buf, std::size_t size) noexcept {
  if (heap->id == kMallocHeapId) {  // no placement names: it may run before any constructor
    std::snprintf(buf, size, "rca malloc's heap");
    return buf;
  }
  const rca_config_t &c = heap->config;
  std::snprintf(buf, size, "heap #%llu (%s, %s, %u-bit, %s)",
                static_cast<unsigned long long>(heap->id), rca_placement_name(c.placement),
                heap->counts_in_spans         ? rca_address_name(c.address)
                : heap->placement->has_handle ? rca_handle_kind_name(c.handle_kind)
                                              : "no handle",
                c.slot_bits, rca_backend_name(c.backend));
  return buf;
}

}  // namespace rca::detail

using namespace rca::detail;

extern "C" RCA_API const char *rca_last_error(void) { return last_error; }

// The refcount layer's failure hook: name the slot, its heap and the object where we can.
extern "C" RCA_API void rca_rc_fail(int op, const void *slot) {
  const char *what = op == RCA_RC_OP_DECREF_ZERO   ? "decref below zero"
                     : op == RCA_RC_OP_INCREF_ZERO ? "incref of a count of zero (use after free?)"
                                                   : "refcount misuse";
  char desc[128] = "no rca heap";
  long long index = -1;
  {
    std::lock_guard<std::mutex> g(heaps_lock());
    for (rca_heap_t *h : live_heaps()) {
      if (h->placement->has_refcount_pages && arena_page_of(h->arena, slot)) {
        describe(h, desc, sizeof desc);
        index = (static_cast<const char *>(slot) - h->arena.base) / h->slot_width;
        break;
      }
    }
  }
  if (index >= 0) fatal("%s: slot %p (index %lld) of %s", what, slot, index, desc);
  fatal("%s: count at %p (an inline or embedded count: the object is at or just before it)", what,
        slot);
}
