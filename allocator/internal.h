// Cross-file functions of the allocator (mimalloc's internal.h habit). Hidden from the shared
// library's symbol table by the visibility preset.
#pragma once

#include "types.h"

#include <cstdarg>

namespace rca::detail {

// ---- error.cpp ------------------------------------------------------------------------------
/// Prints "rca: <message>" to stderr and aborts: misuse that would corrupt memory. Every caller
/// holds no lock and has changed nothing yet, so that a white-box test may set fatal_hook.
[[noreturn, gnu::format(printf, 1, 2)]] void fatal(const char *fmt, ...) noexcept;
/// Called by fatal() with the message (no "rca: ", no newline) instead of printing it, when set.
/// For the fuzzer, which does misuse on purpose and longjmps back out of the hook; a hook that
/// returns gets the abort. Never set by the library.
extern void (*fatal_hook)(const char *message) noexcept;
/// Aborts: `heap` is not a live heap (destroyed, or never one); `what` names the operation.
[[noreturn]] void not_a_heap(const rca_heap_t *heap, const char *what) noexcept;
/// Every public entry point that takes a heap starts here.
inline void check_heap(const rca_heap_t *heap, const char *what) noexcept;
/// Records a non-fatal error for rca_last_error() and sets errno.
[[gnu::format(printf, 2, 3)]] void set_error(int err, const char *fmt, ...) noexcept;
/// "heap #3 (shared, index, 32-bit, system)" for messages.
const char *describe(const rca_heap_t *heap, char *buf, std::size_t size) noexcept;

// ---- options.cpp ----------------------------------------------------------------------------
/// Fills unset fields (-1) and checks the combination. 0, or an errno with set_error.
int resolve_config(rca_config_t *cfg) noexcept;
/// The option parsers behind rca_config_set and rca_config_from_env (also rca malloc's, which
/// reads its few options itself): 0, or -1 with set_error naming option `name`.
int parse_bool(const char *name, const char *value, int *out) noexcept;
int parse_size(const char *name, const char *value, std::size_t *out) noexcept;

// ---- arena.cpp ------------------------------------------------------------------------------
/// The largest arena_limit: a 32-bit index reaches 2^32 slots, page 0 (the guard) among them.
inline constexpr std::size_t max_arena_limit(unsigned slot_width) noexcept {
  return (std::size_t(1) << 32) * slot_width - kPageSize;
}
int arena_init(arena &a, std::size_t limit_bytes, std::size_t retain_pages, unsigned slot_width,
               unsigned slot_stride) noexcept;
void arena_destroy(arena &a) noexcept;
/// An empty, committed page with its descriptor reset (capacity slots, all free), or null.
page_desc *arena_take_page(rca_heap_t *heap) noexcept;
/// Gives an empty page back (arena lock must NOT be held / must be held).
void arena_return_page(rca_heap_t *heap, page_desc *page) noexcept;
void arena_return_page_locked(rca_heap_t *heap, page_desc *page) noexcept;
inline std::size_t page_index(const arena &a, const page_desc *p) noexcept {
  return static_cast<std::size_t>(p - a.descs);
}
inline char *page_address(const arena &a, const page_desc *p) noexcept {
  return a.base + page_index(a, p) * kPageSize;
}
/// Descriptor of the page holding `addr`, or null when addr is outside the arena (inline: every
/// slot free asks).
inline page_desc *arena_page_of(const arena &a, const void *addr) noexcept {
  const char *p = static_cast<const char *>(addr);
  if (p < a.base + kPageSize || p >= a.base + a.reserved) return nullptr;
  return &a.descs[static_cast<std::size_t>(p - a.base) / kPageSize];
}

// ---- slots.cpp ------------------------------------------------------------------------------
/// A slot set to count 1, or null (errno = ENOMEM) when the arena is exhausted. `mine` is the
/// calling thread's pool (thread_pool(heap); null if it has none, which the thread placement
/// reports as ENOMEM).
void *slot_alloc(rca_heap_t *heap, pool *mine) noexcept;
/// Frees the slot at `slot`, checked before anything changes: aborts naming `what` on a slot
/// outside the arena, a free one, or one whose object tag is not obj's (obj: the object whose
/// header named the slot; null for a bare slot, whose tag must be 0). `mine` as for slot_alloc.
void slot_free_checked(rca_heap_t *heap, void *slot, const char *what, pool *mine,
                       const void *obj) noexcept;
/// A bare slot (rca_slot_free): refused when an object holds it.
inline void slot_free_bare(rca_heap_t *heap, void *slot, const char *what, pool *mine) noexcept {
  slot_free_checked(heap, slot, what, mine, nullptr);
}
/// An object's slot (rca_obj_free of an arena placement): it must be live and tagged with obj.
/// With checks off (no registry) this is what catches a double free whose slot went to another
/// object, and an object of another index heap.
inline void slot_free_object(rca_heap_t *heap, void *obj, void *slot, const char *what,
                             pool *mine) noexcept {
  slot_free_checked(heap, slot, what, mine, obj);
}
/// How a placement's handles name arena slots: handle = (address - origin) >> shift. Pointer
/// handles: {0, 0}; index handles: {arena base, log2 of the slot width}.
struct handle_code {
  std::uintptr_t origin;
  unsigned shift;
  rca_handle_t handle(const void *slot) const noexcept {
    return (reinterpret_cast<std::uintptr_t>(slot) - origin) >> shift;
  }
  void *slot(rca_handle_t h) const noexcept {
    return reinterpret_cast<void *>(origin + (std::uintptr_t(h) << shift));
  }
};
/// Up to n slots set to count 1, their handles in out[0..n): the slots n slot_alloc calls would
/// hand out, in the same order, with one lock (shared, padded), one bitmap store per word and one
/// counter update. Returns how many; fewer than n with errno = ENOMEM when the arena is full.
std::size_t slot_alloc_batch(rca_heap_t *heap, pool *mine, rca_handle_t *out, std::size_t n,
                             handle_code code) noexcept;
/// slot_free_bare of each slot that handles[0..n) name, in order, with the pool lock taken once
/// per run of frees: a handle that fails a check, or (thread placement) names another thread's
/// slot, goes through slot_free_bare itself, which aborts with its message naming `what`.
void slot_free_batch(rca_heap_t *heap, pool *mine, const rca_handle_t *handles, std::size_t n,
                     handle_code code, const char *what) noexcept;
/// Abandons a thread pool: pages with live slots go to the arena, empty ones are returned.
void pool_abandon(rca_heap_t *heap, pool *p) noexcept;
/// The same in a fork child for the pool of a thread that did not survive the fork. That thread
/// may have stopped between two stores of a list operation (a walk from the head of a torn list
/// misses pages, which the child then never gets back) or of a slot operation (`used` a step
/// behind the bitmap: the page would never look empty), so its pages are found by their
/// descriptors' owner, not through its lists, and their used counts are recomputed from the
/// bitmaps. The slot it was taking, or the remote frees of the one bitmap word it was collecting,
/// at that moment are lost to the child; nothing else.
void pool_abandon_after_fork(rca_heap_t *heap, pool *p) noexcept;
/// An object's tag in arena::object_tags: its address bits 3-34, never 0. Two objects share a
/// tag only when their addresses are a multiple of 32 GiB apart.
inline std::uint32_t object_tag(const void *obj) noexcept {
  const auto t = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(obj) >> 3);
  return t ? t : 1;
}
/// Checks that the arena slot `slot`, read from obj's header, is live and held by obj; aborts
/// naming `what`, obj and the heap when not (the generic operations' check; reads only the
/// arena's own metadata).
void check_object_slot(const rca_heap_t *heap, const void *obj, const void *slot,
                       const char *what) noexcept;
