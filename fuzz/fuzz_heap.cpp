// Fuzz target: random operation sequences on long-lived heaps, checked step by step against a
// model.
//
// An input is a heap configuration (2 bytes) followed by operations of 3 bytes each (op, a, b):
// alloc / free / incref / decref / release / freeze / thaw / bare slots (one at a time, or by
// rca_slot_alloc_batch and rca_slot_free_batch) / count overflow / raw memory / frees and
// allocations from another thread (a long-lived helper, or a new thread that exits at once) /
// cross-heap misuse, asked about / misuse done. The configuration picks one of
// the process's heaps, made on first use and never destroyed (making and destroying a heap per
// input cost most of the time: mmap and munmap of the arena, descriptors and tags); each input
// frees everything it made, so every input starts from an empty heap. Misuse done (a double or
// foreign free, the generic operations on a freed object, an embedded bare slot that is not live)
// must abort with rca's message: the target sets the library's fatal_hook, which jumps back here,
// and the next full check finds the heap still exactly the model (rca's checks run before
// anything changes). It is done only where rca promises to catch it and where touching the
// pointer is itself defined here: a freed object's header is read only when the heap tracks its
// objects (the registry answers first) or when its memory is jemalloc's (ASan does not watch it,
// and jemalloc leaves freed bytes alone). Asked-about misuse: the heap's validation (the registry,
// the arena's page descriptors, the arena range) must not take a foreign or dead pointer for its
// own.
//
// The model holds every live object, bare slot and raw block with its exact count value, and
// after each step the heap must agree with it: counts, stats (live objects, live slots, object
// bytes), and the refcount pages rca_heap_visit_pages reports (live slots per page equal the
// model's, every live slot lies in a reported page, no two live things share a slot).
//
// Built two ways (fuzz/CMakeLists.txt): with libFuzzer (clang, fuzz/run.sh), and without, as a
// replay driver that runs the seed corpus plus fixed-seed random inputs under ctest.
// RCA_FUZZ_PLACEMENTS=shared,thread restricts the placements an input may pick (fuzz/run.sh
// runs one placement set at a time).
#include <rca/rca.h>

#include "internal.h"  // validation: slot_is_live, registry_contains, arena_page_of

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using rca::detail::block_kind;

// Where a check failed: the input's heap, its step, the misuse expected. Formatted only on
// failure (formatting it at every step was a measurable part of an input's time).
struct context {
  const rca_config_t *cfg = nullptr;
  int step = -1;
  const char *want = nullptr;  // the message a misuse done should have had
};
context g_ctx;

const char *describe_context() {
  static char buf[256];
  const rca_config_t *c = g_ctx.cfg;
  if (!c) return "no heap yet";
  const bool computed = c->placement == RCA_PLACEMENT_COMPUTED;
  int n =
      std::snprintf(buf, sizeof buf, "%s, %s %s, %u-bit, checks %d, track %d, %s, limit %zu",
                    rca_placement_name(c->placement),
                    computed ? rca_address_name(c->address) : rca_handle_kind_name(c->handle_kind),
                    computed ? "address" : "handle", c->slot_bits, c->checks, c->track_objects,
                    rca_backend_name(c->backend), c->arena_limit);
  if (g_ctx.step >= 0 && n > 0 && std::size_t(n) < sizeof buf)
    n += std::snprintf(buf + n, sizeof buf - n, ", step %d", g_ctx.step);
  else if (n > 0 && std::size_t(n) < sizeof buf)
    n += std::snprintf(buf + n, sizeof buf - n, ", after the last step");
  if (g_ctx.want && n > 0 && std::size_t(n) < sizeof buf)
    std::snprintf(buf + n, sizeof buf - n, " [%s]", g_ctx.want);
  return buf;
}

[[noreturn]] void fail(int line, const char *cond) {
  std::fprintf(stderr, "fuzz_heap: check failed at fuzz_heap.cpp:%d: %s\n  context: %s\n", line,
               cond, describe_context());
  std::abort();
}
#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) fail(__LINE__, #c);                                                                  \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

struct reader {
  const std::uint8_t *p;
  std::size_t n;
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
};

// Placements an input may pick (computed is the last placement, so byte 0 of the older corpus,
// 0..4, still picks what it picked).
unsigned g_allowed = (1u << RCA_PLACEMENT_COUNT) - 1;

// Misuse done on purpose: rca's fatal() calls this hook, which jumps back to expect_fatal.
sigjmp_buf g_fatal_jump;
bool g_fatal_armed = false;
char g_fatal_msg[512];
void on_fatal(const char *msg) noexcept {
  if (!g_fatal_armed) {  // a real failure: report it as rca would
    std::fprintf(stderr, "rca: %s\n  context: %s\n", msg, describe_context());
    std::abort();
  }
  std::snprintf(g_fatal_msg, sizeof g_fatal_msg, "%s", msg);
  g_fatal_armed = false;
  siglongjmp(g_fatal_jump, 1);
}

// Foreign heaps: their objects and slots are never ours. Made once, never changed.
struct foreign_set {
  rca_heap_t *shared_ptr = nullptr, *shared_idx = nullptr, *inl = nullptr, *emb = nullptr,
             *computed = nullptr;
  std::uint64_t emb_slot = 0;         // a live bare slot of `emb`
  std::vector<void *> objs;           // objects of the three heaps
  std::vector<void *> slot_ptrs;      // their arena slots (pointer and index heap)
  std::vector<void *> computed_objs;  // objects of a computed heap (freed into computed heaps)
};
foreign_set *g_foreign = nullptr;

