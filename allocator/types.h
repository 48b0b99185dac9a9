// Every internal structure of the allocator, with a comment per field (mimalloc's types.h habit).
// Nothing here is part of the public API.
#pragma once

#include <rca/computed.h>
#include <rca/rca.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <vector>

namespace rca::detail {

inline constexpr std::size_t kPageSize = 4096;  // one refcount page
inline constexpr std::size_t kLineSize = 64;    // one cache line (padded placement)
inline constexpr std::size_t kBitmapWords = kPageSize / sizeof(std::uint32_t) / 64;  // 16
inline constexpr std::size_t kDefaultArenaLimit = std::size_t(1) << 30;              // 1 GiB
inline constexpr std::size_t kDefaultRetainPages = 1024;  // empty pages kept committed (4 MiB)
inline constexpr std::size_t kDefaultObjectLimit = std::size_t(16) << 30;  // backend rca

struct pool;
struct placement_ops;  // placement/placement.h

// rca_heap_s::magic. A destroyed heap's structure stays mapped for a while, marked dead (see
// heap.cpp, bury_heap), so that a stale pointer's use aborts with a message.
inline constexpr std::uint64_t kHeapMagic = 0x7061'6568'5f61'6372;      // "rca_heap"
inline constexpr std::uint64_t kDeadHeapMagic = 0x6461'6564'5f61'6372;  // "rca_dead"
// rca_heap_s::id of rca malloc's process heap (allocator/malloc/): never one of rca_heap_new's,
// which count up from 1.
inline constexpr std::uint64_t kMallocHeapId = ~std::uint64_t(0);

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
    return !flag_.load(std::memory_order_relaxed) &&
           !flag_.exchange(true, std::memory_order_acquire);
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
  char *base = nullptr;         // start of the reservation (page 0: guard)
  std::size_t reserved = 0;     // bytes reserved
  std::size_t page_limit = 0;   // pages that may ever be used, guard included
  std::size_t retain = 0;       // empty pages kept committed before decommitting
  page_desc *descs = nullptr;   // one descriptor per page, separate mapping
  std::size_t descs_bytes = 0;  // size of that mapping
  // Per slot position, a tag of the object that holds it (0: none, a bare slot or a free one),
  // in its own lazily faulted mapping, written at object alloc and free only. rca_obj_free
  // compares it before releasing a slot: a double free whose slot went to another object, or an
  // object of another index heap whose index names a live slot here, is caught with checks off.
  std::atomic<std::uint32_t> *object_tags = nullptr;
  std::size_t object_tags_bytes = 0;
  std::mutex lock;                   // guards everything below
  std::size_t next_fresh = 1;        // pages [1, next_fresh) have been committed once
  std::vector<std::uint32_t> empty;  // empty pages ready for reuse (most recent last)
  page_list abandoned;               // pages of exited threads that still hold live slots
  std::size_t pages_in_use = 0;      // pages owned by pools or abandoned
  std::size_t pages_peak = 0;        // high-water mark of pages_in_use
};

// ---------------------------------------------------------------------------------------------
// rca's own object allocator (spans.cpp): the object memory of computed heaps and of backend
// `rca`. One reservation per heap, carved into 64 KiB units; a span is one unit (small size
// classes) or several (one large block). Beside it, a reservation of counts laid out like the
// objects (one count per 16-byte granule), so each span's counts lie together in refcount pages
// outside the span. Mutable span state lives in descriptors in a third mapping: an object page
// holds objects, free-list links of free blocks, and the span's read-only header.
// ---------------------------------------------------------------------------------------------

inline constexpr std::size_t kSpanShift = RCA_SPAN_SHIFT;
inline constexpr std::size_t kSpanBytes = RCA_SPAN_BYTES;
inline constexpr std::size_t kGranule = std::size_t(1) << RCA_GRANULE_SHIFT;
inline constexpr std::size_t kSmallBlockMax = 8192;    // larger blocks get a span of their own
inline constexpr unsigned kSizeClasses = 32;           // 16..128 by 16, then 4 per doubling
inline constexpr unsigned kLargeClass = kSizeClasses;  // spans of one large block
inline constexpr std::size_t kCommitUnits = 32;        // fresh units committed at a time (2 MiB)