/// True when the slot at `slot` is currently handed out.
bool slot_is_live(const rca_heap_t *heap, const void *slot) noexcept;
/// Calls fn(slot) for every live slot of the heap (quiescent heap only).
template <class Fn>
void for_each_live_slot(rca_heap_t *heap, Fn &&fn);

// ---- spans.cpp ------------------------------------------------------------------------------
/// Count values that never occur in a live count (both in the frozen range, far from the frozen
/// value, so racing increments of a frozen count cannot reach them): the count of a free block,
/// and of a raw block (rca_malloc, or any block of backend `rca`), which has no count.
inline constexpr std::uint64_t kFreeMark32 = 0xDEADBEEFu, kFreeMark64 = 0xDEADBEEFDEADBEEFull;
inline constexpr std::uint64_t kRawMark32 = 0xFEEDFACEu, kRawMark64 = 0xFEEDFACEFEEDFACEull;
/// Reserves the object region (object_limit bytes), its count windows (unless the caller set
/// r.counted false) and descriptors; r.header_bytes as the caller set it (default: the span
/// header of rca/computed.h). 0, or an errno with set_error.
int spans_init(span_region &r, std::size_t object_limit, bool granule, unsigned slot_width,
               std::size_t retain_pages) noexcept;
void spans_destroy(span_region &r) noexcept;
/// Free units the region keeps committed at most now (its retention policy); region lock held.
std::size_t spans_retain_limit(const span_region &r) noexcept;
/// A block of at least `size` bytes whose count holds `initial` (or the raw mark), or null with
/// errno = ENOMEM and a message when the region is exhausted.
void *span_alloc(rca_heap_t *heap, pool *mine, std::size_t size, bool raw) noexcept;
/// Frees a block; aborts with a one-line message naming `what`, the pointer and the heap when p
/// is not a live block of this heap (foreign, interior, or already free). Returns its size.
std::size_t span_free(rca_heap_t *heap, pool *mine, void *p, const char *what) noexcept;
/// realloc for a raw block: p itself when size still fits and wastes less than half the block,
/// else a new block with the contents and p freed; null (p untouched) when memory is exhausted.
void *span_realloc(rca_heap_t *heap, pool *mine, void *p, std::size_t size) noexcept;
/// Resizes large block p (a span of its own) in place to `size` bytes (more than a small block):
/// it gives its tail units back, or grows into the free or fresh units after it. False, nothing
/// changed, when p is a small block or the units after it are taken.
bool span_resize_large(rca_heap_t *heap, void *p, std::size_t size) noexcept;
/// The block's usable size (p a live block).
std::size_t span_usable_size(const rca_heap_t *heap, const void *p) noexcept;
/// The count of the block at p, by the heap's address function.
void *span_count_of(const rca_heap_t *heap, const void *p) noexcept;
/// Thread exit: the cache's spans with live blocks go to the region for adoption.
void spans_abandon(rca_heap_t *heap, span_cache *c) noexcept;
/// The same in a fork child for a thread that did not survive the fork: spans are found by
/// descriptor and their used counts recomputed from the lists (see pool_abandon_after_fork).
void spans_abandon_after_fork(rca_heap_t *heap, span_cache *c) noexcept;
/// Gives the cache's spare spans back to the region, then decommits its free units beyond
/// `keep_units` (malloc_trim). Returns the units decommitted.
std::size_t spans_trim(rca_heap_t *heap, span_cache *c, std::size_t keep_units) noexcept;
/// Calls fn(count) for every live counted block (not free, not raw; quiescent heap only).
void spans_for_each_count(rca_heap_t *heap, void (*fn)(void *count, void *arg), void *arg);
/// Refcount pages the live spans' counts occupy (rca_heap_stats), and their peak.
std::size_t spans_count_pages(rca_heap_t *heap, std::size_t *peak) noexcept;

