// rca's own object allocator: size-class spans in one aligned region per heap, with each span's
// counts in refcount pages outside it (types.h, span_region). mimalloc's design, written anew:
//
//   - A span is a 64 KiB unit (blocks up to 8 KiB, one size class) or several units (one large
//     block). Its first 64 bytes are a read-only header (rca/computed.h) that the `span` address
//     function finds by masking; everything that changes lives in its descriptor, in a mapping
//     of its own.
//   - Each thread allocates from spans it owns (its pool's span_cache): a local free list, then
//     never-used blocks by bump, without a lock or an atomic. A block freed by another thread is
//     pushed on the span's thread_free list (one CAS) and collected by the owner when its local
//     list is empty, before a never-used block (mimalloc's thread-free list). A full span that
//     receives such a free tells its owner through remote_pending (a bit per class), and the owner
//     sweeps that class's full spans when the class runs dry.
//   - The spans of an exited thread are abandoned to the region and adopted by the next thread
//     that needs a span of that class, or that frees a block into one (which collects it).
//   - Free units are kept committed up to the retain limit; beyond it a span's object and count
//     memory go back to the OS when it is freed.
//   - A block's count doubles as its state: a free block's count holds kFreeMark, so freeing a
//     block twice, or a block never handed out, is found without a bitmap.
#include "spans.h"
#include "prim/prim.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rca::detail {
namespace {

inline bool has_room(const span_desc *d) noexcept {
  return d->local_free || d->bump.load(std::memory_order_relaxed) < d->capacity;
}

// ---- units (region lock held) ---------------------------------------------------------------
//
// Free units form runs, each as long as it can be among runs of its kind: a committed run (whose
// pages may still hold data) never merges with a decommitted one, so a run is either all
// committed or all reading zero, and taking one needs no walk over its units. A span is taken
// from the committed run that fits best, then from a decommitted one, then from fresh units: a
// program that frees and allocates large blocks in turn reuses pages it has faulted in already
// (large_mix faulted every page of every buffer while only 4 MiB of free units stayed
// committed). How many free units stay committed is retain_limit's policy.

void decommit_units(span_region &r, std::size_t u, std::size_t n) noexcept {
  prim::decommit(unit_address(r, u), n << kSpanShift);
  if (r.counted) prim::decommit(window_of(r, u), n * r.window_bytes);
}

inline unsigned run_bin(std::size_t units) noexcept {
  if (units <= 8) return static_cast<unsigned>(units) - 1;
  const unsigned b = 63u - static_cast<unsigned>(__builtin_clzll(units - 1));
  const unsigned bin =
      8 + (b - 3) * 4 + static_cast<unsigned>((units - 1 - (std::size_t(1) << b)) >> (b - 2));
  return bin < kRunBins ? bin : kRunBins - 1;
}

span_list &bin_of(span_region &r, const span_desc *run) noexcept {
  return r.free_runs[run->committed_free][run_bin(run->units)];
}

// Files the free run [u, u+n) as it is (its descriptors are unused already).
void run_insert(span_region &r, std::size_t u, std::size_t n, bool committed) noexcept {
  span_desc *run = &r.descs[u];
  run->units = static_cast<std::uint32_t>(n);
  run->committed_free = committed;
  r.descs[u + n - 1].head = static_cast<std::uint32_t>(u);
  bin_of(r, run).push_front(run);
}

// Files the free run [u, u+n), merged with the free neighbours of its kind.
void run_free(span_region &r, std::size_t u, std::size_t n, bool committed) noexcept {
  if (u > 0 && r.descs[u - 1].state.load(std::memory_order_relaxed) == span_state::unused) {
    span_desc *left = &r.descs[r.descs[u - 1].head];
    if (left->committed_free == committed) {
      bin_of(r, left).remove(left);
      u = unit_of(r, left);
      n += left->units;
    }
  }
  if (u + n < r.next_fresh &&
      r.descs[u + n].state.load(std::memory_order_relaxed) == span_state::unused) {
    span_desc *right = &r.descs[u + n];
    if (right->committed_free == committed) {
      bin_of(r, right).remove(right);
      n += right->units;
    }
  }
  run_insert(r, u, n, committed);
}

// The run of the kind that fits n units best (the shortest of n's bin that holds n, among its
// 32 most recent, else the most recent of the next bin that has one), or null.
span_desc *best_fit(span_list *bins, std::size_t n) noexcept {
  unsigned b = run_bin(n), tries = 32;
  span_desc *best = nullptr;
  for (span_desc *run = bins[b].head; run && tries-- > 0; run = run->next)
    if (run->units >= n && (!best || run->units < best->units)) {
      best = run;
      if (run->units == n) break;
    }
  while (!best && ++b < kRunBins) best = bins[b].head;
  return best;
}

// Takes n units from the front of free run `run`; the rest stays a run of its kind.
std::uint32_t run_take(span_region &r, span_desc *run, std::size_t n) noexcept {
  const std::size_t u = unit_of(r, run), m = run->units;
  const bool committed = run->committed_free;
  bin_of(r, run).remove(run);
  if (m > n) run_insert(r, u + n, m - n, committed);
  if (committed) r.committed_free_units -= n;
  run->committed_free = false;
  run->zeroed = !committed;  // a committed run's old contents are still there
  return static_cast<std::uint32_t>(u);
}

// Free units kept committed now: retain_units at least; with retain_percent, up to that share of
// the units in use, as far as retain_above_peak percent past the peak in use (the footprint of
// blocks and kept units then stays within that much of what live blocks reached).
std::size_t retain_limit(const span_region &r) noexcept {
  if (r.retain_percent == 0) return r.retain_units;
  const std::size_t cap = r.units_peak + r.units_peak / 100 * r.retain_above_peak +
                          r.units_peak % 100 * r.retain_above_peak / 100;
  const std::size_t share =
      r.units_in_use / 100 * r.retain_percent + r.units_in_use % 100 * r.retain_percent / 100;
  return std::max(r.retain_units, std::min(cap - r.units_in_use, share));
}

// Decommits free units beyond `limit`: the shortest committed runs first (the least likely to
// serve a later span), the last one from its end.
void trim_to_locked(span_region &r, std::size_t limit) noexcept {
  unsigned b = 0;
  while (r.committed_free_units > limit) {
    while (b < kRunBins && !r.free_runs[1][b].head) ++b;
    if (b == kRunBins)
      fatal("internal error: %zu free units counted committed, none found", r.committed_free_units);
    span_desc *run = r.free_runs[1][b].head;
    const std::size_t u = unit_of(r, run), m = run->units;
    const std::size_t excess = std::min(m, r.committed_free_units - limit);
    r.free_runs[1][b].remove(run);
    if (m > excess) run_insert(r, u, m - excess, true);
    decommit_units(r, u + m - excess, excess);
    r.committed_free_units -= excess;
    run_free(r, u + m - excess, excess, false);
  }
}

void trim_locked(span_region &r) noexcept { trim_to_locked(r, retain_limit(r)); }

// Merges every free unit into decommitted runs, when no run and no fresh unit is left for a
// span: a walk over the descriptors in address order, which allocates nothing.
void coalesce_locked(span_region &r) noexcept {
  for (auto &kind : r.free_runs)
    for (span_list &bin : kind) bin = span_list{};
  for (std::size_t u = 0; u < r.next_fresh;) {
    if (r.descs[u].state.load(std::memory_order_relaxed) != span_state::unused) {
      ++u;
      continue;
    }
    std::size_t end = u;
    while (end < r.next_fresh &&
           r.descs[end].state.load(std::memory_order_relaxed) == span_state::unused) {
      span_desc &run = r.descs[end];
      if (run.committed_free) decommit_units(r, end, run.units);
      run.committed_free = false;
      end += run.units;
    }
    run_insert(r, u, end - u, false);
    u = end;
  }
  r.committed_free_units = 0;
}

// Fresh units [next_fresh, next_fresh+n), committed here (objects and count windows), or false.
bool take_fresh_locked(span_region &r, std::size_t n) noexcept {
  const std::size_t u = r.next_fresh;
  if (u + n > r.units_limit) return false;
  if (u + n > r.committed_units) {
    // Commit ahead, kCommitUnits at a time: one system call per unit made a program of many
    // 8-64 KiB blocks (a unit each) spend its time in mprotect. Pages still fault in lazily.
    const std::size_t end =
        std::min(r.units_limit, std::max(u + n, r.committed_units + kCommitUnits));
    const std::size_t from = r.committed_units;
    if (prim::commit(unit_address(r, from), (end - from) << kSpanShift) ||
        (r.counted && prim::commit(window_of(r, from), (end - from) * r.window_bytes)))
      return false;
    r.committed_units = end;
  }
  r.next_fresh += n;
  return true;
}

// n units around a committed run too short for them, with the decommitted run (or fresh units)
// after or before it: the longest committed run that can be so extended, or false. Runs of the
// two kinds do not merge, so without this a block freed beside a decommitted run was faulted in
// afresh elsewhere whenever a longer block came next.
// Looks at kExtendTries runs at most, the longest first: a region of many short committed runs
// (one-unit spans freed) would otherwise cost a long walk per large block.
bool take_extended(span_region &r, std::size_t n, std::uint32_t *out) noexcept {
  constexpr unsigned kExtendTries = 32;
  unsigned tries = 0;
  for (unsigned b = run_bin(n) + 1; b-- > 0;)
    for (span_desc *run = r.free_runs[1][b].head; run && tries < kExtendTries; run = run->next) {
      const std::size_t u = unit_of(r, run), m = run->units, need = n - m;
      if (m >= n) continue;
      ++tries;
      const std::size_t end = u + m;
      span_desc *after = end < r.next_fresh ? &r.descs[end] : nullptr;
      if (after && after->state.load(std::memory_order_relaxed) == span_state::unused &&
          after->units >= need) {
        run_take(r, after, need);
      } else if (end == r.next_fresh && take_fresh_locked(r, need)) {
      } else if (u >= need &&
                 r.descs[u - 1].state.load(std::memory_order_relaxed) == span_state::unused &&
                 r.descs[u - 1].head + need <= u) {
        // The tail of the run before it.
        span_desc *before = &r.descs[r.descs[u - 1].head];
        const std::size_t start = unit_of(r, before);
        bin_of(r, before).remove(before);
        if (u - need > start) run_insert(r, start, u - need - start, false);
        bin_of(r, run).remove(run);
        r.committed_free_units -= m;
        r.descs[u - need].zeroed = false;
        r.descs[u - need].committed_free = false;
        *out = static_cast<std::uint32_t>(u - need);
        return true;
      } else {
        continue;
      }
      bin_of(r, run).remove(run);
      r.committed_free_units -= m;
      run->committed_free = false;
      run->zeroed = false;
      *out = static_cast<std::uint32_t>(u);
      return true;
    }
  return false;
}

// n units for one span, or false.
bool take_units_locked(span_region &r, std::uint32_t n, std::uint32_t *out) noexcept {
  if (span_desc *run = best_fit(r.free_runs[1], n)) {
    *out = run_take(r, run, n);
    return true;
  }
  if (take_extended(r, n, out)) return true;
  if (span_desc *run = best_fit(r.free_runs[0], n)) {
    *out = run_take(r, run, n);
  } else if (const std::size_t u = r.next_fresh; take_fresh_locked(r, n)) {
    *out = static_cast<std::uint32_t>(u);
    r.descs[u].zeroed = true;
  } else {
    coalesce_locked(r);
    span_desc *merged = nullptr;  // any run that holds n: the region is full
    for (unsigned b = run_bin(n); b < kRunBins && !merged; ++b)
      for (span_desc *run = r.free_runs[0][b].head; run && !merged; run = run->next)
        if (run->units >= n) merged = run;
    if (!merged) return false;
    *out = run_take(r, merged, n);
  }
  return true;
}

// Refcount pages a span's counts occupy once all its blocks have been handed out: from its
// window's start to its last block's count.
std::size_t count_pages_of(const span_region &r, const span_desc *d) noexcept {
  if (!r.counted) return 0;
  const char *last = static_cast<const char *>(
      count_at(r, d, d->capacity - 1, d->first + std::size_t(d->capacity - 1) * d->block_size));
  return static_cast<std::size_t>(last - d->counts) / kPageSize + 1;
}

// Units [u, u+n) back to the free runs (units_in_use already lowered), committed, then trimmed to
// the retain limit.
void free_units_locked(span_region &r, std::size_t u, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    span_desc &d = r.descs[u + i];
    d.owner.store(nullptr, std::memory_order_relaxed);
    d.state.store(span_state::unused, std::memory_order_release);
  }
  r.committed_free_units += n;
  run_free(r, u, n, true);
  trim_locked(r);
}