// A free block's first word: the next free block of its span.
struct free_block_link {
  free_block_link *next;
};

enum class span_state : std::uint8_t {
  unused,     // free unit (or never used)
  owned,      // first unit of a span owned by a thread's span cache
  abandoned,  // its thread exited with live blocks; waits in the region for adoption
  tail,       // a later unit of a multi-unit span (first unit: `head` says where)
  spare,      // an emptied one-unit span its cache keeps for its next span (span_cache::spare)
};

struct span_cache;

// One cache line of what the owner's malloc and free read and write, then one of the rest: a
// descriptor never shares a line with another span's (the spans beside it in the region may be
// other threads', and each one's frees write here), and the hot paths touch one line.
struct alignas(64) span_desc {
  free_block_link *local_free;                 // freed by the owner, ready for reuse
  std::atomic<free_block_link *> thread_free;  // freed by other threads (pushed atomically)
  char *first;                                 // block 0
  std::atomic<span_cache *> owner;             // null while unused or abandoned
  std::atomic<std::uint32_t> bump;             // blocks [0, bump) have been handed out once
  std::uint32_t used;                          // blocks live, as far as the owner knows
  std::uint32_t capacity;                      // blocks in the span
  std::uint32_t block_size;                    // bytes per block
  std::uint32_t reciprocal;                    // ceil(2^32 / block_size)
  std::uint8_t size_class;                     // kLargeClass for large spans
  bool in_full;                                // in the cache's full list (owner only)
  std::atomic<bool> full_flag;                 // same, for remote freers (see span_free)
  std::atomic<span_state> state;
  // ---- second line
  char *counts;         // block 0's count in span layout (window start)
  std::uint32_t units;  // 64 KiB units the span covers
  std::uint32_t head;   // tail units: index of the span's first unit
  bool committed_free;  // first unit of a free run: the run's memory is still committed
  bool zeroed;          // large span whose memory has never been written (calloc skips the memset)
  span_desc *next, *prev;  // owner's list, or the region's abandoned list
};
static_assert(sizeof(span_desc) == 128);

struct span_list {
  span_desc *head = nullptr;
  std::size_t count = 0;
  void push_front(span_desc *s) noexcept {
    s->prev = nullptr;
    s->next = head;
    if (head) head->prev = s;
    head = s;
    ++count;
  }
  /// Behind the head (or as the head of an empty list): the head stays the one in use.
  void push_second(span_desc *s) noexcept {
    if (!head) return push_front(s);
    s->prev = head;
    s->next = head->next;
    if (head->next) head->next->prev = s;
    head->next = s;
    ++count;
  }
  void remove(span_desc *s) noexcept {
    if (s->prev) s->prev->next = s->next;
    else head = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = nullptr;
    --count;
  }
};

// What one thread keeps of a heap's spans (in its pool), or the heap's locked fallback for a
// thread without a pool.
struct span_cache {
  span_list avail[kSizeClasses + 1];  // spans with a free or never-used block (+ large: unused)
  span_list full[kSizeClasses + 1];   // spans with none, and large spans in use
  // Classes (bit cls; kLargeClass's too) whose full spans got a free by another thread since
  // their owner last swept them: one bit each, so that sweeping one class forgets no other's.
  std::atomic<std::uint64_t> remote_pending{0};
  // Emptied one-unit spans kept for the next span of any class (region.spare_limit at most):
  // a thread that frees and allocates blocks of 8-64 KiB in turn, one span each, or empties and
  // refills a class, then takes neither the region lock nor a page fault.
  span_list spare;
};

// Bins of free unit runs by length: one per length up to 8 units, then four per doubling.
inline constexpr unsigned kRunBins = 124;