// ---- registry.cpp ---------------------------------------------------------------------------
void registry_add(rca_heap_t *heap, void *p, block_kind kind) noexcept;
/// Removes p; aborts with a message naming `what` when p is not a live block of that kind.
void registry_remove(rca_heap_t *heap, void *p, block_kind kind, const char *what) noexcept;
bool registry_contains(rca_heap_t *heap, const void *p, block_kind kind) noexcept;

// ---- side.cpp -------------------------------------------------------------------------------
/// LeakSanitizer scans only its own allocations, stacks, globals and registered root regions:
/// memory rca maps for itself and that points to objects (the heap structure, the registry's
/// table) is registered so that objects reachable only from it are not reported leaked.
/// No-ops without ASan.
void lsan_root_add(void *p, std::size_t bytes) noexcept;
void lsan_root_remove(void *p, std::size_t bytes) noexcept;
std::size_t round_to_pages(std::size_t bytes) noexcept;
/// `bytes` (whole pages) of zeroed memory of rca's own, registered with LeakSanitizer; aborts
/// naming `what` when the OS refuses (for callers that cannot report an error).
void *side_map(std::size_t bytes, const char *what) noexcept;
void side_unmap(void *p, std::size_t bytes) noexcept;

// ---- backend.cpp ----------------------------------------------------------------------------
/// The backend's entry points; 0 or an errno with set_error (e.g. mimalloc not loadable).
int backend_load(rca_backend_t b, backend_ops *out) noexcept;

