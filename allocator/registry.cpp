// The registry of live objects and raw blocks (and embedded heaps' bare slots): what lets inline
// and embedded heaps be frozen (they have no refcount pages to sweep) and what verifies every
// free when checks are on. Its table is registry_table (types.h).
#include "internal.h"

#include <cstdint>
#include <cstring>

namespace rca::detail {

// ---- registry_table -------------------------------------------------------------------------

namespace {
constexpr std::size_t kFirstCells = 512;  // 4 KiB of cells and 6 KiB of entries to start
constexpr const char *kWhat = "the object registry";
std::size_t entries_bytes(std::size_t cells) noexcept {
  return round_to_pages(cells / 2 * sizeof(registry_table::entry));
}
}  // namespace

std::size_t registry_table::locate(const void *block) const noexcept {
  if (size_ == 0) return npos;
  const std::size_t mask = capacity_ - 1;
  const std::uint32_t h = hash(block);
  for (std::size_t c = home(h);; c = (c + 1) & mask) {
    const cell v = cells_[c];
    if (v.entry == 0) return npos;  // (at most half full: an empty cell always ends the run)
    if (v.hash == h && entries_[v.entry - 1].block == block) return c;
  }
}

std::size_t registry_table::cell_of(std::size_t i) const noexcept {
  const std::size_t mask = capacity_ - 1;
  std::size_t c = home(hash(entries_[i].block));
  while (cells_[c].entry != i + 1) c = (c + 1) & mask;
  return c;
}

void registry_table::insert(void *block, block_kind kind) noexcept {
  if ((size_ + 1) * 2 > capacity_) grow();
  const std::size_t mask = capacity_ - 1;
  const std::uint32_t h = hash(block);
  std::size_t c = home(h);
  for (; cells_[c].entry; c = (c + 1) & mask) {
    if (cells_[c].hash != h) continue;
    entry &e = entries_[cells_[c].entry - 1];
    if (e.block == block) {  // registered already: reset
      e = entry{block, 0, kind};
      return;
    }
  }
  entries_[size_] = entry{block, 0, kind};
  cells_[c] = cell{static_cast<std::uint32_t>(++size_), h};
}

void registry_table::erase_at(std::size_t hole) noexcept {
  const std::size_t mask = capacity_ - 1;
  const std::size_t i = cells_[hole].entry - 1;
  // Backward shift: each later cell of the run moves into the hole unless its home lies
  // (cyclically) after the hole and at or before the cell, where a lookup would stop short of it.
  for (std::size_t c = (hole + 1) & mask; cells_[c].entry; c = (c + 1) & mask) {
    const std::size_t h = home(cells_[c].hash);
    const bool stays = hole <= c ? (hole < h && h <= c) : (hole < h || h <= c);
    if (stays) continue;
    cells_[hole] = cells_[c];
    hole = c;
  }
  cells_[hole] = cell{};
  // The last entry takes the removed one's place.
  const std::size_t last = size_ - 1;
  if (i != last) {
    cells_[cell_of(last)].entry = static_cast<std::uint32_t>(i + 1);
    entries_[i] = entries_[last];
  }
  entries_[last] = entry{};
  --size_;
}

void registry_table::grow() noexcept {
  const std::size_t old_capacity = capacity_;
  const std::size_t capacity = old_capacity ? old_capacity * 2 : kFirstCells;
  if (capacity > (std::size_t(1) << 32)) fatal("%s: more than 2^31 blocks", kWhat);
  auto *entries = static_cast<entry *>(side_map(entries_bytes(capacity), kWhat));
  auto *cells = static_cast<cell *>(side_map(round_to_pages(capacity * sizeof(cell)), kWhat));
  if (entries_) {
    std::memcpy(entries, entries_, size_ * sizeof(entry));
    side_unmap(entries_, entries_bytes(old_capacity));
    side_unmap(cells_, round_to_pages(old_capacity * sizeof(cell)));
  }
  entries_ = entries;
  cells_ = cells;
  capacity_ = capacity;
  shift_ = 32u - static_cast<unsigned>(__builtin_ctzll(capacity_));
  const std::size_t mask = capacity_ - 1;
  for (std::size_t i = 0; i < size_; ++i) {
    const std::uint32_t h = hash(entries_[i].block);
    std::size_t c = home(h);
    while (cells_[c].entry) c = (c + 1) & mask;
    cells_[c] = cell{static_cast<std::uint32_t>(i + 1), h};
  }
}

void registry_table::release() noexcept {
  if (entries_) {
    side_unmap(entries_, entries_bytes(capacity_));
    side_unmap(cells_, round_to_pages(capacity_ * sizeof(cell)));
  }
  entries_ = nullptr;
  cells_ = nullptr;
  capacity_ = size_ = 0;
  shift_ = 32;
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
    registry_table &r = heap->registry;
    const std::size_t cell = r.locate(p);
    found = cell != registry_table::npos;
    if (found) {
      found_kind = r.at(cell).kind;
      kind_ok = found_kind == kind;
      if (kind_ok) r.erase_at(cell);
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