struct span_region {
  void *reservation = nullptr;  // the object reservation as mapped (base aligns inside it)
  std::size_t reservation_bytes = 0;
  char *base = nullptr;         // object units (64 KiB-aligned)
  std::size_t units_limit = 0;  // units reserved
  // The span header's bytes before block 0: RCA_SPAN_HEADER_BYTES where counts are found through
  // it (the `span` address function), 0 for rca malloc, whose spans then start their blocks on
  // the unit's 64 KiB boundary (so a power-of-two request is aligned to its size for free).
  std::uint32_t header_bytes = RCA_SPAN_HEADER_BYTES;
  // Blocks have a count (or, for raw blocks, a marker) in the count windows. Off for rca malloc
  // without checks: no window is reserved and no count store is paid on the hot path.
  bool counted = true;
  // Empty one-unit spans each cache may keep (span_cache::spare); 0 for rca_heap_new's heaps.
  std::uint32_t spare_limit = 0;
  char *counts = nullptr;  // count windows: unit u's at counts + u * window_bytes
  std::size_t counts_reserved = 0;
  std::size_t window_bytes = 0;     // (kSpanBytes / kGranule) * slot_width
  std::uintptr_t granule_bias = 0;  // count = bias + (obj >> 4) * slot_width
  span_desc *descs = nullptr;       // one per unit, separate mapping
  std::size_t descs_bytes = 0;
  unsigned slot_width = 4;  // count width (also the free marker's width)
  bool granule = false;     // counts by granule (else by span index)
  // Free units kept committed: at least retain_units, and up to retain_percent of the units in
  // use while units in use and kept stay within retain_above_peak percent past the peak in use
  // (spans.cpp, retain_limit).
  std::size_t retain_units = 0;
  unsigned retain_percent = 0;
  unsigned retain_above_peak = 0;
  std::mutex lock;                  // guards everything below
  std::size_t next_fresh = 0;       // units [0, next_fresh) have been handed out once
  std::size_t committed_units = 0;  // units [0, committed_units) have been committed
  // Free runs of units, linked through their (unused) descriptors, not in vectors: rca malloc
  // runs this code as the process's malloc, so nothing here may allocate. A run's first
  // descriptor holds its length in `units` and `committed_free`; its last one holds the first's
  // index in `head`. Binned by length, committed runs apart from decommitted ones; neighbours of
  // the same kind are merged when a span is freed (spans.cpp).
  span_list free_runs[2][kRunBins];  // [committed][run_bin(length)], most recent first
  span_list abandoned[kSizeClasses + 1];
  std::size_t units_in_use = 0, units_peak = 0, spans_in_use = 0;
  std::size_t count_pages_in_use = 0;  // refcount pages of live spans' counts (all blocks')
  std::size_t count_pages_peak = 0;
  std::size_t committed_free_units = 0;  // free units whose memory is still committed
};

// ---------------------------------------------------------------------------------------------
// Event counters (rca_heap_stats). Every thread counts into its own pool's block (see pool),
// which it alone writes: a plain load and store on a line no other thread writes. One block per
// heap, bumped with three locked adds per object allocation and three per free, was a line that
// every thread wrote: it cost every placement alike, dwarfed the differences between them with
// 2 threads, and made the thread placement share a line after all. The heap keeps a block of
// its own for a thread that has no pool (one could not be made), updated with atomic adds.
// ---------------------------------------------------------------------------------------------

// CMake's RCA_STATS=OFF compiles them out (mimalloc's MI_STAT): the blocks are empty, counting is
// no code, and rca_heap_stats reports what it would have derived from them as unavailable. That
// build exists to measure what counting costs (docs/DESIGN.md).
#ifndef RCA_STATS
#define RCA_STATS 1
#endif
inline constexpr bool kCountEvents = RCA_STATS != 0;

struct alignas(64) heap_counters {
  std::atomic<std::uint64_t> objects_allocated{0}, objects_freed{0};
  std::atomic<std::uint64_t> slots_allocated{0}, slots_freed{0};
  std::atomic<std::int64_t> object_bytes{0};
};
struct no_counters {};
using event_counters = std::conditional_t<kCountEvents, heap_counters, no_counters>;

// ---------------------------------------------------------------------------------------------
// Pools: what one thread keeps for one heap. Every placement gives each thread a pool for its
// counters; `thread` also takes its slots from it. `shared` and `padded` take slots from the
// heap's one shared_pool (locked: threads' slots interleave on the same pages). Pools live in
// the heap's pool_memory, whole cache lines apart from objects and from each other, and are
// recycled when their thread exits (their counts stay in the sums).
// ---------------------------------------------------------------------------------------------