void give_units_locked(span_region &r, std::uint32_t u, std::uint32_t n) noexcept {
  r.count_pages_in_use -= count_pages_of(r, &r.descs[u]);
  r.units_in_use -= n;
  --r.spans_in_use;
  free_units_locked(r, u, n);
}
// A span set up for class cls (or one large block of `large` bytes), owned by c; region lock
// held. Every field is written here, under the lock, so that a fork child never finds an owned
// span with stale fields.
// Units a span of class cls (or of one large block of `large` bytes) covers.
std::uint32_t units_for(const span_region &r, unsigned cls, std::size_t large) noexcept {
  return cls == kLargeClass
             ? static_cast<std::uint32_t>((large + r.header_bytes + kSpanBytes - 1) >> kSpanShift)
             : 1;
}

// Writes every field of span d (units [u, u+n)) for class cls, owned by c; the state last.
void span_setup(rca_heap_t *heap, span_cache *c, span_desc *d, std::uint32_t n,
                unsigned cls) noexcept {
  span_region &r = heap->spans;
  const auto u = static_cast<std::uint32_t>(unit_of(r, d));
  for (std::uint32_t i = 1; i < n; ++i) {
    r.descs[u + i].head = u;
    r.descs[u + i].state.store(span_state::tail, std::memory_order_relaxed);
  }
  const std::uint32_t size =
      cls == kLargeClass
          ? static_cast<std::uint32_t>((std::size_t(n) << kSpanShift) - r.header_bytes)
          : class_size(cls);
  d->local_free = nullptr;
  d->thread_free.store(nullptr, std::memory_order_relaxed);
  d->first = unit_address(r, u) + r.header_bytes;
  d->counts = r.counted ? window_of(r, u) : nullptr;
  d->bump.store(0, std::memory_order_relaxed);
  d->used = 0;
  d->block_size = size;
  d->capacity =
      cls == kLargeClass ? 1 : static_cast<std::uint32_t>((kSpanBytes - r.header_bytes) / size);
  d->reciprocal = reciprocal_of(size);
  d->units = n;
  d->head = u;
  d->size_class = static_cast<std::uint8_t>(cls);
  d->in_full = false;
  d->full_flag.store(false, std::memory_order_relaxed);
  d->next = d->prev = nullptr;
  if (r.header_bytes != 0) {
    auto *h = reinterpret_cast<rca_span_header_t *>(unit_address(r, u));
    h->count_base = reinterpret_cast<std::uintptr_t>(count_at(r, d, 0, d->first));
    h->first_block = reinterpret_cast<std::uintptr_t>(d->first);
    h->reciprocal = d->reciprocal;
    h->block_size = size;
    h->heap_id = heap->id;
  }
  d->owner.store(c, std::memory_order_relaxed);
  d->state.store(span_state::owned, std::memory_order_release);
}