void make_foreign() {
  g_foreign = new foreign_set();
  rca_config_t c;
  rca_config_init(&c);
  c.checks = 1;
  c.arena_limit = 64 * 1024;
  g_foreign->shared_ptr = rca_heap_new(&c);
  c.handle_kind = RCA_HANDLE_KIND_INDEX;
  g_foreign->shared_idx = rca_heap_new(&c);
  c.placement = RCA_PLACEMENT_INLINE;
  g_foreign->inl = rca_heap_new(&c);
  for (rca_heap_t *h : {g_foreign->shared_ptr, g_foreign->shared_idx, g_foreign->inl}) {
    if (!h) {
      std::fprintf(stderr, "fuzz_heap: cannot make foreign heaps: %s\n", rca_last_error());
      std::abort();
    }
    for (int i = 0; i < 3; ++i) {
      void *o = rca_obj_alloc(h, 32);
      g_foreign->objs.push_back(o);
      if (h != g_foreign->inl) g_foreign->slot_ptrs.push_back(rca_obj_slot(h, o));
    }
  }
  c.placement = RCA_PLACEMENT_EMBEDDED;
  c.handle_kind = RCA_HANDLE_KIND_POINTER;
  g_foreign->emb = rca_heap_new(&c);
  if (!g_foreign->emb || !rca_slot_alloc(g_foreign->emb, &g_foreign->emb_slot)) std::abort();
  c.placement = RCA_PLACEMENT_COMPUTED;
  g_foreign->computed = rca_heap_new(&c);
  if (!g_foreign->computed) std::abort();
  for (std::size_t size : {16, 32, 48})
    g_foreign->computed_objs.push_back(rca_obj_alloc(g_foreign->computed, size));
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

struct obj_m {
  void *p;
  std::uint64_t raw;    // the exact count value the heap must report
  std::uint64_t saved;  // the value freeze kept aside (0: none)
  std::size_t usable;   // backend usable size, for object_bytes
  std::size_t size;     // requested size
  std::uint32_t tag;    // written after the header, checked at free: no two objects overlap
};
struct slot_m {
  rca_handle_t h;
  void *ptr;
  std::uint64_t raw, saved;
  void *embedded_mem;  // embedded heaps: the caller's memory that holds the slot
};
struct raw_m {
  void *p;
  std::size_t size, usable;
  std::uint8_t fill;
};

struct model {
  rca_heap_t *heap = nullptr;
  bool *helpers_ever = nullptr;  // a helper thread ever used this (long-lived) heap
  rca_config_t cfg{};
  bool arena = false;     // has refcount pages (an arena of slots)
  bool computed = false;  // counts found from the object's address, in the spans' count windows
  unsigned bytes = 4;     // slot width
  unsigned stride = 4;
  std::size_t capacity = 0;      // slots per refcount page
  std::size_t usable_pages = 0;  // pages the arena may hand out
  std::uint64_t fbit = 0, fval = 0, max_live = 0;
  std::uint32_t next_tag = 1;
  std::vector<obj_m> objs;
  std::vector<slot_m> slots;
  std::vector<raw_m> raws;
  std::vector<void *> dead;              // objects this input freed (their memory may be reused)
  std::vector<rca_handle_t> dead_slots;  // bare slots this input freed (embedded: addresses)

  // Ready for the next input: every field as new, the vectors emptied but their memory kept
  // (growing them again for every input was ASan allocations and page faults: perf).
  void reset() {
    auto o = std::move(objs);
    auto s = std::move(slots);
    auto r = std::move(raws);
    auto d = std::move(dead);
    auto ds = std::move(dead_slots);
    *this = model{};
    objs = std::move(o), slots = std::move(s), raws = std::move(r), dead = std::move(d),
    dead_slots = std::move(ds);
    objs.clear(), slots.clear(), raws.clear(), dead.clear(), dead_slots.clear();
  }

  bool frozen(std::uint64_t v) const { return (v & fbit) != 0; }
  void incref(std::uint64_t &v) const {
    if (!frozen(v)) v = (v + 1) & (bytes == 4 ? 0xffffffffull : ~0ull);
  }
  bool decref(std::uint64_t &v) const {
    if (frozen(v)) return false;
    return --v == 0;
  }
  std::size_t live_slots() const {
    return (cfg.placement == RCA_PLACEMENT_INLINE || computed ? 0 : objs.size()) + slots.size();
  }
  std::size_t arena_slots() const { return arena ? objs.size() + slots.size() : 0; }
};

std::uint64_t load_slot(const model &m, const void *s) {
  return m.bytes == 4 ? __atomic_load_n(static_cast<const std::uint32_t *>(s), __ATOMIC_RELAXED)
                      : __atomic_load_n(static_cast<const std::uint64_t *>(s), __ATOMIC_RELAXED);
}
void store_slot(const model &m, void *s, std::uint64_t v) {
  if (m.bytes == 4)
    __atomic_store_n(static_cast<std::uint32_t *>(s), static_cast<std::uint32_t>(v),
                     __ATOMIC_RELAXED);
  else __atomic_store_n(static_cast<std::uint64_t *>(s), v, __ATOMIC_RELAXED);
}
// The generic semantics the heap's rca_obj_incref uses, applied to a bare slot.
constexpr unsigned kFlags = RCA_RC_ATOMIC | RCA_RC_FREEZE_CHECK | RCA_RC_CHECKED;
void slot_incref(const model &m, void *s) {
  if (m.bytes == 4) rca_rc32_incref(static_cast<std::uint32_t *>(s), kFlags);
  else rca_rc64_incref(static_cast<std::uint64_t *>(s), kFlags);
}
bool slot_decref(const model &m, void *s) {
  return m.bytes == 4 ? rca_rc32_decref(static_cast<std::uint32_t *>(s), kFlags)
                      : rca_rc64_decref(static_cast<std::uint64_t *>(s), kFlags);
}

bool in_arena(const model &m, const void *p) {
  void *lo, *hi;
  rca_heap_arena_range(m.heap, &lo, &hi);
  return lo && p >= lo && p < hi;
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

void check_obj(const model &m, const obj_m &o) {
  CHECK(rca_obj_count(m.heap, o.p) == o.raw);
  void *s = rca_obj_slot(m.heap, o.p);
  switch (m.cfg.placement) {
    case RCA_PLACEMENT_INLINE: CHECK(s == o.p); break;
    case RCA_PLACEMENT_EMBEDDED: CHECK(s == static_cast<char *>(o.p) + sizeof(void *)); break;
    case RCA_PLACEMENT_COMPUTED:
      // The count is where the caller's address function finds it from the object's address:
      // in the heap's count windows, never in object memory.
      if (m.cfg.address == RCA_ADDRESS_GRANULE)
        CHECK(s == rca_computed_granule_count(rca_computed_bias(m.heap), o.p, m.bytes));
      else CHECK(s == rca_computed_span_count(o.p, m.bytes));
      CHECK(in_arena(m, s) && !in_arena(m, o.p));
      CHECK(reinterpret_cast<std::uintptr_t>(s) % m.bytes == 0);
      break;
    default:
      CHECK(in_arena(m, s));
      CHECK(rca::detail::slot_is_live(m.heap, s));
      if (m.cfg.handle_kind == RCA_HANDLE_KIND_INDEX)
        CHECK(s == rca_slot_ptr(m.heap, *static_cast<const std::uint32_t *>(o.p)));
  }
  if (o.size >= rca_header_size(m.heap) + 4) {
    std::uint32_t t;
    std::memcpy(&t, static_cast<char *>(o.p) + rca_header_size(m.heap), 4);
    CHECK(t == o.tag);
  }
  if (m.heap->tracking) CHECK(rca::detail::registry_contains(m.heap, o.p, block_kind::object));
}

// After every step: the heap's live counts (cheap; the rest waits for check_all).
void check_counts(const model &m) {
  rca_stats_t st;
  rca_heap_stats(m.heap, &st);
  CHECK(st.live_objects == m.objs.size());
  CHECK(st.live_slots == m.live_slots());
}

void check_stats(const model &m) {
  rca_stats_t st;
  rca_heap_stats(m.heap, &st);
  if (st.events_counted) {  // (a build with RCA_STATS=OFF has no event counters to compare)
    CHECK(st.live_objects == m.objs.size());
    CHECK(st.live_slots == m.live_slots());
    std::size_t bytes = 0;
    for (const obj_m &o : m.objs) bytes += o.usable;
    for (const raw_m &r : m.raws) bytes += r.usable;
    CHECK(st.object_bytes == bytes);
  }
  if (m.arena) {
    CHECK(st.refcount_pages <= m.usable_pages);
    CHECK(st.refcount_pages <= st.refcount_pages_peak);
    CHECK(st.refcount_pages * m.capacity >= m.arena_slots());
  } else if (m.computed) {  // the count pages of the spans in use
    CHECK(st.refcount_pages <= st.refcount_pages_peak);
    CHECK(st.refcount_pages * m.capacity >= m.objs.size());
  } else {
    CHECK(st.refcount_pages == 0);
  }
}

struct page_seen {
  char *page;
  std::size_t live;
};
void visit(void *page, std::size_t page_bytes, std::size_t live, void *arg) {
  CHECK(page_bytes == rca::detail::kPageSize);
  static_cast<std::vector<page_seen> *>(arg)->push_back({static_cast<char *>(page), live});
}

// Objects checked in full by check_all; beyond that a rotating sample of them is (each object
// is checked in full when it is made, used or freed one by one, and every count below).
constexpr std::size_t kFullChecks = 64;

// The model's live slot addresses of an arena or computed heap, tallied by refcount page: a
// sparse set of pages (dense tallies, an index by page number that is never cleared), each with
// the slots it holds and a bitmap of the 4-byte positions taken. Linear in the slots, where
// sorting their addresses was a fifth of the fuzzer's time (perf).
class page_tallies {
 public:
  struct tally {
    std::size_t page;  // page number from the range's start
    std::size_t live;
    std::uint64_t taken[rca::detail::kPageSize / 4 / 64];
  };
  // `lo`: the start of the heap's range; pages are numbered from the one that holds it.
  void reset(const void *lo) {
    first_ = number(lo);
    tallies_.clear();
  }
  // Counts the slot at `s` (in the range, 4-byte aligned); false if one counted before lies there.
  bool add(const void *s) {
    const std::size_t page = number(s) - first_;
    // Consecutive slots mostly share a page: the last one's tally first.
    tally &t = last_ < tallies_.size() && tallies_[last_].page == page ? tallies_[last_] : at(page);
    last_ = static_cast<std::size_t>(&t - tallies_.data());
    const std::size_t bit = reinterpret_cast<std::uintptr_t>(s) % rca::detail::kPageSize / 4;
    const std::uint64_t mask = std::uint64_t(1) << (bit % 64);
    if (t.taken[bit / 64] & mask) return false;
    t.taken[bit / 64] |= mask;
    ++t.live;
    return true;
  }
  // The slots counted in the page that starts at `page`.
  std::size_t live_in(const void *page) {
    const tally *t = find(number(page) - first_);
    return t ? t->live : 0;
  }

 private:
  static std::size_t number(const void *p) {
    return reinterpret_cast<std::uintptr_t>(p) / rca::detail::kPageSize;
  }
  tally *find(std::size_t page) {
    if (page >= index_.size()) return nullptr;
    const std::uint32_t i = index_[page];
    return i < tallies_.size() && tallies_[i].page == page ? &tallies_[i] : nullptr;
  }
  tally &at(std::size_t page) {
    if (tally *t = find(page)) return *t;
    if (page >= index_.size()) index_.resize(std::max(page + 1, index_.size() * 2));
    index_[page] = static_cast<std::uint32_t>(tallies_.size());
    tallies_.push_back(tally{page, 0, {}});
    return tallies_.back();
  }
  std::size_t first_ = 0;
  std::size_t last_ = 0;  // the tally add() used last
  std::vector<tally> tallies_;
  std::vector<std::uint32_t> index_;  // page number -> its tally, when tallies_ agrees
};

// A set of addresses, emptied in O(1) by a new generation: open addressing over cells that are
// kept between checks (an embedded heap's slots lie anywhere in the caller's memory, so there is
// no page range to tally them by; sorting them was a sixth of that set's time, perf).
class address_set {
 public:
  void clear(std::size_t expected) {
    if (cells_.size() < expected * 2 + 16) {
      std::size_t n = 64;
      while (n < expected * 2 + 16) n *= 2;
      cells_.assign(n, cell{});
      generation_ = 0;
    }
    if (++generation_ == 0) {  // (wrapped: every cell's generation is stale or 0 again)
      std::fill(cells_.begin(), cells_.end(), cell{});
      generation_ = 1;
    }
  }
  // false if `p` was added since the last clear.
  bool add(const void *p) {
    const std::uintptr_t v = reinterpret_cast<std::uintptr_t>(p);
    const std::size_t mask = cells_.size() - 1;
    for (std::size_t c = (v * 0x9e3779b97f4a7c15ull) >> 40 & mask;; c = (c + 1) & mask) {
      cell &x = cells_[c];
      if (x.generation != generation_) {
        x = cell{v, generation_};
        return true;
      }
      if (x.address == v) return false;
    }
  }

 private:
  struct cell {
    std::uintptr_t address = 0;
    std::uint32_t generation = 0;
  };
  std::vector<cell> cells_;
  std::uint32_t generation_ = 0;
};

// Each live thing against the model, one at a time: its count (read where rca_obj_slot puts
// it), its slot counted (no two live things share one), and for objects a rotating sample in
// full (up to kFullChecks of them: with thousands of objects a full check of each was most of an
// input's time). check_all walks everything; the teardown checks each thing just before it
// frees it (a separate walk first, and a full walk after each misuse done, were a tenth of the
// shared set's instructions: callgrind over its corpus, 7.16 -> 6.48 G without them).
class live_walk {
 public:
  explicit live_walk(const model &m)
      : m_(m),
        paged_(m.arena || m.computed),
        embedded_(m.cfg.placement == RCA_PLACEMENT_EMBEDDED),
        stride_(std::max<std::size_t>(1, m.objs.size() / kFullChecks)) {
    check_stats(m);
    // Arena and computed heaps: slots tallied by page (every slot lies in the heap's range).
    // Embedded heaps: slot addresses in a set, for uniqueness only. Inline: nothing to compare.
    rca_heap_arena_range(m.heap, &lo_, &hi_);
    tallies().reset(lo_);
    if (embedded_) addresses().clear(m.objs.size() + m.slots.size());
  }
  void object(std::size_t i) {
    const obj_m &o = m_.objs[i];
    if (i % stride_ == m_.next_tag % stride_) check_obj(m_, o);
    void *s = rca_obj_slot(m_.heap, o.p);
    CHECK(load_slot(m_, s) == o.raw);
    count_slot(s);
  }
  void slot(const slot_m &s) {
    CHECK(load_slot(m_, s.ptr) == s.raw);
    CHECK(rca_slot_ptr(m_.heap, s.h) == s.ptr);
    count_slot(s.ptr);
  }
  // The refcount pages rca_heap_visit_pages reports against the slots counted in each.
  void pages() {
    static std::vector<page_seen> seen;  // (kept between calls: no allocation per check)
    seen.clear();
    rca_heap_visit_pages(m_.heap, visit, &seen);
    if (!paged_) {
      CHECK(seen.empty());
      return;
    }
    rca_stats_t st;
    rca_heap_stats(m_.heap, &st);
    // Computed: the pages that hold live counts, among the count pages of the spans in use.
    if (m_.computed) CHECK(seen.size() <= st.refcount_pages);
    else CHECK(seen.size() == st.refcount_pages);
    std::sort(seen.begin(), seen.end(), [](auto &a, auto &b) { return a.page < b.page; });
    std::size_t total = 0;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      const page_seen &p = seen[i];
      CHECK(in_arena(m_, p.page));
      CHECK(reinterpret_cast<std::uintptr_t>(p.page) % rca::detail::kPageSize == 0);
      CHECK(i == 0 || seen[i - 1].page != p.page);
      CHECK(p.live <= m_.capacity);
      CHECK(tallies().live_in(p.page) == p.live);  // the model's slots in this page
      total += p.live;
    }
    // Each reported page holds as many model slots as it says and no page is reported twice, so
    // equal totals leave no live model slot outside every reported page.
    CHECK(total == counted_);
    CHECK(total == (m_.computed ? m_.objs.size() : m_.live_slots()));  // (check_stats too)
  }

 private:
  static page_tallies &tallies() {  // (kept between walks: no allocation per check)
    static page_tallies t;
    return t;
  }
  static address_set &addresses() {
    static address_set a;
    return a;
  }
  void count_slot(void *p) {
    char *s = static_cast<char *>(p);
    if (paged_) {
      CHECK(lo_ && s >= lo_ && s < hi_);
      CHECK(reinterpret_cast<std::uintptr_t>(s) % m_.bytes == 0);
      CHECK(tallies().add(s));  // no two live things share a slot
      ++counted_;
    } else if (embedded_) {
      CHECK(addresses().add(s));  // no two live things share a slot
    }
  }
  const model &m_;
  const bool paged_, embedded_;
  const std::size_t stride_;
  void *lo_ = nullptr, *hi_ = nullptr;
  std::size_t counted_ = 0;
};

// Everything: each live thing (live_walk), then the refcount pages.
void check_all(const model &m) {
  live_walk walk(m);
  for (std::size_t i = 0; i < m.objs.size(); ++i) walk.object(i);
  for (const slot_m &s : m.slots) walk.slot(s);
  walk.pages();
}

// The heap must not take foreign or dead pointers for its own.
void check_not_ours(const model &m, const void *p, bool is_slot) {
  if (m.heap->tracking) {
    CHECK(!rca::detail::registry_contains(m.heap, p, block_kind::object));
    CHECK(!rca::detail::registry_contains(m.heap, p, block_kind::raw));
  }
  if (m.arena) {
    CHECK(!rca::detail::slot_is_live(m.heap, p));
    if (is_slot && !in_arena(m, p)) CHECK(rca::detail::arena_page_of(m.heap->arena, p) == nullptr);
  }
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

constexpr std::size_t kMaxObjects = 6000;
constexpr unsigned kOps = 17;  // operation codes: op % kOps (16: misuse done)

// The thread placement's exhaustion, from the calling thread (RELIABILITY.md guarantee 7 and its
// known limit): it had no page left to take. No page is unused or abandoned with a free slot, none
// of its own has one (it collects what other threads freed into them first), and the free slots
// left are in pages other live threads hold, at most one page each that its owner emptied. With
// the model's live slots, they make up the whole cap.
void check_thread_exhausted(const model &m, std::size_t live_arena_slots) {
  using namespace rca::detail;
  const arena &a = m.heap->arena;
  const pool *mine = thread_pool(m.heap);
  const pool *kept_empty[8];  // owners of an empty page: the helper, a thread not yet exited
  std::size_t owners = 0, free_elsewhere = 0;
  for (std::size_t i = 1; i <= m.usable_pages; ++i) {
    const page_desc &d = a.descs[i];
    const page_state st = d.state.load(std::memory_order_acquire);
    CHECK(st != page_state::unused);
    std::size_t free = 0, freed_locally = 0;
    for (std::size_t w = 0; w < kBitmapWords; ++w) {
      const std::uint64_t local = d.free_bits[w].load(std::memory_order_relaxed);
      freed_locally += static_cast<std::size_t>(__builtin_popcountll(local));
      free += static_cast<std::size_t>(
          __builtin_popcountll(local | d.remote_bits[w].load(std::memory_order_relaxed)));
    }
    if (free == 0) continue;
    const pool *owner = d.owner.load(std::memory_order_relaxed);
    CHECK(st == page_state::owned && owner && owner != mine);
    // A pool keeps one page it emptied itself; pages other threads emptied wait for it to run out.
    if (freed_locally == d.capacity) {
      CHECK(std::find(kept_empty, kept_empty + owners, owner) == kept_empty + owners);
      CHECK(owners < std::size(kept_empty));
      kept_empty[owners++] = owner;
    }
    free_elsewhere += free;
  }
  CHECK(live_arena_slots + free_elsewhere == m.usable_pages * m.capacity);
}

// Allocation failed: only an exhausted arena may say so, and only when no slot is free (thread
// placement: none that the calling thread may take).
void check_exhausted(const model &m, std::size_t live_arena_slots) {
  CHECK(errno == ENOMEM);
  if (m.computed) {  // the object region (object_limit) is used up, not a slot arena
    CHECK(std::strstr(rca_last_error(), "object memory exhausted"));
    return;
  }
  CHECK(m.arena);
  if (m.cfg.placement == RCA_PLACEMENT_THREAD) check_thread_exhausted(m, live_arena_slots);
  else CHECK(live_arena_slots == m.usable_pages * m.capacity);
}

// `check`: each object against the model at once (bulk operations leave it to check_all).
bool op_alloc(model &m, std::size_t size, bool check = true) {
  if (m.objs.size() >= kMaxObjects) return false;
  errno = 0;
  void *p = rca_obj_alloc(m.heap, size);
  if (!p) {
    check_exhausted(m, m.arena_slots());
    return false;
  }
  obj_m o{p, 1, 0, rca_usable_size(m.heap, p), size, m.next_tag++};
  if (size >= rca_header_size(m.heap) + 4)
    std::memcpy(static_cast<char *>(p) + rca_header_size(m.heap), &o.tag, 4);
  m.objs.push_back(o);
  if (check) check_obj(m, m.objs.back());
  return true;
}

void forget_obj(model &m, std::size_t i) {
  m.objs[i] = m.objs.back();
  m.objs.pop_back();
}

void op_free(model &m, std::size_t i, bool check = true) {
  obj_m o = m.objs[i];
  if (check) check_obj(m, o);
  void *slot = m.cfg.placement == RCA_PLACEMENT_INLINE ? nullptr : rca_obj_slot(m.heap, o.p);
  rca_obj_free(m.heap, o.p);
  forget_obj(m, i);
  if (m.dead.size() < 64) m.dead.push_back(o.p);
  // Nothing has been allocated since: the dead object and its slot are no longer ours.
  if (m.heap->tracking) CHECK(!rca::detail::registry_contains(m.heap, o.p, block_kind::object));
  if (m.arena) CHECK(!rca::detail::slot_is_live(m.heap, slot));
}

void op_decref(model &m, std::size_t i, bool use_release) {
  obj_m &o = m.objs[i];
  const bool zero = m.decref(o.raw);
  if (use_release) {
    CHECK(rca_obj_release(m.heap, o.p) == int(zero));
    if (zero) forget_obj(m, i);
    return;
  }
  CHECK(rca_obj_decref(m.heap, o.p) == int(zero));
  if (zero) {  // a count at zero must be freed at once: any further use is a use after free
    CHECK(rca_obj_count(m.heap, o.p) == 0);
    op_free(m, i);
  }
}

void op_overflow(model &m, std::size_t i, std::uint8_t arg) {
  obj_m &o = m.objs[i];
  // The largest live count; one more reference lands in the frozen range and stays there.
  store_slot(m, rca_obj_slot(m.heap, o.p), m.max_live - (arg & 3));
  o.raw = m.max_live - (arg & 3);
  for (int k = 0; k < 6; ++k) {
    rca_obj_incref(m.heap, o.p);
    m.incref(o.raw);
    CHECK(rca_obj_count(m.heap, o.p) == o.raw);
  }
  CHECK(m.frozen(o.raw));
  CHECK(rca_obj_decref(m.heap, o.p) == 0);
  CHECK(rca_obj_count(m.heap, o.p) == o.raw);
}

bool op_slot_alloc(model &m) {
  if (m.slots.size() >= kMaxObjects) return false;
  void *mem = nullptr;
  if (m.cfg.placement == RCA_PLACEMENT_EMBEDDED) mem = std::calloc(1, 8);
  errno = 0;
  rca_handle_t h = rca_slot_alloc(m.heap, mem);
  if (m.cfg.placement == RCA_PLACEMENT_INLINE || m.computed) {
    CHECK(h == 0 && errno == EINVAL);  // an inline or computed heap has no slots
    return false;
  }
  if (h == 0) {
    std::free(mem);
    check_exhausted(m, m.arena_slots());
    return false;
  }
  void *ptr = rca_slot_ptr(m.heap, h);
  if (mem) CHECK(ptr == mem);
  if (m.arena) CHECK(in_arena(m, ptr) && rca::detail::slot_is_live(m.heap, ptr));
  CHECK(load_slot(m, ptr) == 1);
  m.slots.push_back({h, ptr, 1, 0, mem});
  return true;
}

void op_slot_free(model &m, std::size_t i) {
  slot_m s = m.slots[i];
  CHECK(load_slot(m, s.ptr) == s.raw);
  rca_slot_free(m.heap, s.h);
  std::free(s.embedded_mem);
  m.slots[i] = m.slots.back();
  m.slots.pop_back();
  if (m.dead_slots.size() < 64) m.dead_slots.push_back(s.h);
  if (m.arena) CHECK(!rca::detail::slot_is_live(m.heap, s.ptr));
}

// n slots by one rca_slot_alloc_batch: each as op_slot_alloc checks it; fewer than n only when
// the arena is full.
void op_slot_alloc_batch(model &m, std::size_t n) {
  n = std::min(n, kMaxObjects - m.slots.size());
  if (n == 0) return;
  const bool embedded = m.cfg.placement == RCA_PLACEMENT_EMBEDDED;
  std::vector<void *> mems(n, nullptr);
  if (embedded)
    for (void *&mem : mems) mem = std::calloc(1, 8);
  std::vector<rca_handle_t> hs(n, 0);
  errno = 0;
  const std::size_t got = rca_slot_alloc_batch(m.heap, hs.data(), n, mems.data());
  if (m.cfg.placement == RCA_PLACEMENT_INLINE || m.computed) {
    CHECK(got == 0 && errno == EINVAL);  // an inline or computed heap has no slots
    return;
  }
  CHECK(got <= n);
  for (std::size_t i = 0; i < got; ++i) {
    void *ptr = rca_slot_ptr(m.heap, hs[i]);
    if (embedded) CHECK(ptr == mems[i]);
    if (m.arena) CHECK(in_arena(m, ptr) && rca::detail::slot_is_live(m.heap, ptr));
    CHECK(load_slot(m, ptr) == 1);
    m.slots.push_back({hs[i], ptr, 1, 0, mems[i]});
  }
  for (std::size_t i = got; i < n; ++i) std::free(mems[i]);
  if (got < n) check_exhausted(m, m.arena_slots());
}

// Up to n slots (from index i on, every step-th) by one rca_slot_free_batch.
void op_slot_free_batch(model &m, std::size_t i, std::size_t n, std::size_t step) {
  std::vector<std::size_t> picked;
  for (std::size_t k = 0; k < n && !m.slots.empty(); ++k) {
    const std::size_t j = (i + k * step) % m.slots.size();
    if (std::find(picked.begin(), picked.end(), j) == picked.end()) picked.push_back(j);
  }
  std::vector<rca_handle_t> hs;
  for (std::size_t j : picked) {
    CHECK(load_slot(m, m.slots[j].ptr) == m.slots[j].raw);
    hs.push_back(m.slots[j].h);
  }
  rca_slot_free_batch(m.heap, hs.data(), hs.size());
  std::sort(picked.rbegin(), picked.rend());  // remove from the back: indices stay valid
  for (std::size_t j : picked) {
    slot_m s = m.slots[j];
    std::free(s.embedded_mem);
    m.slots[j] = m.slots.back();
    m.slots.pop_back();
    if (m.dead_slots.size() < 64) m.dead_slots.push_back(s.h);
    if (m.arena) CHECK(!rca::detail::slot_is_live(m.heap, s.ptr));
  }
}

void op_slot_rc(model &m, std::size_t i, bool inc) {
  slot_m &s = m.slots[i];
  if (inc) {
    slot_incref(m, s.ptr);
    m.incref(s.raw);
  } else {
    const bool zero = m.decref(s.raw);
    CHECK(slot_decref(m, s.ptr) == zero);
    if (zero) {
      op_slot_free(m, i);
      return;
    }
  }
  CHECK(load_slot(m, s.ptr) == s.raw);
}

void op_freeze(model &m) {
  long expect = 0;
  const bool sweeps_pages = m.arena || m.computed;  // computed: the spans' count windows
  if (!sweeps_pages && !m.heap->tracking) {
    errno = 0;
    CHECK(rca_heap_freeze(m.heap) == -1 && errno == ENOTSUP);
    return;
  }
  auto freeze_one = [&](std::uint64_t &raw, std::uint64_t &saved) {
    if (m.frozen(raw)) return;
    saved = raw;
    raw = m.fval;
    ++expect;
  };
  for (obj_m &o : m.objs) freeze_one(o.raw, o.saved);
  if (sweeps_pages)  // bare embedded slots are in no page and no registry: not frozen
    for (slot_m &s : m.slots) freeze_one(s.raw, s.saved);
  CHECK(rca_heap_freeze(m.heap) == expect);
}

void op_thaw(model &m) {
  long expect = 0;
  if (!m.arena && !m.computed && !m.heap->tracking) {
    errno = 0;
    CHECK(rca_heap_thaw(m.heap) == -1 && errno == ENOTSUP);
    return;
  }
  auto thaw_one = [&](std::uint64_t &raw, std::uint64_t &saved) {
    if (saved && m.frozen(raw)) {
      raw = saved;
      ++expect;
    }
    saved = 0;
  };
  for (obj_m &o : m.objs) thaw_one(o.raw, o.saved);
  if (m.arena)
    for (slot_m &s : m.slots) thaw_one(s.raw, s.saved);
  CHECK(rca_heap_thaw(m.heap) == expect);
}

void op_raw(model &m, std::uint8_t a, std::uint8_t b) {
  const std::size_t size = 1 + b * 3u;
  if ((a & 3) == 0 || m.raws.empty()) {
    if (m.raws.size() >= 64) return;
    errno = 0;
    void *p = rca_malloc(m.heap, size);
    if (!p && m.computed) {  // raw blocks share the object region with the objects
      check_exhausted(m, 0);
      return;
    }
    CHECK(p);
    std::memset(p, b, size);
    m.raws.push_back({p, size, rca_usable_size(m.heap, p), b});
    if (m.cfg.checks) CHECK(rca::detail::registry_contains(m.heap, p, block_kind::raw));
    return;
  }
  const std::size_t i = a % m.raws.size();
  raw_m &r = m.raws[i];
  for (std::size_t k = 0; k < r.size; ++k) CHECK(static_cast<std::uint8_t *>(r.p)[k] == r.fill);
  if ((a & 3) == 1) {
    errno = 0;
    void *q = rca_realloc(m.heap, r.p, size);
    if (!q && m.computed) {  // r is still valid and unchanged
      check_exhausted(m, 0);
      return;
    }
    CHECK(q);
    for (std::size_t k = 0; k < std::min(size, r.size); ++k)
      CHECK(static_cast<std::uint8_t *>(q)[k] == r.fill);
    std::memset(q, b, size);
    r = {q, size, rca_usable_size(m.heap, q), b};
    return;
  }
  void *p = r.p;
  if ((a & 3) == 2) rca_free(m.heap, p);
  else CHECK(rca_realloc(m.heap, p, 0) == nullptr);
  m.raws[i] = m.raws.back();
  m.raws.pop_back();
  if (m.cfg.checks) CHECK(!rca::detail::registry_contains(m.heap, p, block_kind::raw));
}

// Misuse, asked about rather than done: would the heap take these for its own?
void op_misuse(model &m, std::uint8_t a) {
  for (void *f : g_foreign->objs) check_not_ours(m, f, false);
  for (void *s : g_foreign->slot_ptrs) {
    check_not_ours(m, s, true);
    CHECK(!in_arena(m, s));  // every heap has its own reservation
  }
  int local = 0;
  check_not_ours(m, &local, false);
  for (const raw_m &r : m.raws) {
    if (m.heap->tracking) CHECK(!rca::detail::registry_contains(m.heap, r.p, block_kind::object));
    if (m.arena || m.computed) CHECK(!in_arena(m, r.p));
  }
  if (m.objs.empty()) return;
  const obj_m &o = m.objs[a % m.objs.size()];
  if (m.heap->tracking) {  // an object is not a raw block, and its interior is not an object
    CHECK(rca::detail::registry_contains(m.heap, o.p, block_kind::object));
    CHECK(!rca::detail::registry_contains(m.heap, o.p, block_kind::raw));
    CHECK(
        !rca::detail::registry_contains(m.heap, static_cast<char *>(o.p) + 1, block_kind::object));
  }
  if (m.computed) {  // a count window never holds an object, nor an object page a count
    CHECK(!in_arena(m, o.p));
    for (void *f : g_foreign->computed_objs) CHECK(!in_arena(m, f));
  }
  if (m.arena) {
    char *s = static_cast<char *>(rca_obj_slot(m.heap, o.p));
    CHECK(!in_arena(m, o.p));  // object memory never lies in the refcount arena
    if (m.stride > 1) CHECK(!rca::detail::slot_is_live(m.heap, s + 1));  // misaligned
    CHECK(!rca::detail::slot_is_live(m.heap, rca_slot_base(m.heap)));    // the guard page
  }
}

// Runs `misuse`, which rca must refuse with a message containing `want` before changing
// anything: the heap must still be exactly the model afterwards.
template <class F>
void expect_fatal(const char *want, F &&misuse) {
  g_fatal_msg[0] = '\0';
  if (sigsetjmp(g_fatal_jump, 0) == 0) {
    g_fatal_armed = true;
    misuse();
    g_fatal_armed = false;
    g_ctx.want = want;
    fail(__LINE__, "misuse was not caught");
  }
  if (!std::strstr(g_fatal_msg, want)) {
    std::fprintf(stderr, "fuzz_heap: misuse caught with '%s', expected '%s'\n", g_fatal_msg, want);
    fail(__LINE__, "misuse message");
  }
  // The live counts are compared after the step, as after every step. Every count, slot and page
  // waits for the next full check, every 64 steps and at the input's end (a full walk after each
  // misuse was 7 % of the shared set's time, perf): the model never takes a value from the heap,
  // so a count the misuse changed stays wrong until then, and a slot it released is either handed
  // out again (two live things in one slot: the tallies), found free by its object's next check,
  // or freed again (rca's own double-free check, fatal here outside expect_fatal).
}

// Nothing live of this input occupies p (a dead pointer's memory may have been handed out again).
bool overlaps_live(const model &m, const void *p) {
  const char *c = static_cast<const char *>(p);
  for (const obj_m &o : m.objs)
    if (c >= static_cast<char *>(o.p) && c < static_cast<char *>(o.p) + std::max(o.usable, o.size))
      return true;
  for (const raw_m &r : m.raws)
    if (c >= static_cast<char *>(r.p) && c < static_cast<char *>(r.p) + r.usable) return true;
  for (const slot_m &s : m.slots)
    if (s.embedded_mem == p) return true;
  return false;
}

// Misuse done: the kinds rca promises to catch in this configuration (README, RELIABILITY.md).
void op_misuse_done(model &m, std::uint8_t a, std::uint8_t b) {
  const bool jemalloc = m.cfg.backend == RCA_BACKEND_JEMALLOC;
  const bool tracking = m.heap->tracking;
  // A freed object's header may be read: the registry answers first, or ASan does not watch it.
  const bool dead_readable = tracking || jemalloc;
  // ...and what it still says is enough to tell: the registry, or the arena's bitmap and tags.
  const bool dead_caught = tracking || m.arena;
  // A computed heap reads no header: a free checks the span's descriptor and the block's count
  // (never the freed memory), and catches every double or foreign free; the generic operations
  // have nothing to ask without the registry.
  const char *free_msg = m.computed ? "rca_obj_free" : "is not a live object";
  switch (a % 4) {
    case 0:    // the generic operations on a freed object (issue 10, defect 6)
    case 1: {  // a double free (defect 10)
      if (m.dead.empty()) return;
      if (!(m.computed && a % 4 == 1) && (!dead_readable || !dead_caught)) return;
      void *d = m.dead[b % m.dead.size()];
      if (overlaps_live(m, d)) return;
      if (a % 4 == 1) {
        expect_fatal(free_msg, [&] { rca_obj_free(m.heap, d); });
        return;
      }
      switch (b % 3) {
        case 0: expect_fatal("rca_obj_incref", [&] { rca_obj_incref(m.heap, d); }); break;
        case 1: expect_fatal("rca_obj_decref", [&] { rca_obj_decref(m.heap, d); }); break;
        default: expect_fatal("rca_obj_count", [&] { (void)rca_obj_count(m.heap, d); }); break;
      }
      return;
    }
    case 2: {  // an object of another heap freed here (defect 10: index heaps, checks off)
      void *f = g_foreign->objs[b % g_foreign->objs.size()];
      if (m.computed && (b & 1))  // another computed heap's object: outside this one's region
        f = g_foreign->computed_objs[b / 2 % g_foreign->computed_objs.size()];
      if (!tracking && !m.arena && !m.computed) return;  // an embedded or inline header cannot tell
      expect_fatal(free_msg, [&] { rca_obj_free(m.heap, f); });
      return;
    }
    default: {  // a bare slot that is not live here (defect 7 for embedded heaps)
      if (m.cfg.placement == RCA_PLACEMENT_INLINE) return;
      if (m.computed) {  // no slots at all: any handle, an object's count address included
        rca_handle_t h = b;
        if (!m.objs.empty() && (b & 1))
          h = reinterpret_cast<rca_handle_t>(rca_obj_slot(m.heap, m.objs[b / 2 % m.objs.size()].p));
        expect_fatal("has no slots", [&] { rca_slot_free(m.heap, h); });
        return;
      }
      if (m.cfg.placement == RCA_PLACEMENT_EMBEDDED && !tracking) return;  // nothing to ask
      alignas(8) static std::uint64_t garbage = 0;
      rca_handle_t h = 0;
      switch (b % 4) {
        case 0:  // a slot this input freed
          if (m.dead_slots.empty()) return;
          h = m.dead_slots[b / 4 % m.dead_slots.size()];
          for (const slot_m &s : m.slots)
            if (s.h == h) return;  // handed out again
          break;
        case 1:  // another heap's
          if (m.cfg.placement == RCA_PLACEMENT_EMBEDDED) {
            h = reinterpret_cast<rca_handle_t>(&g_foreign->emb_slot);
          } else {
            if (m.cfg.handle_kind == RCA_HANDLE_KIND_INDEX)
              return;  // an index names a slot of any heap
            h = reinterpret_cast<rca_handle_t>(
                g_foreign->slot_ptrs[b / 4 % g_foreign->slot_ptrs.size()]);
          }
          break;
        case 2:  // garbage
          if (m.cfg.placement != RCA_PLACEMENT_EMBEDDED) return;
          h = reinterpret_cast<rca_handle_t>(&garbage);
          break;
        default:  // an object's slot, freed as a bare slot
          if (!m.arena || m.objs.empty()) return;
          {
            void *s = rca_obj_slot(m.heap, m.objs[b / 4 % m.objs.size()].p);
            h = m.cfg.handle_kind == RCA_HANDLE_KIND_INDEX
                    ? rca_handle_t(
                          (static_cast<char *>(s) - static_cast<char *>(rca_slot_base(m.heap))) /
                          m.bytes)
                    : reinterpret_cast<rca_handle_t>(s);
          }
          break;
      }
      static const char *const wants[] = {"rca_slot_free", "rca_slot_free", "rca_slot_free",
                                          "is an object's"};
      expect_fatal(wants[b % 4], [&] { rca_slot_free(m.heap, h); });
      return;
    }
  }
}

// The other thread of op_thread, started once and kept: a thread created and joined per
// operation (clone, the kernel's page-table work) was about a tenth of the fuzzer's time (perf,
// every placement set). Work is handed over through two counters: each side spins a while before
// it sleeps on the counter (std::atomic::wait, a futex), because waking a sleeping thread and
// being woken again cost more than the work (perf: futex and scheduler about 8 % of the
// shared set's time with a mutex and a condition variable).
class helper_thread {
 public:
  // Runs work() on the helper and waits for it.
  template <class F>
  void run(F &work) {
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    job_ = [](void *w) { (*static_cast<F *>(w))(); };
    arg_ = &work;
    const std::uint32_t n = posted_.load(std::memory_order_relaxed) + 1;
    posted_.store(n, std::memory_order_release);  // (job_ and arg_ before it)
    posted_.notify_one();
    await(done_, n);
  }
  // At exit, before the heaps are destroyed: the thread's pools go back to them as it exits.
  void stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true, std::memory_order_relaxed);
    posted_.fetch_add(1, std::memory_order_release);
    posted_.notify_one();
    thread_.join();
  }

 private:
  // Until `counter` reads `want`: spinning first (some tens of microseconds, about a job's
  // length), then asleep.
  static void await(std::atomic<std::uint32_t> &counter, std::uint32_t want) {
    for (int spin = 0; spin < kSpins; ++spin) {
      if (counter.load(std::memory_order_acquire) == want) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    for (std::uint32_t seen; (seen = counter.load(std::memory_order_acquire)) != want;)
      counter.wait(seen, std::memory_order_acquire);
  }
  void loop() {
    for (std::uint32_t n = 1;; ++n) {
      await(posted_, n);
      if (stopping_.load(std::memory_order_relaxed)) return;
      job_(arg_);
      done_.store(n, std::memory_order_release);
      done_.notify_one();
    }
  }
  std::thread thread_;
  void (*job_)(void *) = nullptr;
  void *arg_ = nullptr;
  std::atomic<std::uint32_t> posted_{0}, done_{0};
  std::atomic<bool> stopping_{false};
  static constexpr int kSpins = 1 << 11;
};
helper_thread g_helper;

// Another thread frees some objects (cross-thread frees: remote bitmaps, abandoned pages) and
// allocates others that outlive the operation. When bits 6 and 7 of `nalloc` say so it is a new
// thread that exits at once (its pool abandoned at exit, its pages or spans adopted later);
// otherwise the long-lived helper, whose thread pages stay its own between operations and inputs
// (thread placement: check_thread_exhausted knows them).
void op_thread(model &m, std::uint8_t nfree, std::uint8_t nalloc) {
  static std::vector<void *> to_free, made;  // (kept: no allocation per operation)
  to_free.clear(), made.clear();
  for (unsigned k = 0; k < nfree % 64u && !m.objs.empty(); ++k) {
    const std::size_t i = (k * 7919u + nfree) % m.objs.size();
    to_free.push_back(m.objs[i].p);
    forget_obj(m, i);
  }
  const std::size_t want = std::min<std::size_t>((nalloc & 63u) * 2u, kMaxObjects - m.objs.size());
  const std::size_t live_after_frees = m.arena_slots();
  int alloc_errno = 0;
  std::size_t live_at_failure = 0;
  const std::size_t size = rca_header_size(m.heap) + 8;
  auto work = [&] {
    for (void *p : to_free) rca_obj_free(m.heap, p);
    for (std::size_t k = 0; k < want; ++k) {
      errno = 0;
      void *p = rca_obj_alloc(m.heap, size);
      if (!p) {
        alloc_errno = errno;
        live_at_failure = live_after_frees + made.size();
        // Thread placement: what this thread could not take (its pool, not the main thread's).
        if (m.cfg.placement == RCA_PLACEMENT_THREAD) check_exhausted(m, live_at_failure);
        break;
      }
      made.push_back(p);
    }
  };
  if ((nalloc & 0xc0) == 0xc0) {
    std::thread t(work);
    t.join();
  } else {
    g_helper.run(work);
  }
  if (alloc_errno) {
    CHECK(alloc_errno == ENOMEM && (m.arena || m.computed));
    // A thread pool sees only its own pages, abandoned ones and fresh ones: in the thread
    // placement the main thread's partly used pages are not its to take.
    if (m.arena && m.cfg.placement != RCA_PLACEMENT_THREAD)
      CHECK(live_at_failure == m.usable_pages * m.capacity);
  }
  for (void *p : made) {
    obj_m o{p, 1, 0, rca_usable_size(m.heap, p), size, m.next_tag++};
    std::memcpy(static_cast<char *>(p) + rca_header_size(m.heap), &o.tag, 4);
    m.objs.push_back(o);
  }
}

// ---------------------------------------------------------------------------------------------
// One input
// ---------------------------------------------------------------------------------------------

// One long-lived heap per placement and configuration (byte 1 after the backend fallback).
rca_heap_t *g_heaps[RCA_PLACEMENT_COUNT][256];
bool g_helpers_ever[RCA_PLACEMENT_COUNT][256];  // a helper thread ever used the heap

// At exit every heap is destroyed (each input left its heap empty): what a heap holds goes back
// with it, and LeakSanitizer's exit check then finds no heap's pages among its root regions.
// It reads /proc/self/maps once per root region, and with a few hundred live heaps that took
// seconds past -max_total_time.
void destroy_heaps() {
  g_helper.stop();
  for (auto &row : g_heaps)
    for (rca_heap_t *&h : row) {
      rca_heap_destroy(h);
      h = nullptr;
    }
  if (g_foreign) {
    rca_slot_free(g_foreign->emb, reinterpret_cast<rca_handle_t>(&g_foreign->emb_slot));
    for (rca_heap_t *h : {g_foreign->shared_ptr, g_foreign->shared_idx, g_foreign->inl,
                          g_foreign->emb, g_foreign->computed})
      rca_heap_destroy(h);
    delete g_foreign;
    g_foreign = nullptr;
  }
}

bool make_heap(model &m, reader &in) {
  // Byte 0: placement (among the allowed ones); byte 1: handle (computed: address function
  // granule), slot width, checks, tracking, backend, arena limit (computed: object_limit from it).
  unsigned allowed[RCA_PLACEMENT_COUNT], n = 0;
  for (unsigned p = 0; p < RCA_PLACEMENT_COUNT; ++p)
    if (g_allowed & (1u << p)) allowed[n++] = p;
  const std::uint8_t b0 = in.byte(), b1 = in.byte();
  rca_config_t c;
  rca_config_init(&c);
  c.placement = static_cast<rca_placement_t>(allowed[b0 % n]);
  c.handle_kind = (b1 & 1) && c.placement != RCA_PLACEMENT_EMBEDDED ? RCA_HANDLE_KIND_INDEX
                                                                    : RCA_HANDLE_KIND_POINTER;
  c.slot_bits = (b1 & 2) ? 64 : 32;
  c.checks = (b1 & 4) ? 1 : 0;
  c.track_objects = (b1 & 8) ? -1 : ((b1 & 16) ? 1 : 0);
  c.backend = (b1 & 32) && rca_backend_available(RCA_BACKEND_JEMALLOC) ? RCA_BACKEND_JEMALLOC
                                                                       : RCA_BACKEND_SYSTEM;
  static const std::size_t limits[] = {4096, 3 * 4096, 64 * 1024, 0};
  c.arena_limit = limits[(b1 >> 6) & 3];
  if (c.placement == RCA_PLACEMENT_COMPUTED) {
    c.handle_kind = RCA_HANDLE_KIND_POINTER;
    c.address = (b1 & 1) ? RCA_ADDRESS_GRANULE : RCA_ADDRESS_SPAN;
    c.backend = RCA_BACKEND_RCA;  // what the placement takes whatever the input said
  }
  const unsigned key = (b1 & ~32u) | (c.backend == RCA_BACKEND_JEMALLOC ? 32u : 0u);
  rca_heap_t *&cached = g_heaps[c.placement][key];
  if (!cached) cached = rca_heap_new(&c);
  m.heap = cached;
  m.helpers_ever = &g_helpers_ever[c.placement][key];
  if (!m.heap) {
    std::fprintf(stderr, "fuzz_heap: rca_heap_new failed: %s\n", rca_last_error());
    std::abort();
  }
  m.cfg = *rca_heap_config(m.heap);
  m.arena = m.cfg.placement == RCA_PLACEMENT_SHARED || m.cfg.placement == RCA_PLACEMENT_THREAD ||
            m.cfg.placement == RCA_PLACEMENT_PADDED;
  m.computed = m.cfg.placement == RCA_PLACEMENT_COMPUTED;
  m.bytes = m.cfg.slot_bits / 8;
  m.stride = m.cfg.placement == RCA_PLACEMENT_PADDED ? 64 : m.bytes;
  m.capacity = rca::detail::kPageSize / m.stride;
  rca_stats_t st;
  rca_heap_stats(m.heap, &st);
  m.usable_pages = m.arena ? st.arena_reserved / rca::detail::kPageSize - 1 : 0;
  m.fbit = m.bytes == 4 ? RCA_RC_FROZEN_BIT32 : RCA_RC_FROZEN_BIT64;
  m.fval = m.bytes == 4 ? RCA_RC_FROZEN32 : RCA_RC_FROZEN64;
  m.max_live = m.fbit - 1;
  g_ctx = {&m.cfg, -1, nullptr};
  return true;
}

void run_one(const std::uint8_t *data, std::size_t size) {
  if (!g_foreign) {
    make_foreign();
    std::atexit(destroy_heaps);
  }
  reader in{data, size};
  static model m;  // one for every input: its vectors keep their memory
  m.reset();
  make_heap(m, in);
  unsigned threads = 0;
  rca_stats_t start;  // a long-lived heap starts every input empty
  rca_heap_stats(m.heap, &start);
  CHECK(!start.events_counted ||
        (start.live_objects == 0 && start.live_slots == 0 && start.object_bytes == 0));
  for (unsigned step = 0; in.n > 0 && step < 1024; ++step) {
    g_ctx.step = static_cast<int>(step);
    // Every operation is 3 bytes (op, a, b), so mutations keep the rest of the input aligned.
    const std::uint8_t op = in.byte(), a = in.byte(), b = in.byte();
    const std::size_t hdr = rca_header_size(m.heap);
    switch (op % kOps) {
      case 0:
      case 1: op_alloc(m, hdr + a % 48); break;
      case 2:
        if (!m.objs.empty()) op_free(m, a % m.objs.size());
        break;
      case 3:
        if (!m.objs.empty()) {
          obj_m &o = m.objs[a % m.objs.size()];
          rca_obj_incref(m.heap, o.p);
          m.incref(o.raw);
          check_obj(m, o);
        }
        break;
      case 4:
        if (!m.objs.empty()) op_decref(m, a % m.objs.size(), b & 1);
        break;
      case 5: op_freeze(m); break;
      case 6: op_thaw(m); break;
      case 7: op_misuse(m, a); break;
      case 8:  // b odd: a batch of 1..64
        if (b & 1) op_slot_alloc_batch(m, (b >> 1) % 64 + 1);
        else op_slot_alloc(m);
        break;
      case 9:  // b odd: a batch of up to 1..64
        if (m.slots.empty()) break;
        if (b & 1) op_slot_free_batch(m, a % m.slots.size(), (b >> 1) % 64 + 1, a % 7 + 1);
        else op_slot_free(m, a % m.slots.size());
        break;
      case 10:
        if (!m.slots.empty()) op_slot_rc(m, a % m.slots.size(), b & 1);
        break;
      case 11:
        if (!m.objs.empty()) op_overflow(m, a % m.objs.size(), b);
        break;
      case 12:  // many allocations: reach exhaustion quickly (8..128 of them: more made the
                // average input cost several milliseconds)
        for (unsigned k = 0; k < (a & 15u) * 8u + 8; ++k)
          if (!((b & 1) ? op_slot_alloc(m) : op_alloc(m, hdr + 8, false))) break;
        break;
      case 13:  // many frees
        for (unsigned k = 0; k < (a & 15u) * 8u + 8 && !m.objs.empty(); ++k)
          op_free(m, (k * 31u + b) % m.objs.size(), false);
        break;
      case 14: op_raw(m, a, b); break;
      case 15:
        if (threads < 2) {
          ++threads;
          op_thread(m, a, b);
          *m.helpers_ever = true;
        }
        break;
      default: op_misuse_done(m, a, b); break;
    }
    // Every step: the live counts. Everything (each count, each slot's page, the pages) every
    // 64 steps and at the end: most inputs are shorter, and a full check per step was a third
    // of the fuzzer's time (perf).
    check_counts(m);
    if (step % 64 == 63) check_all(m);
  }
  g_ctx.step = -1;

  // Tear down through the API: everything freed, every page empty, none kept beyond the one a
  // pool retains (no page leaked). Pages of the thread placement that other threads freed into
  // are collected only when their owner next runs out, so they are exempt. Each object and slot
  // is checked as check_all does just before it is freed (nothing is allocated meanwhile, so
  // no freed slot is handed out again and the tallies still see any two sharing one). The pages
  // after the teardown: a live count the model does not know of is still live there (nothing
  // frees it), and every count it does know was compared on the way.
  {
    live_walk walk(m);
    while (!m.objs.empty()) {
      walk.object(m.objs.size() - 1);
      op_free(m, m.objs.size() - 1, false);
    }
    while (!m.slots.empty()) {
      walk.slot(m.slots.back());
      op_slot_free(m, m.slots.size() - 1);
    }
  }
  while (!m.raws.empty()) op_raw(m, 2, 0);
  check_all(m);
  rca_stats_t st;
  rca_heap_stats(m.heap, &st);
  CHECK(!st.events_counted || (st.live_objects == 0 && st.live_slots == 0 && st.object_bytes == 0));
  // Pages of the thread placement that helper threads freed into wait for the owner's next refill.
  // A computed heap's empty spans that a cache retains keep their count windows; check_all above
  // found no page holding a live count, so none is leaked.
  if (!m.computed && !(m.cfg.placement == RCA_PLACEMENT_THREAD && *m.helpers_ever))
    CHECK(st.refcount_pages <= 1);
  g_ctx = {};
}

unsigned parse_placements(const char *list) {
  unsigned mask = 0;
  std::string s(list);
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    const std::string name = s.substr(pos, end - pos);
    rca_placement_t p;
    if (name == "all") mask |= (1u << RCA_PLACEMENT_COUNT) - 1;
    else if (!name.empty() && rca_placement_parse(name.c_str(), &p) == 0) mask |= 1u << p;
    else if (!name.empty()) {
      std::fprintf(stderr, "fuzz_heap: RCA_FUZZ_PLACEMENTS: %s\n", rca_last_error());
      std::exit(2);
    }
    pos = end + 1;
  }
  return mask ? mask : (1u << RCA_PLACEMENT_COUNT) - 1;
}