// ---- heap.cpp / fork.cpp --------------------------------------------------------------------
/// The pool the calling thread used last, checked before anything else: a VM thread works on one
/// heap. Trivially destructible and constant-initialised (no TLS guard or wrapper call), and
/// initial-exec (no __tls_get_addr call in librca.so), as mimalloc keeps its default heap.
/// Heap ids are never reused, so an entry of a destroyed heap never matches again.
struct last_pool {
  std::uint64_t heap_id;
  pool *p;
};
extern thread_local constinit last_pool t_last __attribute__((tls_model("initial-exec")));
pool *thread_pool_slow(rca_heap_t *heap) noexcept;
/// The calling thread's pool for `heap`, made on first use; null when none can be made (out of
/// memory, or the thread is past the teardown of its thread-locals).
inline pool *thread_pool(rca_heap_t *heap) noexcept {
  if (t_last.heap_id == heap->id) [[likely]]
    return t_last.p;
  return thread_pool_slow(heap);
}
/// Adds n to one of the calling thread's counters for `heap` (see heap_counters): in its own pool
/// with a plain load and store, or, when it has no pool, in the heap's block with an atomic add.
/// Nothing when the counters are compiled out (kCountEvents).
template <class T>
inline void count_event(rca_heap_t *heap, pool *mine, std::atomic<T> heap_counters::*field,
                        T n) noexcept {
  if constexpr (kCountEvents) {
    if (mine) [[likely]] {
      std::atomic<T> &c = mine->counters.*field;
      c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      (heap->counters.*field).fetch_add(n, std::memory_order_relaxed);
    }
  }
}
/// Object bytes (usable size of what the backend gave) count per thread like the events.
inline void account_bytes(rca_heap_t *heap, pool *mine, std::int64_t n) noexcept {
  count_event(heap, mine, &heap_counters::object_bytes, n);
}
/// A block's usable bytes: the backend's, or rca's span allocator's (backend rca, which needs
/// its heap; heap.cpp and placement.h route every call of a heap with has_spans there).
inline std::size_t object_usable_size(const rca_heap_t *heap, const void *p) noexcept {
  return heap->has_spans ? span_usable_size(heap, p) : heap->backend.usable_size(p);
}
// The backend's usable size is asked only when it is counted (it is a call into the backend).
inline void account_alloc(rca_heap_t *heap, pool *mine, void *p) noexcept {
  if constexpr (kCountEvents)
    account_bytes(heap, mine, static_cast<std::int64_t>(object_usable_size(heap, p)));
}
inline void account_free(rca_heap_t *heap, pool *mine, void *p) noexcept {
  if constexpr (kCountEvents)
    account_bytes(heap, mine, -static_cast<std::int64_t>(object_usable_size(heap, p)));
}
/// set_error for a backend that had no memory for `size` bytes (ENOMEM).
void backend_out_of_memory(const rca_heap_t *heap, std::size_t size) noexcept;
/// Process-wide list of live heaps, guarded by heaps_lock().
std::mutex &heaps_lock() noexcept;
std::vector<rca_heap_t *> &live_heaps() noexcept;
void install_fork_handlers() noexcept;

// ---- stats.cpp ------------------------------------------------------------------------------
void print_stats_at_exit_if_asked() noexcept;