// A new span, set up under the region lock, so that a fork child never finds an owned span with
// stale fields (a spare one is set up by its owner: see spare_take).
span_desc *span_new_locked(rca_heap_t *heap, span_cache *c, unsigned cls,
                           std::size_t large) noexcept {
  span_region &r = heap->spans;
  if (cls == kLargeClass && large > (r.units_limit << kSpanShift)) return nullptr;
  const std::uint32_t n = units_for(r, cls, large);
  std::uint32_t u;
  if (!take_units_locked(r, n, &u)) return nullptr;
  span_desc *d = &r.descs[u];
  span_setup(heap, c, d, n, cls);
  r.units_in_use += n;
  if (r.units_in_use > r.units_peak) r.units_peak = r.units_in_use;
  r.count_pages_in_use += count_pages_of(r, d);
  if (r.count_pages_in_use > r.count_pages_peak) r.count_pages_peak = r.count_pages_in_use;
  ++r.spans_in_use;
  // Units that were not committed free came in (no committed run fitted): what is kept may now
  // exceed the limit (the peak RSS would then pass the peak in use), or be runs too short to
  // serve spans like this one. After a committed run, the limit holds as it did.
  trim_locked(r);
  return d;
}

// ---- the owner's side -----------------------------------------------------------------------

// Moves blocks freed by other threads onto the local list. Returns how many.
std::uint32_t collect(span_desc *d) noexcept {
  free_block_link *list = d->thread_free.exchange(nullptr, std::memory_order_acquire);
  if (!list) return 0;
  std::uint32_t n = 1;
  free_block_link *tail = list;
  while (tail->next) {
    tail = tail->next;
    ++n;
  }
  tail->next = d->local_free;
  d->local_free = list;
  d->used -= n;
  return n;
}