void init_from_env() {
  if (const char *e = std::getenv("RCA_FUZZ_PLACEMENTS")) g_allowed = parse_placements(e);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  init_from_env();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (!rca::detail::fatal_hook) rca::detail::fatal_hook = on_fatal;
  run_one(data, size);
  return 0;
}

#ifndef RCA_FUZZ_REPLAY
// Structure-aware mutation: half the time whole operations are inserted, deleted, duplicated
// or re-coded (the 2 configuration bytes, then 3-byte operations); the rest is libFuzzer's own
// byte-level mutation (with the dictionary, fuzz/heap.dict).
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t *data, std::size_t size, std::size_t max);
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t *data, std::size_t size,
                                               std::size_t max, unsigned seed) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  auto next = [&] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  if (size < 2 || (next() & 1)) return LLVMFuzzerMutate(data, size, max);
  const std::size_t ops = (size - 2) / 3;
  const auto at = [&](std::size_t i) { return data + 2 + 3 * i; };
  switch (next() % 4) {
    case 0:  // insert a new operation
      if (size + 3 <= max) {
        const std::size_t i = ops ? next() % (ops + 1) : 0;
        std::memmove(at(i) + 3, at(i), size - 2 - 3 * i);
        at(i)[0] = static_cast<std::uint8_t>(next() % kOps);
        at(i)[1] = static_cast<std::uint8_t>(next());
        at(i)[2] = static_cast<std::uint8_t>(next());
        return size + 3;
      }
      break;
    case 1:  // delete one
      if (ops > 1) {
        const std::size_t i = next() % ops;
        std::memmove(at(i), at(i) + 3, size - 2 - 3 * (i + 1));
        return size - 3;
      }
      break;
    case 2:  // duplicate a run of up to 8 operations after itself
      if (ops > 0) {
        const std::size_t i = next() % ops, n = std::min<std::size_t>(1 + next() % 8, ops - i);
        if (size + 3 * n <= max) {
          std::memmove(at(i + n), at(i), size - 2 - 3 * i);
          return size + 3 * n;
        }
      }
      break;
    default:  // another operation code in place
      if (ops > 0) {
        at(next() % ops)[0] = static_cast<std::uint8_t>(next() % kOps);
        return size;
      }
  }
  return LLVMFuzzerMutate(data, size, max);
}
#endif