struct pool {
  page_list avail;                                // pages with at least one free slot
  page_list full;                                 // pages with none
  std::atomic<std::uint64_t> remote_pending{0};   // remote frees since the last collection
  bool active = false;                            // a live thread uses it
  std::uint64_t thread_tag = 0;                   // which thread (for fork handling)
  [[no_unique_address]] event_counters counters;  // written by the pool's thread only
  span_cache spans;  // this thread's spans (computed placement, backend rca)
};

// The heap's registry of live objects and raw blocks (track_objects): used to freeze inline
// and embedded heaps, and to verify every free when checks are on.
// Embedded heaps' bare slots are registered too (track_objects): a slot inside the caller's
// memory has no page descriptor, so the registry is what tells a live one from garbage.
enum class block_kind : std::uint8_t { object, raw, slot };

// The registry's table: the entries in a dense array (so that freeze, thaw and teardown walk
// only the live ones: a long-lived heap's table stays as large as its peak), found through an
// open-addressing index of their positions and hashes (linear probing, deletion by backward
// shift, no tombstones; doubled at half full; with the hash in the cell, probing and shifting
// read no entry until one matches). A removed entry's place is taken by the last one. Both
// arrays are mappings of their own, apart from the object memory: with the system backend, a
// table from malloc would sit between the objects, so turning tracking on would change how many
// object pages a population spans (and which pages a fork child dirties when it frees). A
// node-based map cost an allocation per insert and a pointer chase per lookup. Not thread-safe:
// its user holds registry_lock. Aborts with a message when the OS refuses memory (the registry's
// callers cannot report an error).
class registry_table {
 public:
  struct entry {
    void *block;
    std::uint64_t saved_count;  // count kept aside by freeze (0: none)
    block_kind kind;
  };
  registry_table() = default;
  registry_table(const registry_table &) = delete;
  registry_table &operator=(const registry_table &) = delete;
  ~registry_table() { release(); }
  static constexpr std::size_t npos = ~std::size_t(0);
  /// The index cell of `block`'s entry, or npos.
  std::size_t locate(const void *block) const noexcept;
  /// The entry of a cell that locate returned; valid until the next insert or erase.
  entry &at(std::size_t cell) noexcept { return entries_[cells_[cell].entry - 1]; }
  /// The entry of `block`, or null; valid until the next insert or erase.
  entry *find(const void *block) noexcept {
    const std::size_t c = locate(block);
    return c == npos ? nullptr : &at(c);
  }
  /// Registers `block` as `kind` with no saved count (its entry reset if it had one).
  void insert(void *block, block_kind kind) noexcept;
  /// Removes the entry of a cell that locate returned.
  void erase_at(std::size_t cell) noexcept;
  /// f(entry &) for each entry, in no particular order; f may change saved_count only.
  template <class F>
  void for_each(F &&f) noexcept {
    for (std::size_t i = 0; i < size_; ++i) f(entries_[i]);
  }
  /// Empty, with its memory given back.
  void release() noexcept;
  std::size_t size() const noexcept { return size_; }

 private:
  struct cell {
    std::uint32_t entry;  // 0: empty, else 1 + the entry's position
    std::uint32_t hash;   // the entry's hash(): its home cell without reading the entry
  };
  static std::uint32_t hash(const void *block) noexcept {  // Fibonacci hashing: the top bits
    return static_cast<std::uint32_t>(
        (reinterpret_cast<std::uintptr_t>(block) * 0x9e3779b97f4a7c15ull) >> 32);
  }
  std::size_t home(std::uint32_t h) const noexcept { return h >> shift_; }
  // The index cell that holds entry i (which must be live).
  std::size_t cell_of(std::size_t i) const noexcept;
  void grow() noexcept;
  entry *entries_ = nullptr;  // size_ live entries, room for capacity_ / 2
  cell *cells_ = nullptr;
  std::size_t capacity_ = 0;  // cells: a power of two (at most 2^32), or 0 before the first insert
  std::size_t size_ = 0;
  unsigned shift_ = 32;  // 32 - log2(capacity_)
};