void list_add(span_cache *c, span_desc *d) noexcept {
  const unsigned cls = d->size_class;
  if (cls != kLargeClass && has_room(d)) {
    d->in_full = false;
    d->full_flag.store(false, std::memory_order_relaxed);
    c->avail[cls].push_front(d);
  } else {
    d->in_full = true;
    d->full_flag.store(true, std::memory_order_seq_cst);
    c->full[cls].push_front(d);
  }
}

// An emptied span (off the cache's lists) kept as one of the cache's spare ones, when the region
// allows spares and there is room; false: the caller gives it back to the region.
bool keep_spare(span_region &r, span_cache *c, span_desc *d) noexcept {
  if (d->units != 1 || c->spare.count >= r.spare_limit) return false;
  d->in_full = false;
  d->full_flag.store(false, std::memory_order_relaxed);
  d->zeroed = false;
  d->state.store(span_state::spare, std::memory_order_release);
  c->spare.push_front(d);
  return true;
}

void release_span_locked(rca_heap_t *heap, span_desc *d) noexcept {
  give_units_locked(heap->spans, static_cast<std::uint32_t>(unit_of(heap->spans, d)), d->units);
}

void release_spares_locked(rca_heap_t *heap, span_cache *c) noexcept {
  while (span_desc *d = c->spare.head) {
    c->spare.remove(d);
    release_span_locked(heap, d);
  }
}

// Under the region lock: an abandoned span whose blocks may all be free now.
void collect_abandoned_locked(rca_heap_t *heap, span_desc *d) noexcept {
  if (d->state.load(std::memory_order_seq_cst) != span_state::abandoned) return;
  collect(d);
  if (d->used == 0) {
    heap->spans.abandoned[d->size_class].remove(d);
    release_span_locked(heap, d);
  }
}

inline std::uint64_t pending_bit(unsigned cls) noexcept { return std::uint64_t(1) << cls; }

// Whether full spans of class cls got frees by other threads since the last look (and forgets it).
inline bool take_pending(span_cache *c, unsigned cls) noexcept {
  if (!(c->remote_pending.load(std::memory_order_relaxed) & pending_bit(cls))) return false;
  return c->remote_pending.fetch_and(~pending_bit(cls), std::memory_order_acquire) &
         pending_bit(cls);
}

// Full span d (flagged already) back to avail when a free raced with its flagging: the Dekker
// pair with span_free's remote path (flag, then thread_free; thread_free, then flag) makes sure
// one side sees the other, so no free is left on a full span that nobody sweeps.
void recheck_full(span_cache *c, span_desc *d) noexcept {
  if (d->in_full && d->thread_free.load(std::memory_order_seq_cst) && collect(d) > 0) {
    c->full[d->size_class].remove(d);
    list_add(c, d);
  }
}

// Under the region lock: abandoned span d (of a small class) becomes c's, with the blocks freed
// into it meanwhile.
void adopt_locked(rca_heap_t *heap, span_cache *c, span_desc *d) noexcept {
  heap->spans.abandoned[d->size_class].remove(d);
  d->owner.store(c, std::memory_order_seq_cst);
  d->state.store(span_state::owned, std::memory_order_seq_cst);
  collect(d);
  list_add(c, d);
  recheck_full(c, d);
}

// A full span's blocks freed by others: back to avail, or the emptied span kept spare or back to
// the region.
void sweep_full(rca_heap_t *heap, span_cache *c, unsigned cls) noexcept {
  for (span_desc *d = c->full[cls].head, *next; d; d = next) {
    next = d->next;
    if (!d->thread_free.load(std::memory_order_relaxed) || collect(d) == 0) continue;
    c->full[cls].remove(d);
    if (d->used == 0 && (cls == kLargeClass || c->avail[cls].count > 0)) {
      if (keep_spare(heap->spans, c, d)) continue;
      std::lock_guard<std::mutex> g(heap->spans.lock);
      release_span_locked(heap, d);
    } else {
      list_add(c, d);
    }
  }
}

// Moves the exhausted head span to the full list (a free that raced is not missed: recheck_full).
void retire_to_full(span_cache *c, span_desc *d) noexcept {
  c->avail[d->size_class].remove(d);
  d->in_full = true;
  d->full_flag.store(true, std::memory_order_seq_cst);
  c->full[d->size_class].push_front(d);
  recheck_full(c, d);
}

// A span of class cls (or one large block of `large` bytes) from the cache's spare ones, set up
// by its owner without the region lock; null when there is none or it needs several units.
// While it is set up its state stays spare, so a fork child that finds it so gives it back.
span_desc *spare_take(rca_heap_t *heap, span_cache *c, unsigned cls, std::size_t large) noexcept {
  span_desc *d = c->spare.head;
  if (!d || units_for(heap->spans, cls, large) != 1) return nullptr;
  c->spare.remove(d);
  span_setup(heap, c, d, 1, cls);
  return d;
}

