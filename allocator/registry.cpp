// The registry of live objects and raw blocks: what lets inline and embedded heaps be frozen
// (they have no refcount pages to sweep) and what verifies every free when checks are on.
#include "internal.h"

namespace rca::detail {

void registry_add(rca_heap_t *heap, void *p, block_kind kind) noexcept {
  std::lock_guard<std::mutex> g(heap->registry_lock);
  heap->registry[p] = registry_entry{kind, 0};
}

void registry_remove(rca_heap_t *heap, void *p, block_kind kind, const char *what) noexcept {
  std::lock_guard<std::mutex> g(heap->registry_lock);
  auto it = heap->registry.find(p);
  char desc[128];
  if (it == heap->registry.end())
    fatal("%s: %p is not a live %s of %s (double free, or a pointer from elsewhere)", what, p,
          kind == block_kind::object ? "object" : "block", describe(heap, desc, sizeof desc));
  if (it->second.kind != kind)
    fatal("%s: %p is %s of %s, not a%s", what, p,
          it->second.kind == block_kind::object ? "an object" : "a raw block",
          describe(heap, desc, sizeof desc), kind == block_kind::object ? "n object" : " raw block");
  heap->registry.erase(it);
}

bool registry_contains(rca_heap_t *heap, const void *p, block_kind kind) noexcept {
  std::lock_guard<std::mutex> g(heap->registry_lock);
  auto it = heap->registry.find(const_cast<void *>(p));
  return it != heap->registry.end() && it->second.kind == kind;
}

}  // namespace rca::detail
