// Slot allocation per placement.
//
//   shared   one pool per heap under a lock; the next slot goes to whichever thread asks, so
//            threads' slots interleave on the same pages (the false-sharing case).
//   padded   the shared pool with a 64-byte stride: one slot per cache line.
//   thread   one pool per thread, no lock on the owner's path. A slot freed by another thread
//            is OR-ed into the page's remote bitmap and collected by the owner when it runs
//            out of free slots (mimalloc's thread-free lists, as bitmaps). Pages of an exited
//            thread are abandoned to the arena and adopted by the next thread that needs a page.
//
// Free slots are found in the page descriptor's bitmap, never in the page: a refcount page holds
// nothing but counts.
#include "internal.h"
#include "placement/placement.h"

#include <cerrno>
#include <cstring>

namespace rca::detail {
namespace {

bool is_thread_placement(const rca_heap_t *heap) noexcept {
  return heap->placement->slots_per_thread;
}

char *slot_address(const rca_heap_t *heap, const page_desc *d, unsigned bit) noexcept {
  return page_address(heap->arena, d) + std::size_t(bit) * heap->slot_stride;
}

// Hands out a free slot of a page whose `used` says it has one (owner, or pool lock held): the
// lowest one from first_free_word on, wrapping around. Starting there matters: scanning a mostly
// used page from word 0 cost more than the rest of an allocation. The search is bounded by the
// bitmap and false when it finds nothing: a fork child inherits the pages of threads that were
// in the middle of an operation (their `used` or first_free_word one step behind the bitmap), and
// must neither run past the bitmap nor trust such a page.
bool page_take(page_desc *d, unsigned *bit) noexcept {
  const unsigned words = (d->capacity + 63u) / 64u;
  auto take_from = [&](unsigned w) {
    const std::uint64_t bits = d->free_bits[w].load(std::memory_order_relaxed);
    if (!bits) return false;
    const std::uint64_t left = bits & (bits - 1);
    d->free_bits[w].store(left, std::memory_order_relaxed);
    // The next search starts past a word this emptied.
    d->first_free_word = static_cast<std::uint16_t>(left ? w : w + 1);
    ++d->used;
    *bit = w * 64 + static_cast<unsigned>(__builtin_ctzll(bits));
    return true;
  };
  const unsigned start = d->first_free_word < words ? d->first_free_word : 0;
  for (unsigned w = start; w < words; ++w)
    if (take_from(w)) return true;
  for (unsigned w = 0; w < start; ++w)
    if (take_from(w)) return true;
  return false;
}

void note_free_word(page_desc *d, unsigned w) noexcept {
  if (w < d->first_free_word) d->first_free_word = static_cast<std::uint16_t>(w);
}

// Moves slots freed by other threads into the page's free bitmap. Returns how many.
unsigned page_collect(page_desc *d) noexcept {
  unsigned n = 0;
  const unsigned words = (d->capacity + 63u) / 64u;
  for (unsigned w = 0; w < words; ++w) {
    const std::uint64_t r = d->remote_bits[w].exchange(0, std::memory_order_acq_rel);
    if (r) {
      d->free_bits[w].store(d->free_bits[w].load(std::memory_order_relaxed) | r,
                            std::memory_order_relaxed);
      note_free_word(d, w);
      n += static_cast<unsigned>(__builtin_popcountll(r));
    }
  }
  d->used -= n;
  return n;
}

void list_add(pool *p, page_desc *d) noexcept {
  d->list_owner = p;
  d->in_avail = d->used < d->capacity;
  (d->in_avail ? p->avail : p->full).push_front(d);
}

// Finds a page with a free slot when the pool's avail list is empty.
page_desc *pool_refill(rca_heap_t *heap, pool *p) noexcept {
  // 1. Slots that other threads freed into our full pages.
  if (p->remote_pending.exchange(0, std::memory_order_acquire) != 0) {
    for (page_desc *d = p->full.head, *next; d; d = next) {
      next = d->next;
      if (page_collect(d) > 0) {
        p->full.remove(d);
        list_add(p, d);
      }
    }
    if (p->avail.head) return p->avail.head;
  }
  // 2. Pages that exited threads left behind (thread placement).
  if (is_thread_placement(heap)) {
    arena &a = heap->arena;
    std::lock_guard<std::mutex> g(a.lock);
    while (page_desc *d = a.abandoned.head) {
      a.abandoned.remove(d);
      d->owner.store(p, std::memory_order_seq_cst);
      d->state.store(page_state::owned, std::memory_order_seq_cst);
      page_collect(d);
      list_add(p, d);
      if (d->in_avail) return d;
    }
  }
  // 3. A fresh page.
  page_desc *d = arena_take_page(heap);
  if (!d) return nullptr;
  d->owner.store(p, std::memory_order_release);
  list_add(p, d);
  return d;
}

void *pool_alloc(rca_heap_t *heap, pool *p) noexcept {
  for (;;) {
    page_desc *d = p->avail.head;
    if (!d && !(d = pool_refill(heap, p))) return nullptr;
    unsigned bit;
    const bool took = page_take(d, &bit);
    if (!took) d->used = d->capacity;  // torn by a fork (see page_take): the bitmap says full
    if (d->used >= d->capacity) {
      p->avail.remove(d);
      d->in_avail = false;
      p->full.push_front(d);
    }
    if (took) return slot_address(heap, d, bit);
  }
}

// Up to `want` free slots of d, set to count 1, their handles in out: the slots as many
// page_take calls would hand out, in their order (from first_free_word on, wrapping around), with
// one bitmap store per word. Fewer than `want` only when the bitmap has no more (the page is full,
// or torn by a fork: see page_take).
std::size_t page_take_run(rca_heap_t *heap, page_desc *d, rca_handle_t *out, std::size_t want,
                          handle_code code) noexcept {
  const unsigned words = (d->capacity + 63u) / 64u;
  char *const page = page_address(heap->arena, d);
  const bool saved = heap->saved_counts != nullptr;
  std::size_t got = 0;
  unsigned w = d->first_free_word < words ? d->first_free_word : 0;
  for (unsigned seen = 0; seen < words && got < want; ++seen, w = w + 1 < words ? w + 1 : 0) {
    std::uint64_t bits = d->free_bits[w].load(std::memory_order_relaxed);
    if (!bits) continue;
    do {
      const unsigned bit = w * 64 + static_cast<unsigned>(__builtin_ctzll(bits));
      bits &= bits - 1;
      char *slot = page + std::size_t(bit) * heap->slot_stride;
      slot_store(heap, slot, 1);
      if (saved) *saved_count_of(heap, slot) = 0;  // see slot_alloc
      out[got++] = code.handle(slot);
    } while (bits && got < want);
    d->free_bits[w].store(bits, std::memory_order_relaxed);
    d->first_free_word = static_cast<std::uint16_t>(bits ? w : w + 1);
  }
  d->used += static_cast<std::uint32_t>(got);
  return got;
}

// pool_alloc for n slots: whole runs of each page's free slots at a time.
std::size_t pool_alloc_batch(rca_heap_t *heap, pool *p, rca_handle_t *out, std::size_t n,
                             handle_code code) noexcept {
  std::size_t got = 0;
  while (got < n) {
    page_desc *d = p->avail.head;
    if (!d && !(d = pool_refill(heap, p))) break;
    const std::size_t want = n - got;
    const std::size_t took = page_take_run(heap, d, out + got, want, code);
    got += took;
    if (took < want) d->used = d->capacity;  // the bitmap says full (torn by a fork: used lags)
    if (d->used >= d->capacity) {
      p->avail.remove(d);
      d->in_avail = false;
      p->full.push_front(d);
    }
  }
  return got;
}

// Marks a slot of page d free in its bitmap (owner thread, or pool lock held); page_freed does
// the rest once for the slots freed in a row on the same page.
[[gnu::always_inline]] inline void page_free_bit(page_desc *d, unsigned w,
                                                 std::uint64_t m) noexcept {
  d->free_bits[w].store(d->free_bits[w].load(std::memory_order_relaxed) | m,
                        std::memory_order_relaxed);
  note_free_word(d, w);
}

[[gnu::always_inline]] inline void page_freed(rca_heap_t *heap, pool *p, page_desc *d,
                                              unsigned slots) noexcept {
  d->used -= slots;
  if (!d->in_avail) {
    p->full.remove(d);
    d->in_avail = true;
    p->avail.push_front(d);
  }
  // An empty page goes back to the arena unless it is the pool's last page with room.
  if (d->used == 0 && p->avail.count > 1) {
    p->avail.remove(d);
    d->list_owner = nullptr;
    arena_return_page(heap, d);
  }
}

// Frees a slot of a page the pool owns (owner thread, or pool lock held).
[[gnu::always_inline]] inline void pool_free_local(rca_heap_t *heap, pool *p, page_desc *d,
                                                   unsigned w, std::uint64_t m) noexcept {
  page_free_bit(d, w, m);
  page_freed(heap, p, d, 1);
}

// Under the arena lock: an abandoned page whose slots may all be free now.
void collect_abandoned_locked(rca_heap_t *heap, page_desc *d) noexcept {
  if (d->state.load(std::memory_order_seq_cst) != page_state::abandoned) return;
  page_collect(d);
  if (d->used == 0) {
    heap->arena.abandoned.remove(d);
    arena_return_page_locked(heap, d);
  }
}

// Frees the bare slots handles[0..n) name, pages of pool p only (owner thread, or pool lock
// held), while each passes slot_free_checked's checks; stops at the first that does not, or whose
// page is another pool's. Returns how many it freed. A page is looked up, checked and its lists
// updated once per run of slots on it (a handle twice in a row still finds its bit free).
std::size_t pool_free_run(rca_heap_t *heap, pool *p, const rca_handle_t *handles, std::size_t n,
                          handle_code code) noexcept {
  const arena &a = heap->arena;
  const bool owners_differ = is_thread_placement(heap);
  // In registers: the atomic accesses below would make the compiler reload them from the heap.
  const std::size_t misaligned = heap->slot_stride - 1;
  const unsigned slot_shift = heap->slot_shift;
  const handle_code decode = code;
  page_desc *d = nullptr;
  std::uintptr_t page = 0;
  const std::atomic<std::uint32_t> *tags = nullptr;  // the page's object tags
  unsigned on_page = 0;                              // freed on d, not yet in its `used`
  std::size_t i = 0;
  for (; i < n; ++i) {
    void *slot = decode.slot(handles[i]);
    std::size_t off = reinterpret_cast<std::uintptr_t>(slot) - page;
    if (off >= kPageSize) {  // another page (or the first)
      if (d) page_freed(heap, p, d, on_page);
      on_page = 0;
      d = arena_page_of(a, slot);
      if (!d || d->state.load(std::memory_order_acquire) == page_state::unused ||
          (owners_differ && d->owner.load(std::memory_order_acquire) != p)) {
        d = nullptr;
        break;
      }
      tags = &slot_object_tag(heap, page_address(a, d));
      page = reinterpret_cast<std::uintptr_t>(page_address(a, d));
      off = reinterpret_cast<std::uintptr_t>(slot) - page;
    }
    if ((off & misaligned) != 0) break;
    const unsigned bit = static_cast<unsigned>(off >> slot_shift);
    const unsigned w = bit / 64;
    const std::uint64_t m = std::uint64_t(1) << (bit % 64);
    if (((d->free_bits[w].load(std::memory_order_relaxed) |
          d->remote_bits[w].load(std::memory_order_relaxed)) &
         m) ||
        tags[bit].load(std::memory_order_relaxed) != 0)
      break;
    page_free_bit(d, w, m);
    ++on_page;
  }
  if (d) page_freed(heap, p, d, on_page);
  return i;
}

[[noreturn]] void not_a_slot(const rca_heap_t *heap, const void *slot, const char *what,
                             const char *why) noexcept {
  char desc[128];
  fatal("%s: %p is not a slot of %s (%s)", what, slot, describe(heap, desc, sizeof desc), why);
}

}  // namespace

void *slot_alloc(rca_heap_t *heap, pool *mine) noexcept {
  void *slot;
  if (is_thread_placement(heap)) {
    slot = mine ? pool_alloc(heap, mine) : nullptr;
  } else {
    std::lock_guard<spin_lock> g(heap->pool_lock);
    slot = pool_alloc(heap, &heap->shared_pool);
  }
  if (!slot) {
    errno = ENOMEM;
    return nullptr;
  }
  slot_store(heap, slot, 1);
  // A count kept aside by freeze belonged to the slot's last user.
  if (heap->saved_counts) *saved_count_of(heap, slot) = 0;
  count_event(heap, mine, &heap_counters::slots_allocated, std::uint64_t(1));
  return slot;
}

std::size_t slot_alloc_batch(rca_heap_t *heap, pool *mine, rca_handle_t *out, std::size_t n,
                             handle_code code) noexcept {
  std::size_t got;
  if (is_thread_placement(heap)) {
    got = mine ? pool_alloc_batch(heap, mine, out, n, code) : 0;
  } else {
    std::lock_guard<spin_lock> g(heap->pool_lock);
    got = pool_alloc_batch(heap, &heap->shared_pool, out, n, code);
  }
  if (got < n) errno = ENOMEM;
  count_event(heap, mine, &heap_counters::slots_allocated, std::uint64_t(got));
  return got;
}

void slot_free_batch(rca_heap_t *heap, pool *mine, const rca_handle_t *handles, std::size_t n,
                     handle_code code, const char *what) noexcept {
  std::size_t i = 0;
  while (i < n) {
    std::size_t freed = 0;
    if (!is_thread_placement(heap)) {
      std::lock_guard<spin_lock> g(heap->pool_lock);
      freed = pool_free_run(heap, &heap->shared_pool, handles + i, n - i, code);
    } else if (mine) {
      freed = pool_free_run(heap, mine, handles + i, n - i, code);
    }
    count_event(heap, mine, &heap_counters::slots_freed, std::uint64_t(freed));
    i += freed;
    // The one the run stopped at: a remote free, or misuse, which aborts here with the message of
    // a single free (nothing is held, and every free before it is done and counted).
    if (i < n) slot_free_bare(heap, code.slot(handles[i++]), what, mine);
  }
}

[[noreturn]] void not_a_live_object(const rca_heap_t *heap, const void *obj, const void *slot,
                                    const char *what, const char *why) noexcept {
  char desc[128];
  fatal("%s: %p is not a live object of %s (%s; slot %p)", what, obj,
        describe(heap, desc, sizeof desc), why, slot);
}
constexpr const char *kNoSlotHere =
    "its header names no slot of this heap: an object of another heap, or not an object";
constexpr const char *kSlotIsFree = "its slot is free: freed already, or not an object";
constexpr const char *kSlotIsAnothers =
    "its slot is another object's: freed already and the slot reused, or an object of another "
    "heap";

// One pass over the slot's descriptor for both kinds of free: the bitmap says whether the slot is
// handed out, its object tag whether the right object (obj; null: a bare slot) holds it. Called
// out of line, the same checks cost an object's alloc+free about 120 more instructions (callgrind,
// experiments/bench/free_checks.c); here they are a load, a compare and a store.
void slot_free_checked(rca_heap_t *heap, void *slot, const char *what, pool *mine,
                       const void *obj) noexcept {
  arena &a = heap->arena;
  page_desc *d = arena_page_of(a, slot);
  if (!d) {
    if (obj) not_a_live_object(heap, obj, slot, what, kNoSlotHere);
    not_a_slot(heap, slot, what, "outside its refcount arena: a handle from another heap?");
  }
  const std::size_t off = static_cast<std::size_t>(static_cast<char *>(slot) - a.base) % kPageSize;
  if ((off & (heap->slot_stride - 1)) != 0) {
    if (obj) not_a_live_object(heap, obj, slot, what, kNoSlotHere);
    not_a_slot(heap, slot, what, "misaligned");
  }
  const unsigned bit = static_cast<unsigned>(off >> heap->slot_shift);
  const unsigned w = bit / 64;
  const std::uint64_t m = std::uint64_t(1) << (bit % 64);
  char desc[128];
  // A slot another thread freed sits in remote_bits until its owner collects it: free too (the
  // owner's local free would otherwise take it twice; found by the fuzzer's misuse ops).
  if (d->state.load(std::memory_order_acquire) == page_state::unused ||
      ((d->free_bits[w].load(std::memory_order_relaxed) |
        d->remote_bits[w].load(std::memory_order_relaxed)) &
       m)) {
    if (obj) not_a_live_object(heap, obj, slot, what, kSlotIsFree);
    fatal("%s: double free of slot %p (index %zu) of %s", what, slot,
          static_cast<std::size_t>(static_cast<char *>(slot) - a.base) / heap->slot_width,
          describe(heap, desc, sizeof desc));
  }
  std::atomic<std::uint32_t> &tag = slot_object_tag(heap, slot);
  if (tag.load(std::memory_order_relaxed) != (obj ? object_tag(obj) : 0)) [[unlikely]] {
    if (obj) not_a_live_object(heap, obj, slot, what, kSlotIsAnothers);
    fatal("%s: slot %p of %s is an object's (free the object with rca_obj_free)", what, slot,
          describe(heap, desc, sizeof desc));
  }
  if (obj) tag.store(0, std::memory_order_relaxed);
  count_event(heap, mine, &heap_counters::slots_freed, std::uint64_t(1));

  if (!is_thread_placement(heap)) {
    std::lock_guard<spin_lock> g(heap->pool_lock);
    pool_free_local(heap, &heap->shared_pool, d, w, m);
    return;
  }
  if (mine && d->owner.load(std::memory_order_acquire) == mine) {
    pool_free_local(heap, mine, d, w, m);
    return;
  }
  // Another thread's page (or an abandoned one): publish the free in the remote bitmap.
  const std::uint64_t before = d->remote_bits[w].fetch_or(m, std::memory_order_seq_cst);
  if (before & m)
    fatal("%s: double free of slot %p (index %zu) of %s", what, slot,
          static_cast<std::size_t>(static_cast<char *>(slot) - a.base) / heap->slot_width,
          describe(heap, desc, sizeof desc));
  if (d->state.load(std::memory_order_seq_cst) == page_state::abandoned) {
    // Its thread is gone: nobody would collect it, so do it here (abandon marks the page before
    // collecting, so one of the two sides always sees this bit).
    std::lock_guard<std::mutex> g(a.lock);
    collect_abandoned_locked(heap, d);
  } else if (pool *owner = d->owner.load(std::memory_order_acquire)) {
    owner->remote_pending.fetch_add(1, std::memory_order_release);
  }
}

void pool_abandon(rca_heap_t *heap, pool *p) noexcept {
  arena &a = heap->arena;
  std::lock_guard<std::mutex> g(a.lock);
  for (page_list *l : {&p->avail, &p->full}) {
    while (page_desc *d = l->head) {
      l->remove(d);
      d->list_owner = nullptr;
      d->owner.store(nullptr, std::memory_order_seq_cst);
      d->state.store(page_state::abandoned, std::memory_order_seq_cst);
      a.abandoned.push_front(d);
      collect_abandoned_locked(heap, d);
    }
  }
  p->remote_pending.store(0, std::memory_order_relaxed);
}

void pool_abandon_after_fork(rca_heap_t *heap, pool *p) noexcept {
  arena &a = heap->arena;
  std::lock_guard<std::mutex> g(a.lock);
  for (std::size_t i = 1; i < a.next_fresh; ++i) {
    page_desc *d = &a.descs[i];
    if (d->state.load(std::memory_order_relaxed) != page_state::owned ||
        d->owner.load(std::memory_order_relaxed) != p)
      continue;
    // The bitmap is the truth: `used` may be a step behind it.
    const unsigned words = (d->capacity + 63u) / 64u;
    unsigned free_slots = 0;
    for (unsigned w = 0; w < words; ++w)
      free_slots += static_cast<unsigned>(
          __builtin_popcountll(d->free_bits[w].load(std::memory_order_relaxed)));
    d->used = d->capacity - free_slots;
    d->first_free_word = 0;
    d->list_owner = nullptr;
    d->next = d->prev = nullptr;
    d->owner.store(nullptr, std::memory_order_relaxed);
    d->state.store(page_state::abandoned, std::memory_order_relaxed);
    a.abandoned.push_front(d);
    collect_abandoned_locked(heap, d);
  }
  p->avail = page_list{};
  p->full = page_list{};
  p->remote_pending.store(0, std::memory_order_relaxed);
}

void check_object_slot(const rca_heap_t *heap, const void *obj, const void *slot,
                       const char *what) noexcept {
  if (!arena_page_of(heap->arena, slot)) not_a_live_object(heap, obj, slot, what, kNoSlotHere);
  if (!slot_is_live(heap, slot)) not_a_live_object(heap, obj, slot, what, kSlotIsFree);
  if (slot_object_tag(heap, slot).load(std::memory_order_relaxed) != object_tag(obj))
    not_a_live_object(heap, obj, slot, what, kSlotIsAnothers);
}

bool slot_is_live(const rca_heap_t *heap, const void *slot) noexcept {
  const page_desc *d = arena_page_of(heap->arena, slot);
  if (!d || d->state.load(std::memory_order_acquire) == page_state::unused) return false;
  const std::size_t off =
      static_cast<std::size_t>(static_cast<const char *>(slot) - heap->arena.base) % kPageSize;
  if ((off & (heap->slot_stride - 1)) != 0) return false;
  const unsigned bit = static_cast<unsigned>(off >> heap->slot_shift);
  if (bit >= d->capacity) return false;
  const std::uint64_t m = std::uint64_t(1) << (bit % 64);
  return !((d->free_bits[bit / 64].load(std::memory_order_relaxed) |
            d->remote_bits[bit / 64].load(std::memory_order_relaxed)) &
           m);
}

}  // namespace rca::detail