// 64 KiB mappings of rca's own memory, carved front to back and released all together by the
// destructor: the chunk allocator under line_slab. The first `header` bytes of each chunk link it
// into the list the destructor walks (the header keeps what follows aligned as the user needs: a
// line for line_slab's).
class chunk_bump {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t(64) << 10;
  explicit constexpr chunk_bump(std::size_t header) noexcept : header_(header) {}
  chunk_bump(const chunk_bump &) = delete;
  chunk_bump &operator=(const chunk_bump &) = delete;
  ~chunk_bump();
  /// `size` bytes (a multiple of the header, at most kChunkBytes - header) of a fresh mapping,
  /// zero, or null when the OS refuses (errno set). The tail of a chunk too short for `size` is
  /// given up.
  void *allocate(std::size_t size) noexcept;

 private:
  struct chunk {
    chunk *next;
  };
  std::size_t header_;
  char *bump_ = nullptr;  // unused tail of the newest chunk
  char *bump_end_ = nullptr;
  chunk *chunks_ = nullptr;  // every chunk, released by the destructor
};

// Whole cache lines of rca's own memory, freed all at once with their owner (the heap's pools:
// never freed one by one, they are recycled).
class line_slab {
 public:
  /// `bytes` rounded up to whole 64-byte lines, line-aligned and zeroed, or null when the OS
  /// refuses or `bytes` does not fit in a chunk (errno set).
  void *allocate(std::size_t bytes) noexcept;

 private:
  chunk_bump chunks_{kLineSize};
};

// Side bitmaps (rca_side_bits, side_bits.cpp): `planes` bitmaps of one bit per slot position,
// in one mapping apart from objects and refcount pages, made on the first request and released
// with the heap. A VM keeps there the collector flags it changes on every object during a
// collection, so that a forked worker that collects writes these pages and not its objects'.
struct side_bitmaps {
  side_bitmaps() = default;
  side_bitmaps(const side_bitmaps &) = delete;
  side_bitmaps &operator=(const side_bitmaps &) = delete;
  ~side_bitmaps();
  void *base = nullptr;         // plane p starts at base + p * plane_bytes
  std::size_t bytes = 0;        // size of the mapping
  std::size_t plane_bytes = 0;  // one plane, whole OS pages
  unsigned planes = 0;          // 0: not made
};

struct backend_ops {
  void *(*malloc)(std::size_t);
  void (*free)(void *);
  void *(*realloc)(void *, std::size_t);
  std::size_t (*usable_size)(const void *);
};

}  // namespace rca::detail

// The public opaque type.
struct rca_heap_s {
  std::uint64_t magic;  // kHeapMagic while live, kDeadHeapMagic once destroyed
  rca_config_t config;  // as resolved at creation
  const rca::detail::placement_ops *placement;  // config.placement's operations
  std::uint64_t id;                             // unique for the process's lifetime
  unsigned slot_width;                          // bytes of one slot: 4 or 8 (slot_bits / 8)
  unsigned slot_stride;              // bytes between slots: slot_width, or 64 when padded
  unsigned slot_shift;               // log2(slot_stride): offsets to slot numbers without a divide
  std::size_t header_size;           // bytes of each object that belong to rca
  bool tracking;                     // registry of live objects on
  rca::detail::backend_ops backend;  // object memory
  rca::detail::arena arena;          // refcount pages
  rca::detail::spin_lock pool_lock;  // guards shared_pool, pools, free_pools, pool_memory
  rca::detail::pool shared_pool;     // shared and padded placements
  rca::detail::line_slab pool_memory;  // where the thread pools live
  std::vector<rca::detail::pool *>
      pools;  // every thread pool ever made (reused, never freed early)
  std::vector<rca::detail::pool *> free_pools;  // pools of exited threads, ready for reuse
  std::mutex registry_lock;                     // guards registry
  rca::detail::registry_table registry;         // live blocks (tracking), apart from objects
  void *saved_counts = nullptr;                 // freeze: counts kept aside, indexed like the slots
  std::size_t saved_bytes = 0;                  // size of that mapping
  // For threads without a pool (atomic adds).
  [[no_unique_address]] rca::detail::event_counters counters;
  bool has_spans = false;                // object memory from rca's span allocator
  bool counts_in_spans = false;          // computed: counts in the spans' count windows
  rca::detail::span_region spans;        // that allocator's memory
  rca::detail::span_cache shared_spans;  // for threads without a pool (under pool_lock)
  rca::detail::side_bitmaps side_bits;   // rca_side_bits: collector flags out of the objects
};