#ifdef RCA_FUZZ_REPLAY
// Without libFuzzer: run every file named (or found in a named directory), then `--random N`
// inputs from a fixed seed, so the corpus is a regression test under gcc, asan and tsan.
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace {
std::size_t run_path(const std::string &path) {
  struct stat sb;
  if (stat(path.c_str(), &sb) != 0) {
    std::fprintf(stderr, "fuzz_heap: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  if (S_ISDIR(sb.st_mode)) {
    std::vector<std::string> names;
    if (DIR *d = opendir(path.c_str())) {
      while (dirent *e = readdir(d))
        if (e->d_name[0] != '.') names.push_back(path + "/" + e->d_name);
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    std::size_t n = 0;
    for (const auto &f : names) n += run_path(f);
    return n;
  }
  std::ifstream f(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                  std::istreambuf_iterator<char>());
  run_one(bytes.data(), bytes.size());
  return 1;
}
}  // namespace

int main(int argc, char **argv) {
  init_from_env();
  rca::detail::fatal_hook = on_fatal;
  std::size_t files = 0, randoms = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--random") == 0 && i + 1 < argc) {
      randoms = std::strtoul(argv[++i], nullptr, 10);
      continue;
    }
    files += run_path(argv[i]);
  }
  std::uint64_t x = 0x9e3779b97f4a7c15ull;  // fixed seed: the same inputs every run
  std::vector<std::uint8_t> buf;
  for (std::size_t r = 0; r < randoms; ++r) {
    buf.resize(2 + (r * 37) % 600);
    for (auto &b : buf) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = static_cast<std::uint8_t>(x >> 24);
    }
    run_one(buf.data(), buf.size());
  }
  std::printf("fuzz_heap replay: %zu corpus files, %zu random inputs: all checks held\n", files,
              randoms);
  return 0;
}
#endif
