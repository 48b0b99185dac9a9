// Every internal structure of the allocator, with a comment per field (mimalloc's types.h habit).
// Nothing here is part of the public API.
#pragma once

#include <rca/rca.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace rca::detail {

inline constexpr std::size_t kPageSize = 4096;  // one refcount page
inline constexpr std::size_t kLineSize = 64;    // one cache line (padded placement)
inline constexpr std::size_t kBitmapWords = kPageSize / sizeof(std::uint32_t) / 64;  // 16
inline constexpr std::size_t kDefaultArenaLimit = std::size_t(1) << 30;               // 1 GiB
inline constexpr std::size_t kDefaultRetainPages = 1024;  // empty pages kept committed (4 MiB)

struct pool;
struct placement_ops;  // placement/placement.h

// The shared pool's lock. It is held for a few dozen instructions per slot, where a pthread mutex
// cost more than the work it guards (callgrind, shared slots: lock + unlock 53 of ~450
// instructions per alloc+free, taken twice). Test-and-test-and-set; a waiter spins briefly, then
// yields the CPU, so an oversubscribed machine still makes progress (snmalloc's FlagLock idea).
class spin_lock {
 public:
  void lock() noexcept {
    if (!flag_.exchange(true, std::memory_order_acquire)) return;
    lock_contended();
  }
  bool try_lock() noexcept {
    return !flag_.load(std::memory_order_relaxed) && !flag_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  void lock_contended() noexcept;  // lock.cpp
  std::atomic<bool> flag_{false};
};

// ---------------------------------------------------------------------------------------------
// Page descriptors live in their own mapping, outside the refcount pages, so that a refcount page
// holds counts and nothing else: a fork child that writes counts dirties only those pages.
// ---------------------------------------------------------------------------------------------

enum class page_state : std::uint8_t {
  unused,     // never handed out, or back in the arena's empty list
  owned,      // belongs to a pool (page_desc::owner)
  abandoned,  // its thread exited with live slots; waits in the arena for adoption
};

struct page_desc {
  // Slot bits: 1 = free. Written only by the page's owner (or under the arena lock while
  // abandoned); atomics so that other threads may read them for double-free checks.
  std::atomic<std::uint64_t> free_bits[kBitmapWords];
  // Slots freed by threads that do not own the page (thread placement): OR-ed in atomically,
  // collected by the owner (mimalloc's thread-free list, as a bitmap).
  std::atomic<std::uint64_t> remote_bits[kBitmapWords];
  std::atomic<pool *> owner;      // owning pool, or null while unused/abandoned
  pool *list_owner;               // pool whose avail/full list holds it (owner's thread only)
  page_desc *next, *prev;         // links in that list, or in the arena's abandoned list
  std::uint32_t used;             // slots handed out and not yet freed locally
  std::uint16_t capacity;         // slots per page (1024, 512, or 64 when padded)
  std::uint16_t first_free_word;  // where page_take starts looking (words below are normally empty)
  bool in_avail;                  // in the pool's avail list (else full list)
  std::atomic<page_state> state;  // see page_state
};

// A doubly linked list of page descriptors.
struct page_list {
  page_desc *head = nullptr;
  std::size_t count = 0;
  void push_front(page_desc *p) noexcept {
    p->prev = nullptr;
    p->next = head;
    if (head) head->prev = p;
    head = p;
    ++count;
  }
  void remove(page_desc *p) noexcept {
    if (p->prev) p->prev->next = p->next;
    else head = p->next;
    if (p->next) p->next->prev = p->prev;
    p->next = p->prev = nullptr;
    --count;
  }
};

// ---------------------------------------------------------------------------------------------
// The refcount arena: one contiguous reservation per heap, so an index handle is plain arithmetic
// (base + index * slot width) and "is this slot ours" is a range check. Page 0 is a guard page
// (no access): index 0 and null handles can never be followed silently.
// ---------------------------------------------------------------------------------------------

struct arena {
  char *base = nullptr;               // start of the reservation (page 0: guard)
  std::size_t reserved = 0;           // bytes reserved
  std::size_t page_limit = 0;         // pages that may ever be used, guard included
  std::size_t retain = 0;             // empty pages kept committed before decommitting
  page_desc *descs = nullptr;         // one descriptor per page, separate mapping
  std::size_t descs_bytes = 0;        // size of that mapping
  std::mutex lock;                    // guards everything below
  std::size_t next_fresh = 1;         // pages [1, next_fresh) have been committed once
  std::vector<std::uint32_t> empty;   // empty pages ready for reuse (most recent last)
  page_list abandoned;                // pages of exited threads that still hold live slots
  std::size_t pages_in_use = 0;       // pages owned by pools or abandoned
  std::size_t pages_peak = 0;         // high-water mark of pages_in_use
};

// ---------------------------------------------------------------------------------------------
// Event counters (rca_heap_stats). Every thread counts into its own pool's block (see pool),
// which it alone writes: a plain load and store on a line no other thread writes. One block per
// heap, bumped with three locked adds per object allocation and three per free, was a line that
// every thread wrote: it cost every placement alike, dwarfed the differences between them with
// 2 threads, and made the thread placement share a line after all. The heap keeps a block of
// its own for a thread that has no pool (one could not be made), updated with atomic adds.
// ---------------------------------------------------------------------------------------------

struct alignas(64) heap_counters {
  std::atomic<std::uint64_t> objects_allocated{0}, objects_freed{0};
  std::atomic<std::uint64_t> slots_allocated{0}, slots_freed{0};
  std::atomic<std::int64_t> object_bytes{0};
};

// ---------------------------------------------------------------------------------------------
// Pools: what one thread keeps for one heap. Every placement gives each thread a pool for its
// counters; `thread` also takes its slots from it. `shared` and `padded` take slots from the
// heap's one shared_pool (locked: threads' slots interleave on the same pages). Pools live in
// the heap's pool_memory, whole cache lines apart from objects and from each other, and are
// recycled when their thread exits (their counts stay in the sums).
// ---------------------------------------------------------------------------------------------

struct pool {
  page_list avail;                        // pages with at least one free slot
  page_list full;                         // pages with none
  std::atomic<std::uint64_t> remote_pending{0};  // remote frees since the last collection
  bool active = false;                    // a live thread uses it
  std::uint64_t thread_tag = 0;           // which thread (for fork handling)
  heap_counters counters;                 // written by the pool's thread only
};

// The heap's registry of live objects and raw blocks (track_objects): used to freeze inline
// and embedded heaps, and to verify every free when checks are on.
enum class block_kind : std::uint8_t { object, raw };
struct registry_entry {
  block_kind kind;
  std::uint64_t saved_count;  // count kept aside by freeze (0: none)
};

// Memory for rca's own bookkeeping (the registry's nodes and bucket arrays), mapped apart from
// the object memory: with the system backend, nodes taken from malloc would sit between the
// objects, so turning tracking on would change how many object pages a population spans (and
// which pages a fork child dirties when it frees). Small requests come from 64 KiB chunks with a
// free list per 16-byte size class; large ones get a mapping each. Not thread-safe: its one user
// holds registry_lock.
class side_memory {
 public:
  side_memory() = default;
  side_memory(const side_memory &) = delete;
  side_memory &operator=(const side_memory &) = delete;
  ~side_memory();
  /// `bytes` of zero-or-reused memory, 16-byte aligned; aborts with a message when the OS refuses
  /// (the registry's callers cannot report an error).
  void *allocate(std::size_t bytes) noexcept;
  void deallocate(void *p, std::size_t bytes) noexcept;