// ---- slot helpers shared by several files -------------------------------------------------------
inline std::uint64_t slot_load(const rca_heap_t *heap, const void *slot) noexcept {
  return heap->slot_width == 4
             ? __atomic_load_n(static_cast<const std::uint32_t *>(slot), __ATOMIC_RELAXED)
             : __atomic_load_n(static_cast<const std::uint64_t *>(slot), __ATOMIC_RELAXED);
}
inline void slot_store(const rca_heap_t *heap, void *slot, std::uint64_t v) noexcept {
  if (heap->slot_width == 4)
    __atomic_store_n(static_cast<std::uint32_t *>(slot), static_cast<std::uint32_t>(v),
                     __ATOMIC_RELAXED);
  else __atomic_store_n(static_cast<std::uint64_t *>(slot), v, __ATOMIC_RELAXED);
}
inline void check_heap(const rca_heap_t *heap, const char *what) noexcept {
  if (!heap || heap->magic != kHeapMagic) [[unlikely]]
    not_a_heap(heap, what);
}
/// The object tag word of the arena slot at `slot` (which must lie in the arena).
inline std::atomic<std::uint32_t> &slot_object_tag(const rca_heap_t *heap,
                                                   const void *slot) noexcept {
  const std::size_t off =
      static_cast<std::size_t>(static_cast<const char *>(slot) - heap->arena.base);
  return heap->arena.object_tags[off >> heap->slot_shift];
}
/// Records that `obj` holds the arena slot `slot` (rca_obj_alloc).
inline void slot_bind_object(rca_heap_t *heap, void *slot, const void *obj) noexcept {
  slot_object_tag(heap, slot).store(object_tag(obj), std::memory_order_relaxed);
}
/// Where freeze keeps the count of an arena slot aside: 8 bytes per slot position.
/// The saved count of the count `off` bytes into its region (the arena, or a computed heap's
/// count windows): off / slot_width * 8 without a divide (counts are aligned to their width; a
/// division by the run-time width was the largest cost of a freeze sweep after the count stores,
/// perf).
inline std::uint64_t *saved_count_at(const rca_heap_t *heap, std::size_t off) noexcept {
  return reinterpret_cast<std::uint64_t *>(static_cast<char *>(heap->saved_counts) +
                                           (heap->slot_width == 4 ? off * 2 : off));
}
inline std::uint64_t *saved_count_of(const rca_heap_t *heap, const void *slot) noexcept {
  return saved_count_at(
      heap, static_cast<std::size_t>(static_cast<const char *>(slot) - heap->arena.base));
}
inline bool count_is_frozen(const rca_heap_t *heap, std::uint64_t c) noexcept {
  return heap->slot_width == 4 ? (c & RCA_RC_FROZEN_BIT32) != 0 : (c & RCA_RC_FROZEN_BIT64) != 0;
}
inline std::uint64_t frozen_value(const rca_heap_t *heap) noexcept {
  return heap->slot_width == 4 ? RCA_RC_FROZEN32 : RCA_RC_FROZEN64;
}

}  // namespace rca::detail

// ---- for_each_live_slot ---------------------------------------------------------------------
template <class Fn>
void rca::detail::for_each_live_slot(rca_heap_t *heap, Fn &&fn) {
  arena &a = heap->arena;
  std::lock_guard<std::mutex> g(a.lock);
  for (std::size_t i = 1; i < a.next_fresh; ++i) {
    page_desc &d = a.descs[i];
    if (d.state.load(std::memory_order_relaxed) == page_state::unused) continue;
    char *page = a.base + i * kPageSize;
    const std::size_t words = (d.capacity + 63) / 64;
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t live = ~(d.free_bits[w].load(std::memory_order_relaxed) |
                             d.remote_bits[w].load(std::memory_order_relaxed));
      const std::size_t bits_here = d.capacity - w * 64 < 64 ? d.capacity - w * 64 : 64;
      if (bits_here < 64) live &= (std::uint64_t(1) << bits_here) - 1;
      while (live) {
        const unsigned b = static_cast<unsigned>(__builtin_ctzll(live));
        live &= live - 1;
        fn(page + (w * 64 + b) * heap->slot_stride);
      }
    }
  }
}
