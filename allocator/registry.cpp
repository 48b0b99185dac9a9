// The registry of live objects and raw blocks (and embedded heaps' bare slots): what lets inline
// and embedded heaps be frozen (they have no refcount pages to sweep) and what verifies every
// free when checks are on.
#include "internal.h"

namespace rca::detail {

namespace {
const char *kind_name(block_kind k) noexcept {
  return k == block_kind::object ? "object" : k == block_kind::raw ? "raw block" : "slot";
}
}  // namespace

void registry_add(rca_heap_t *heap, void *p, block_kind kind) noexcept {
  std::lock_guard<std::mutex> g(heap->registry_lock);
  heap->registry[p] = registry_entry{kind, 0};
}

void registry_remove(rca_heap_t *heap, void *p, block_kind kind, const char *what) noexcept {
  bool found, kind_ok = false;
  block_kind found_kind{};
  {
    std::lock_guard<std::mutex> g(heap->registry_lock);
    auto it = heap->registry.find(p);
    found = it != heap->registry.end();
    if (found) {
      found_kind = it->second.kind;
      kind_ok = found_kind == kind;
      if (kind_ok) heap->registry.erase(it);
    }
  }
  // Reported with the lock released: nothing is held when fatal() runs (see fatal_hook).
  if (kind_ok) return;
  char desc[128];
  if (!found)
    fatal("%s: %p is not a live %s of %s (double free, or a pointer from elsewhere)", what, p,
          kind == block_kind::raw ? "block" : kind_name(kind), describe(heap, desc, sizeof desc));
  fatal("%s: %p is a%s %s of %s, not a%s %s", what, p, found_kind == block_kind::object ? "n" : "",
        kind_name(found_kind), describe(heap, desc, sizeof desc),
        kind == block_kind::object ? "n" : "", kind_name(kind));
}

bool registry_contains(rca_heap_t *heap, const void *p, block_kind kind) noexcept {
  std::lock_guard<std::mutex> g(heap->registry_lock);
  auto it = heap->registry.find(const_cast<void *>(p));
  return it != heap->registry.end() && it->second.kind == kind;
}

}  // namespace rca::detail