 private:
  static constexpr std::size_t kGrain = 16;
  static constexpr std::size_t kSmallMax = 512;
  static constexpr std::size_t kChunkBytes = std::size_t(64) << 10;
  struct free_block {
    free_block *next;
  };
  struct chunk {  // at the start of each chunk mapping
    chunk *next;
  };
  free_block *free_[kSmallMax / kGrain] = {};
  char *bump_ = nullptr;      // unused tail of the newest chunk
  char *bump_end_ = nullptr;
  chunk *chunks_ = nullptr;   // every chunk, released by the destructor
};

// Whole cache lines of rca's own memory, freed all at once with their owner (the heap's pools:
// never freed one by one, they are recycled). 64 KiB mappings, like side_memory's chunks.
class line_slab {
 public:
  line_slab() = default;
  line_slab(const line_slab &) = delete;
  line_slab &operator=(const line_slab &) = delete;
  ~line_slab();
  /// `bytes` rounded up to whole 64-byte lines, line-aligned and zeroed, or null when the OS
  /// refuses (errno set).
  void *allocate(std::size_t bytes) noexcept;

 private:
  static constexpr std::size_t kChunkBytes = std::size_t(64) << 10;
  struct chunk {  // the first line of each chunk mapping
    chunk *next;
    std::size_t bytes;
  };
  char *bump_ = nullptr;      // unused tail of the newest chunk
  char *bump_end_ = nullptr;
  chunk *chunks_ = nullptr;   // every chunk, released by the destructor
};

/// A standard allocator over one side_memory (for the registry's unordered_map).
template <class T>
struct side_allocator {
  using value_type = T;
  side_memory *memory;
  explicit side_allocator(side_memory *m) noexcept : memory(m) {}
  template <class U>
  side_allocator(const side_allocator<U> &o) noexcept : memory(o.memory) {}
  T *allocate(std::size_t n) { return static_cast<T *>(memory->allocate(n * sizeof(T))); }
  void deallocate(T *p, std::size_t n) noexcept { memory->deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const side_allocator<U> &o) const noexcept { return memory == o.memory; }
};

using registry_map =
    std::unordered_map<void *, registry_entry, std::hash<void *>, std::equal_to<void *>,
                       side_allocator<std::pair<void *const, registry_entry>>>;

struct backend_ops {
  void *(*malloc)(std::size_t);
  void (*free)(void *);
  void *(*realloc)(void *, std::size_t);
  std::size_t (*usable_size)(const void *);
};

}  // namespace rca::detail

