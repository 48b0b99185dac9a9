// Huge blocks: those of kHugeMin bytes and more, larger ones when the span region is exhausted,
// and alignments above a span unit. Each is a mapping of its own, found again through an
// open-addressed table (in a mapping too: nothing here may call malloc) so that free can tell a
// huge block from a foreign pointer without reading memory in front of either.
#include "malloc.h"
#include "../prim/prim.h"

#include <cerrno>

namespace rca::detail::malloc_layer {
namespace {

struct entry {
  std::uintptr_t block;  // 0: empty; kTombstone: deleted
  std::size_t bytes;     // the block's usable bytes (its mapping, less the alignment slack)
  void *mapping;         // what prim::release gets back
  std::size_t mapping_bytes;
};
constexpr std::uintptr_t kTombstone = 1;

spin_lock g_lock;
entry *g_table = nullptr;
std::size_t g_capacity = 0;  // a power of two
std::size_t g_used = 0;      // live entries and tombstones
huge_totals g_totals = {0, 0, 0, 0};

std::size_t slot_of(std::uintptr_t block) noexcept {
  return static_cast<std::size_t>((block >> 12) * 0x9E3779B97F4A7C15ull) & (g_capacity - 1);
}

entry *find_locked(std::uintptr_t block) noexcept {
  if (!g_table) return nullptr;
  for (std::size_t i = slot_of(block);; i = (i + 1) & (g_capacity - 1)) {
    if (g_table[i].block == block) return &g_table[i];
    if (g_table[i].block == 0) return nullptr;
  }
}

// Room for one more entry: past half full (tombstones included) the live entries move to a new
// table, twice as large when they fill more than a quarter of this one.
bool reserve_locked() noexcept {
  if ((g_used + 1) * 2 <= g_capacity) return true;
  const std::size_t capacity = !g_capacity                              ? 1024
                               : (g_totals.blocks + 1) * 4 > g_capacity ? g_capacity * 2
                                                                        : g_capacity;
  void *mem = nullptr;
  const std::size_t bytes = capacity * sizeof(entry);
  if (prim::reserve(bytes, &mem) || prim::commit(mem, bytes)) {
    if (mem) prim::release(mem, bytes);
    return false;
  }
  entry *old = g_table;
  const std::size_t old_capacity = g_capacity;
  g_table = static_cast<entry *>(mem);
  g_capacity = capacity;
  g_used = 0;
  for (std::size_t i = 0; i < old_capacity; ++i)
    if (old[i].block > kTombstone) {
      std::size_t j = slot_of(old[i].block);
      while (g_table[j].block != 0) j = (j + 1) & (g_capacity - 1);
      g_table[j] = old[i];
      ++g_used;
    }
  if (old) prim::release(old, old_capacity * sizeof(entry));
  return true;
}

void insert_locked(const entry &e) noexcept {
  std::size_t i = slot_of(e.block);
  while (g_table[i].block > kTombstone) i = (i + 1) & (g_capacity - 1);
  if (g_table[i].block == 0) ++g_used;
  g_table[i] = e;
}

void account_locked(std::ptrdiff_t blocks, std::ptrdiff_t bytes) noexcept {
  g_totals.blocks += static_cast<std::size_t>(blocks);
  g_totals.bytes += static_cast<std::size_t>(bytes);
  if (g_totals.bytes > g_totals.peak_bytes) g_totals.peak_bytes = g_totals.bytes;
  if (blocks > 0) ++g_totals.made;
}

constexpr std::size_t kPage = 4096;

}  // namespace

void *huge_alloc(std::size_t size, std::size_t alignment) noexcept {
  if (alignment < kPage) alignment = kPage;
  if (size > SIZE_MAX / 2 - alignment) return nullptr;
  const std::size_t bytes = (size + kPage - 1) & ~(kPage - 1);
  const std::size_t mapping_bytes = bytes + (alignment > kPage ? alignment : 0);
  void *mapping = nullptr;
  if (prim::reserve(mapping_bytes, &mapping) || prim::commit(mapping, mapping_bytes)) {
    if (mapping) prim::release(mapping, mapping_bytes);
    return nullptr;
  }
  const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(mapping);
  const std::uintptr_t block = (start + alignment - 1) & ~(alignment - 1);
  std::lock_guard<spin_lock> g(g_lock);
  if (!reserve_locked()) {
    prim::release(mapping, mapping_bytes);
    return nullptr;
  }
  insert_locked({block, bytes, mapping, mapping_bytes});
  account_locked(1, static_cast<std::ptrdiff_t>(bytes));
  return reinterpret_cast<void *>(block);
}

std::size_t huge_size(const void *p) noexcept {
  std::lock_guard<spin_lock> g(g_lock);
  const entry *e = find_locked(reinterpret_cast<std::uintptr_t>(p));
  return e ? e->bytes : 0;
}

bool huge_free(void *p) noexcept {
  entry gone;
  {
    std::lock_guard<spin_lock> g(g_lock);
    entry *e = find_locked(reinterpret_cast<std::uintptr_t>(p));
    if (!e) return false;
    gone = *e;
    e->block = kTombstone;
    account_locked(-1, -static_cast<std::ptrdiff_t>(gone.bytes));
  }
  prim::release(gone.mapping, gone.mapping_bytes);
  return true;
}

void *huge_realloc(void *p, std::size_t size) noexcept {
  const std::size_t bytes = (size + kPage - 1) & ~(kPage - 1);
  std::lock_guard<spin_lock> g(g_lock);
  entry *e = find_locked(reinterpret_cast<std::uintptr_t>(p));
  if (!e) return nullptr;
  if (e->mapping != p) {
    // An over-aligned block keeps its slack; mremap would move it to any page.
    if (bytes <= e->bytes) return p;
    errno = ENOMEM;
    return nullptr;
  }
  void *q = nullptr;
  if (prim::remap(e->mapping, e->mapping_bytes, bytes, &q)) {
    errno = ENOMEM;
    return nullptr;
  }
  entry moved = {reinterpret_cast<std::uintptr_t>(q), bytes, q, bytes};
  account_locked(0, static_cast<std::ptrdiff_t>(bytes) - static_cast<std::ptrdiff_t>(e->bytes));
  e->block = kTombstone;
  insert_locked(moved);
  return q;
}

huge_totals huge_stats() noexcept {
  std::lock_guard<spin_lock> g(g_lock);
  return g_totals;
}

void huge_fork_prepare() noexcept { g_lock.lock(); }
void huge_fork_release() noexcept { g_lock.unlock(); }

}  // namespace rca::detail::malloc_layer