// A span of class cls with room, when the cache's head span has none.
span_desc *refill(rca_heap_t *heap, span_cache *c, unsigned cls) noexcept {
  while (span_desc *d = c->avail[cls].head) {
    if (has_room(d) || collect(d) > 0) return d;
    retire_to_full(c, d);
    if (c->avail[cls].head == d) return d;  // collected while retiring
  }
  // Large blocks freed by other threads go back too, for a thread that no longer makes any.
  if (take_pending(c, kLargeClass)) sweep_full(heap, c, kLargeClass);
  if (take_pending(c, cls)) {
    sweep_full(heap, c, cls);
    if (span_desc *d = c->avail[cls].head) return d;
  }
  if (span_desc *d = spare_take(heap, c, cls, 0)) {
    c->avail[cls].push_front(d);
    return d;
  }
  span_region &r = heap->spans;
  std::lock_guard<std::mutex> g(r.lock);
  while (span_desc *d = r.abandoned[cls].head) {
    adopt_locked(heap, c, d);
    if (!d->in_full) return d;
  }
  span_desc *d = span_new_locked(heap, c, cls, 0);
  if (d) c->avail[cls].push_front(d);
  return d;
}

// The next block of a span with room (owner only).
[[gnu::always_inline]] inline char *span_take(span_desc *d) noexcept {
  // Blocks other threads freed before a block never handed out (mimalloc's order): a span whose
  // blocks another thread frees would otherwise grow its bump to the end before it reused one,
  // and the whole-heap count walks cost every block below the bump.
  if (!d->local_free && d->thread_free.load(std::memory_order_relaxed)) collect(d);
  if (free_block_link *b = d->local_free) {
    d->local_free = b->next;
    return reinterpret_cast<char *>(b);
  }
  const std::uint32_t i = d->bump.load(std::memory_order_relaxed);
  if (i >= d->capacity) return nullptr;
  d->bump.store(i + 1, std::memory_order_relaxed);
  return d->first + std::size_t(i) * d->block_size;
}

span_desc *large_new(rca_heap_t *heap, span_cache *c, std::size_t size) noexcept {
  if (take_pending(c, kLargeClass)) sweep_full(heap, c, kLargeClass);
  span_desc *d = spare_take(heap, c, kLargeClass, size);
  if (!d) {
    std::lock_guard<std::mutex> g(heap->spans.lock);
    d = span_new_locked(heap, c, kLargeClass, size);
  }
  if (!d) return nullptr;
  d->in_full = true;
  d->full_flag.store(true, std::memory_order_seq_cst);
  c->full[kLargeClass].push_front(d);
  return d;
}

void *cache_alloc(rca_heap_t *heap, span_cache *c, std::size_t size, std::uint64_t init) noexcept {
  span_region &r = heap->spans;
  span_desc *d;
  char *block = nullptr;
  if (size <= kSmallBlockMax) [[likely]] {
    const unsigned cls = class_of(size);
    d = c->avail[cls].head;
    if (d) [[likely]]
      block = span_take(d);
    if (!block) [[unlikely]] {
      if (!(d = refill(heap, c, cls))) return nullptr;
      block = span_take(d);
    }
  } else {
    if (!(d = large_new(heap, c, size))) return nullptr;
    block = span_take(d);
  }
  ++d->used;
  if (r.counted) {
    void *count = r.granule ? count_at(r, d, 0, block)
                            : count_at(r, d,
                                       static_cast<std::uint32_t>(
                                           (std::uint64_t(block - d->first) * d->reciprocal) >> 32),
                                       block);
    count_store(r, count, init);
  }
  return block;
}

}  // namespace

// A free by the span's owner (or under pool_lock for the heap's fallback cache).
void cache_free_local(rca_heap_t *heap, span_cache *c, span_desc *d, void *p) noexcept {
  auto *b = static_cast<free_block_link *>(p);
  b->next = d->local_free;
  d->local_free = b;
  const unsigned cls = d->size_class;
  if (--d->used == 0 && (cls == kLargeClass || c->avail[cls].count > (d->in_full ? 0u : 1u))) {
    // Empty, and not the class's last span with room: kept spare, or back to the region.
    (d->in_full ? c->full[cls] : c->avail[cls]).remove(d);
    if (keep_spare(heap->spans, c, d)) return;
    std::lock_guard<std::mutex> g(heap->spans.lock);
    release_span_locked(heap, d);
    return;
  }
  if (d->in_full) {
    // Back among the spans with room, behind the head, which keeps serving: as the head, a span
    // that got one block back would serve that block and run dry at the next allocation, a slow
    // path for each free into a full span (pymix: one malloc in seven).
    c->full[cls].remove(d);
    d->in_full = false;
    d->full_flag.store(false, std::memory_order_relaxed);
    c->avail[cls].push_second(d);
  }
}