// The public opaque type.
struct rca_heap_s {
  rca_config_t config;                    // as resolved at creation
  const rca::detail::placement_ops *placement;  // config.placement's operations
  std::uint64_t id;                       // unique for the process's lifetime
  unsigned slot_bytes;                    // 4 or 8
  unsigned slot_stride;                   // bytes between slots: slot_bytes, or 64 when padded
  unsigned slot_shift;                    // log2(slot_stride): offsets to slot numbers without a divide
  std::size_t header_size;                // bytes of each object that belong to rca
  bool tracking;                          // registry of live objects on
  rca::detail::backend_ops backend;       // object memory
  rca::detail::arena arena;               // refcount pages
  rca::detail::spin_lock pool_lock;       // guards shared_pool, pools, free_pools, pool_memory
  rca::detail::pool shared_pool;          // shared and padded placements
  rca::detail::line_slab pool_memory;     // where the thread pools live
  std::vector<rca::detail::pool *> pools; // every thread pool ever made (reused, never freed early)
  std::vector<rca::detail::pool *> free_pools;  // pools of exited threads, ready for reuse
  std::mutex registry_lock;               // guards registry and registry_memory
  rca::detail::side_memory registry_memory;  // the registry's nodes, apart from objects
  rca::detail::registry_map registry{
      0, std::hash<void *>(), std::equal_to<void *>(),
      rca::detail::side_allocator<std::pair<void *const, rca::detail::registry_entry>>(
          &registry_memory)};
  void *saved_counts = nullptr;           // freeze: counts kept aside, indexed like the slots
  std::size_t saved_bytes = 0;            // size of that mapping
  rca::detail::heap_counters counters;    // for threads without a pool (atomic adds)
};
