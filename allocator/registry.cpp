// The registry of live objects and raw blocks (and embedded heaps' bare slots): what lets inline
// and embedded heaps be frozen (they have no refcount pages to sweep) and what verifies every
// free when checks are on. Its table is registry_table (types.h).
#include "internal.h"

namespace rca::detail {

// ---- registry_table -------------------------------------------------------------------------

namespace {
constexpr std::size_t kFirstCells = 512;  // 12 KiB: a heap that tracks a few blocks maps 3 pages
constexpr const char *kWhat = "the object registry";
}  // namespace

registry_table::entry *registry_table::find(const void *block) noexcept {
  if (size_ == 0) return nullptr;
  const std::size_t mask = capacity_ - 1;
  for (std::size_t i = home(block);; i = (i + 1) & mask) {
    entry &e = cells_[i];
    if (e.block == block) return &e;
    if (!e.block) return nullptr;  // (at most half full: an empty cell always ends the run)
  }
}

void registry_table::insert(void *block, block_kind kind) noexcept {
  if ((size_ + 1) * 2 > capacity_) grow();
  const std::size_t mask = capacity_ - 1;
  for (std::size_t i = home(block);; i = (i + 1) & mask) {
    entry &e = cells_[i];
    if (e.block && e.block != block) continue;
    if (!e.block) ++size_;
    e = entry{block, 0, kind};
    return;
  }
}

void registry_table::erase(entry *e) noexcept {
  // Backward shift: each later entry of the run moves into the hole unless its home lies
  // (cyclically) after the hole and at or before the entry, where a lookup would stop short of it.
  const std::size_t mask = capacity_ - 1;
  std::size_t hole = static_cast<std::size_t>(e - cells_);
  for (std::size_t j = (hole + 1) & mask; cells_[j].block; j = (j + 1) & mask) {
    const std::size_t h = home(cells_[j].block);
    const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (stays) continue;
    cells_[hole] = cells_[j];
    hole = j;
  }
  cells_[hole] = entry{};
  --size_;
}

void registry_table::grow() noexcept {
  entry *old = cells_;
  const std::size_t old_capacity = capacity_;
  capacity_ = old_capacity ? old_capacity * 2 : kFirstCells;
  shift_ = 64u - static_cast<unsigned>(__builtin_ctzll(capacity_));
  cells_ = static_cast<entry *>(side_map(round_to_pages(capacity_ * sizeof(entry)), kWhat));
  const std::size_t mask = capacity_ - 1;
  for (std::size_t k = 0; k < old_capacity; ++k) {
    if (!old[k].block) continue;
    std::size_t i = home(old[k].block);
    while (cells_[i].block) i = (i + 1) & mask;
    cells_[i] = old[k];
  }
  if (old) side_unmap(old, round_to_pages(old_capacity * sizeof(entry)));
}

void registry_table::release() noexcept {
  if (cells_) side_unmap(cells_, round_to_pages(capacity_ * sizeof(entry)));
  cells_ = nullptr;
  capacity_ = size_ = 0;
  shift_ = 64;
}

// ---- the registry ---------------------------------------------------------------------------

namespace {
const char *kind_name(block_kind k) noexcept {
  return k == block_kind::object ? "object" : k == block_kind::raw ? "raw block" : "slot";
}
}  // namespace

void registry_add(rca_heap_t *heap, void *p, block_kind kind) noexcept {
  std::lock_guard<std::mutex> g(heap->registry_lock);
  heap->registry.insert(p, kind);
}

void registry_remove(rca_heap_t *heap, void *p, block_kind kind, const char *what) noexcept {
  bool found, kind_ok = false;
  block_kind found_kind{};
  {
    std::lock_guard<std::mutex> g(heap->registry_lock);
    registry_table::entry *e = heap->registry.find(p);
    found = e != nullptr;
    if (found) {
      found_kind = e->kind;
      kind_ok = found_kind == kind;
      if (kind_ok) heap->registry.erase(e);
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
  const registry_table::entry *e = heap->registry.find(p);
  return e && e->kind == kind;
}

}  // namespace rca::detail