namespace {

[[noreturn]] void bad_free(const rca_heap_t *heap, const void *p, const char *what,
                           const char *why) noexcept {
  char desc[128];
  fatal("%s: %p is %s of %s", what, p, why, describe(heap, desc, sizeof desc));
}

// The span holding block p and its index, or an abort naming what is wrong with p.
span_desc *checked_block(const rca_heap_t *heap, const void *p, const char *what,
                         std::uint32_t *index) noexcept {
  const span_region &r = heap->spans;
  const char *q = static_cast<const char *>(p);
  if (q < r.base || q >= r.base + (r.units_limit << kSpanShift))
    bad_free(heap, p, what, "not a block (outside the object region)");
  span_desc *d = &r.descs[static_cast<std::size_t>(q - r.base) >> kSpanShift];
  const span_state st = d->state.load(std::memory_order_acquire);
  if (st == span_state::tail) bad_free(heap, p, what, "an interior pointer (inside a large block)");
  if (st == span_state::unused || st == span_state::spare)
    bad_free(heap, p, what, "not a block (in a free span: freed twice?)");
  if (q < d->first) bad_free(heap, p, what, "not a block (in a span header)");
  const std::uint64_t off = static_cast<std::uint64_t>(q - d->first);
  const std::uint32_t i = static_cast<std::uint32_t>((off * d->reciprocal) >> 32);
  if (std::uint64_t(i) * d->block_size != off) bad_free(heap, p, what, "an interior pointer");
  if (i >= d->bump.load(std::memory_order_relaxed))
    bad_free(heap, p, what, "not a block (never handed out)");
  *index = i;
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Region lifetime
// ---------------------------------------------------------------------------------------------

int spans_init(span_region &r, std::size_t object_limit, bool granule, unsigned slot_width,
               std::size_t retain_pages) noexcept {
  r.granule = granule;
  r.slot_width = slot_width;
  r.units_limit = std::max<std::size_t>(1, (object_limit + kSpanBytes - 1) >> kSpanShift);
  r.retain_units = retain_pages * kPageSize / kSpanBytes;
  r.window_bytes = (kSpanBytes / kGranule) * slot_width;
  // Aligned units: reserve one unit more and start at the first aligned address inside.
  r.reservation_bytes = (r.units_limit + 1) << kSpanShift;
  if (int e = prim::reserve(r.reservation_bytes, &r.reservation)) {
    set_error(e, "cannot reserve %zu bytes for object spans", r.reservation_bytes);
    return e;
  }
  const auto raw = reinterpret_cast<std::uintptr_t>(r.reservation);
  r.base = reinterpret_cast<char *>((raw + kSpanBytes - 1) & ~std::uintptr_t(kSpanBytes - 1));
  int e = 0;
  if (r.counted) {
    r.counts_reserved = r.units_limit * r.window_bytes;
    void *counts = nullptr;
    e = prim::reserve(r.counts_reserved, &counts);
    if (e) {
      set_error(e, "cannot reserve %zu bytes for the spans' counts", r.counts_reserved);
      spans_destroy(r);
      return e;
    }
    r.counts = static_cast<char *>(counts);
    r.granule_bias = reinterpret_cast<std::uintptr_t>(r.counts) -
                     (reinterpret_cast<std::uintptr_t>(r.base) >> RCA_GRANULE_SHIFT) * slot_width;
  }
  r.descs_bytes = (r.units_limit * sizeof(span_desc) + kPageSize - 1) / kPageSize * kPageSize;
  void *descs = nullptr;
  e = prim::reserve(r.descs_bytes, &descs);
  if (e == 0) e = prim::commit(descs, r.descs_bytes);
  if (e) {
    if (descs) prim::release(descs, r.descs_bytes);
    set_error(e, "cannot map %zu bytes of span descriptors", r.descs_bytes);
    spans_destroy(r);
    return e;
  }
  r.descs = static_cast<span_desc *>(descs);  // zero: every unit unused
  return 0;
}

std::size_t spans_retain_limit(const span_region &r) noexcept { return retain_limit(r); }

void spans_destroy(span_region &r) noexcept {
  if (r.reservation) prim::release(r.reservation, r.reservation_bytes);
  if (r.counts) prim::release(r.counts, r.counts_reserved);
  if (r.descs) prim::release(r.descs, r.descs_bytes);
  r.reservation = nullptr;
  r.base = r.counts = nullptr;
  r.descs = nullptr;
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

void *span_alloc(rca_heap_t *heap, pool *mine, std::size_t size, bool raw) noexcept {
  const std::uint64_t init = raw ? raw_mark(heap->spans) : 1;
  void *p;
  if (mine) [[likely]] {
    p = cache_alloc(heap, &mine->spans, size, init);
  } else {
    std::lock_guard<spin_lock> g(heap->pool_lock);
    p = cache_alloc(heap, &heap->shared_spans, size, init);
  }
  if (!p) {
    char desc[128];
    set_error(ENOMEM, "%s: object memory exhausted for %zu bytes (object_limit %zu bytes)",
              describe(heap, desc, sizeof desc), size, heap->spans.units_limit << kSpanShift);
  }
  return p;
}

std::size_t span_free(rca_heap_t *heap, pool *mine, void *p, const char *what) noexcept {
  span_region &r = heap->spans;
  std::uint32_t index;
  span_desc *d = checked_block(heap, p, what, &index);
  const std::size_t bytes = d->block_size;
  span_cache *owner = d->owner.load(std::memory_order_relaxed);
  if (r.counted) {
    void *count = count_at(r, d, index, p);
    if (count_load(r, count) == free_mark(r)) bad_free(heap, p, what, "a block freed twice");
    count_store(r, count, free_mark(r));
    forget_saved_count(heap, count);
  } else if (mine && owner == &mine->spans && d->local_free == p) {
    // Without counts only the owner's latest free of the span is recognised (no state per block).
    bad_free(heap, p, what, "a block freed twice");
  }

  if (mine && owner == &mine->spans) [[likely]] {
    cache_free_local(heap, owner, d, p);
    return bytes;
  }
  if (owner == &heap->shared_spans) {
    std::lock_guard<spin_lock> g(heap->pool_lock);
    if (d->owner.load(std::memory_order_relaxed) == &heap->shared_spans) {
      cache_free_local(heap, &heap->shared_spans, d, p);
      return bytes;
    }
  }
  // Another thread's span, or an abandoned one: push on its thread_free list.
  span_push_remote(heap, mine, d, p);
  return bytes;
}

void span_remote_pushed_slow(rca_heap_t *heap, pool *mine, span_desc *d) noexcept {
  if (d->state.load(std::memory_order_seq_cst) == span_state::abandoned) {
    // Nobody would collect it: do it here (abandoning marks the span before collecting, so one
    // of the two sides sees this block). A thread with a cache takes the span over, as
    // mimalloc's reclaim on free does: a successor thread freeing what an exited one made (a
    // server's worker pool) then takes the region lock once per span, not once per block.
    std::lock_guard<std::mutex> g(heap->spans.lock);
    collect_abandoned_locked(heap, d);
    if (mine && d->state.load(std::memory_order_relaxed) == span_state::abandoned)
      adopt_locked(heap, &mine->spans, d);
  } else if (d->full_flag.load(std::memory_order_seq_cst)) {
    if (span_cache *o = d->owner.load(std::memory_order_acquire))
      o->remote_pending.fetch_or(pending_bit(d->size_class), std::memory_order_release);
  }
}

bool span_resize_large(rca_heap_t *heap, void *p, std::size_t size) noexcept {
  span_region &r = heap->spans;
  std::uint32_t index;
  span_desc *d = checked_block(heap, p, "realloc", &index);
  if (d->size_class != kLargeClass || size <= kSmallBlockMax ||
      size > std::min<std::size_t>(r.units_limit << kSpanShift, UINT32_MAX - kSpanBytes))
    return false;
  const std::uint32_t n = units_for(r, kLargeClass, size);
  std::lock_guard<std::mutex> g(r.lock);
  const std::uint32_t u = static_cast<std::uint32_t>(unit_of(r, d)), old = d->units;
  if (n < old) {
    r.units_in_use -= old - n;
    free_units_locked(r, u + n, old - n);
  } else if (n > old) {
    // The units after the block: a free run long enough, or fresh ones.
    const std::uint32_t next = u + old, extra = n - old;
    bool zeroed = true;
    if (next == r.next_fresh) {
      if (!take_fresh_locked(r, extra)) return false;
    } else if (next < r.next_fresh &&
               r.descs[next].state.load(std::memory_order_relaxed) == span_state::unused &&
               r.descs[next].units >= extra) {
      zeroed = !r.descs[next].committed_free;
      run_take(r, &r.descs[next], extra);
    } else {
      return false;
    }
    for (std::uint32_t i = old; i < n; ++i) {
      r.descs[u + i].head = u;
      r.descs[u + i].state.store(span_state::tail, std::memory_order_relaxed);
    }
    r.units_in_use += extra;
    if (r.units_in_use > r.units_peak) r.units_peak = r.units_in_use;
    if (zeroed) trim_locked(r);
  }
  const auto bytes = static_cast<std::uint32_t>((std::size_t(n) << kSpanShift) - r.header_bytes);
  d->units = n;
  d->block_size = bytes;
  d->reciprocal = reciprocal_of(bytes);
  if (r.header_bytes != 0) {
    auto *h = reinterpret_cast<rca_span_header_t *>(unit_address(r, u));
    h->block_size = bytes;
    h->reciprocal = d->reciprocal;
  }
  return true;
}

void *span_realloc(rca_heap_t *heap, pool *mine, void *p, std::size_t size) noexcept {
  std::uint32_t index;
  const std::size_t old = checked_block(heap, p, "rca_realloc", &index)->block_size;
  if (size <= old && size > old / 2) return p;
  void *q = span_alloc(heap, mine, size, true);
  if (!q) return nullptr;
  std::memcpy(q, p, size < old ? size : old);
  span_free(heap, mine, p, "rca_realloc");
  return q;
}

std::size_t span_usable_size(const rca_heap_t *heap, const void *p) noexcept {
  const span_region &r = heap->spans;
  const span_desc *d =
      &r.descs[static_cast<std::size_t>(static_cast<const char *>(p) - r.base) >> kSpanShift];
  return d->block_size;
}

void *span_count_of(const rca_heap_t *heap, const void *p) noexcept {
  const span_region &r = heap->spans;
  if (r.granule) return rca_computed_granule_count(r.granule_bias, p, r.slot_width);
  return rca_computed_span_count(p, r.slot_width);
}

// ---------------------------------------------------------------------------------------------
// Threads that exit, threads that a fork left behind
// ---------------------------------------------------------------------------------------------

void spans_abandon(rca_heap_t *heap, span_cache *c) noexcept {
  span_region &r = heap->spans;
  std::lock_guard<std::mutex> g(r.lock);
  release_spares_locked(heap, c);
  for (unsigned cls = 0; cls <= kLargeClass; ++cls)
    for (span_list *l : {&c->avail[cls], &c->full[cls]}) {
      while (span_desc *d = l->head) {
        l->remove(d);
        d->in_full = false;
        d->full_flag.store(false, std::memory_order_relaxed);
        d->owner.store(nullptr, std::memory_order_seq_cst);
        d->state.store(span_state::abandoned, std::memory_order_seq_cst);
        r.abandoned[cls].push_front(d);
        collect_abandoned_locked(heap, d);
      }
    }
  c->remote_pending.store(0, std::memory_order_relaxed);
}

void spans_abandon_after_fork(rca_heap_t *heap, span_cache *c) noexcept {
  span_region &r = heap->spans;
  std::lock_guard<std::mutex> g(r.lock);
  for (std::size_t u = 0; u < r.next_fresh; ++u) {
    span_desc *d = &r.descs[u];
    const span_state st = d->state.load(std::memory_order_relaxed);
    if ((st != span_state::owned && st != span_state::spare) ||
        d->owner.load(std::memory_order_relaxed) != c)
      continue;
    if (st == span_state::spare) {  // empty (or being set up from empty): back to the region
      release_span_locked(heap, d);
      continue;
    }
    // The lists are the truth: `used` may be a step behind them. A walk is bounded by the
    // capacity, so a list torn mid-push ends where the push had got to.
    // Blocks on thread_free still count as used until collect_abandoned_locked takes them.
    std::uint32_t free_blocks = 0;
    for (free_block_link *b = d->local_free; b && free_blocks < d->capacity; b = b->next)
      ++free_blocks;
    const std::uint32_t bump = d->bump.load(std::memory_order_relaxed);
    d->used = bump > free_blocks ? bump - free_blocks : 0;
    d->in_full = false;
    d->full_flag.store(false, std::memory_order_relaxed);
    d->next = d->prev = nullptr;
    d->owner.store(nullptr, std::memory_order_relaxed);
    d->state.store(span_state::abandoned, std::memory_order_relaxed);
    r.abandoned[d->size_class].push_front(d);
    collect_abandoned_locked(heap, d);
  }
  for (unsigned cls = 0; cls <= kLargeClass; ++cls) {
    c->avail[cls] = span_list{};
    c->full[cls] = span_list{};
  }
  c->spare = span_list{};
  c->remote_pending.store(0, std::memory_order_relaxed);
}

std::size_t spans_trim(rca_heap_t *heap, span_cache *c, std::size_t keep_units) noexcept {
  span_region &r = heap->spans;
  std::lock_guard<std::mutex> g(r.lock);
  if (c) release_spares_locked(heap, c);
  const std::size_t before = r.committed_free_units;
  if (before > keep_units) trim_to_locked(r, keep_units);
  return before - r.committed_free_units;
}

// ---------------------------------------------------------------------------------------------
// Whole-heap walks
// ---------------------------------------------------------------------------------------------

namespace {
constexpr bool classes_are_whole_granules() {
  for (unsigned c = 0; c < kSizeClasses; ++c)
    if (class_size(c) % kGranule != 0) return false;
  return true;
}
static_assert(classes_are_whole_granules(), "spans_for_each_count strides by whole granules");

template <class T>
void walk_counts(char *c, std::size_t stride, std::uint32_t n, std::uint64_t free_m,
                 std::uint64_t raw_m, void (*fn)(void *count, void *arg), void *arg) {
  for (std::uint32_t i = 0; i < n; ++i, c += stride) {
    const std::uint64_t v = __atomic_load_n(reinterpret_cast<const T *>(c), __ATOMIC_RELAXED);
    if (v != free_m && v != raw_m) fn(c, arg);
  }
}
}  // namespace

void spans_for_each_count(rca_heap_t *heap, void (*fn)(void *count, void *arg), void *arg) {
  span_region &r = heap->spans;
  std::lock_guard<std::mutex> g(r.lock);
  const std::uint64_t free_m = free_mark(r), raw_m = raw_mark(r);
  for (std::size_t u = 0; u < r.next_fresh; ++u) {
    span_desc *d = &r.descs[u];
    const span_state st = d->state.load(std::memory_order_relaxed);
    if (st != span_state::owned && st != span_state::abandoned) continue;
    // A span with no block in use has no live count: skipped, so a long-lived heap's walk costs
    // its spans in use, not every span it ever filled (a fuzzer that frees everything between
    // inputs spent a third of its time here, perf). `used` only lags above the truth (blocks
    // other threads freed wait on thread_free until collected, their counts marked free
    // already), never below it. The owner writes it without atomics (an atomic `used`, updated
    // by load and store, cost rca malloc 1-2 % more instructions); read here as the counts are,
    // a walk while the owner allocates sees each as of some moment (rca_malloc_stats reads it so).
    if (__atomic_load_n(&d->used, __ATOMIC_RELAXED) == 0) continue;
    const std::uint32_t bump = d->bump.load(std::memory_order_relaxed);
    if (bump == 0) continue;
    // Block i's count is block 0's plus i strides: count_at's formula with the index taken out
    // of the loop (block sizes are multiples of the granule; a large span has one block).
    char *c = static_cast<char *>(count_at(r, d, 0, d->first));
    const std::size_t stride =
        r.granule ? std::size_t(d->block_size >> RCA_GRANULE_SHIFT) * r.slot_width : r.slot_width;
    if (r.slot_width == 4) walk_counts<std::uint32_t>(c, stride, bump, free_m, raw_m, fn, arg);
    else walk_counts<std::uint64_t>(c, stride, bump, free_m, raw_m, fn, arg);
  }
}

std::size_t spans_count_pages(rca_heap_t *heap, std::size_t *peak) noexcept {
  span_region &r = heap->spans;
  std::lock_guard<std::mutex> g(r.lock);
  if (peak) *peak = r.count_pages_peak;
  return r.count_pages_in_use;
}

}  // namespace rca::detail
