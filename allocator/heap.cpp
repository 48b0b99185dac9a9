// Heaps: creation and destruction, objects and slots (through the heap's placement, see
// placement/placement.h), raw memory, and every thread's pool of each heap.
#include "internal.h"
#include "placement/placement.h"
#include "prim/prim.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <new>

namespace rca::detail {

// ---------------------------------------------------------------------------------------------
// Live heaps (for fork handling, messages and thread exit)
// ---------------------------------------------------------------------------------------------

std::mutex &heaps_lock() noexcept {
  static std::mutex m;
  return m;
}
std::vector<rca_heap_t *> &live_heaps() noexcept {
  // Never destroyed: the at-exit stats handler and threads that exit during static destruction
  // still walk it. A plain static was constructed after the handler was registered (first
  // rca_heap_new), so it was destroyed first and the handler read freed memory.
  static auto *v = new std::vector<rca_heap_t *>();
  return *v;
}

namespace {

std::atomic<std::uint64_t> next_heap_id{1};

// ---------------------------------------------------------------------------------------------
// Thread pools: each thread keeps (heap id -> pool) pairs. Heap ids are never reused, so an
// entry of a destroyed heap can never match again. At thread exit, pools of heaps still alive
// are abandoned (their pages go to the arena for adoption) and recycled for the next thread.
// ---------------------------------------------------------------------------------------------

struct thread_pools {
  struct entry {
    std::uint64_t heap_id;
    rca_heap_t *heap;
    pool *p;
  };
  std::vector<entry> entries;
  ~thread_pools();
};

thread_local thread_pools t_pools;
// Set once t_pools is destroyed: a thread-local destructor that runs after it (a VM's own
// thread-local cache freeing objects) must not touch the vector; it counts into the heap's block.
constinit thread_local bool t_pools_gone __attribute__((tls_model("initial-exec"))) = false;
thread_local std::uint64_t t_tag = 0;
std::atomic<std::uint64_t> next_thread_tag{1};

thread_pools::~thread_pools() {
  t_last = {0, nullptr};  // the pools below go to other threads
  t_pools_gone = true;
  std::lock_guard<std::mutex> g(heaps_lock());
  for (const entry &e : entries) {
    auto &heaps = live_heaps();
    if (std::find(heaps.begin(), heaps.end(), e.heap) == heaps.end() || e.heap->id != e.heap_id)
      continue;  // destroyed (heaps_lock keeps it from being destroyed while we work)
    if (e.heap->placement->slots_per_thread) pool_abandon(e.heap, e.p);
    if (e.heap->has_spans) spans_abandon(e.heap, &e.p->spans);
    std::lock_guard<spin_lock> pg(e.heap->pool_lock);
    e.p->active = false;
    e.heap->free_pools.push_back(e.p);
  }
}

}  // namespace

constinit thread_local last_pool t_last __attribute__((tls_model("initial-exec"))) = {0, nullptr};

// The calling thread's tag, used by fork handling to find its pools.
std::uint64_t current_thread_tag() noexcept {
  if (t_tag == 0) t_tag = next_thread_tag.fetch_add(1, std::memory_order_relaxed);
  return t_tag;
}

pool *thread_pool_slow(rca_heap_t *heap) noexcept {
  if (t_pools_gone) return nullptr;
  for (const auto &e : t_pools.entries)
    if (e.heap_id == heap->id) {
      t_last = {e.heap_id, e.p};
      return e.p;
    }
  pool *p;
  {
    std::lock_guard<spin_lock> g(heap->pool_lock);
    if (!heap->free_pools.empty()) {
      p = heap->free_pools.back();
      heap->free_pools.pop_back();
    } else {
      void *mem = heap->pool_memory.allocate(sizeof(pool));
      if (!mem) return nullptr;
      p = new (mem) pool();
      heap->pools.push_back(p);
    }
    p->active = true;
    p->thread_tag = current_thread_tag();
  }
  // Drop the entries of heaps destroyed since: a thread that used many short-lived heaps made
  // this scan ever longer.
  {
    std::lock_guard<std::mutex> g(heaps_lock());
    const auto &heaps = live_heaps();
    std::erase_if(t_pools.entries, [&](const thread_pools::entry &e) {
      return std::none_of(heaps.begin(), heaps.end(),
                          [&](const rca_heap_t *h) { return h == e.heap && h->id == e.heap_id; });
    });
  }
  t_pools.entries.push_back({heap->id, heap, p});
  t_last = {heap->id, p};
  return p;
}

namespace {

constexpr std::size_t kHeapBytes = (sizeof(rca_heap_s) + kPageSize - 1) / kPageSize * kPageSize;

void destroy_heap_memory(rca_heap_t *heap) noexcept {
  heap->~rca_heap_s();
  lsan_root_remove(heap, kHeapBytes);
  rca::prim::release(heap, kHeapBytes);
}

// A destroyed heap's structure is not unmapped at once: it stays, marked dead, until
// kHeapQuarantine more heaps have been destroyed. A stale pointer to it meanwhile reads the dead
// magic and aborts with a message (instead of SIGSEGV), and no new heap can get its address, so
// a stale rca_heap_destroy cannot destroy a newer heap. Costs one page per quarantined heap
// (the rest of a larger structure is decommitted). Older ones are unmapped: a pointer to a heap
// destroyed longer ago is not caught.
constexpr std::size_t kHeapQuarantine = 256;
rca_heap_t *quarantine[kHeapQuarantine];  // guarded by heaps_lock
std::size_t quarantine_next = 0;

void bury_heap(rca_heap_t *heap) noexcept {
  heap->~rca_heap_s();
  lsan_root_remove(heap, kHeapBytes);
  new (static_cast<void *>(heap)) std::uint64_t(kDeadHeapMagic);  // rca_heap_s::magic
  if (kHeapBytes > kPageSize)
    rca::prim::decommit(reinterpret_cast<char *>(heap) + kPageSize, kHeapBytes - kPageSize);
  std::lock_guard<std::mutex> g(heaps_lock());
  rca_heap_t *&slot = quarantine[quarantine_next++ % kHeapQuarantine];
  if (slot) rca::prim::release(slot, kHeapBytes);
  slot = heap;
}

// The generic operations are always checked: a freed or foreign object aborts with a message
// instead of following whatever its header holds now (a freed object's first bytes may be the
// backend's free-list link). With tracking the registry decides before the header is read.
// Without it: arena placements check the slot's bitmap bit and object tag, embedded ones that
// the header points into the object; an inline heap that does not track has nothing to ask.
void *live_object_slot(const rca_heap_t *heap, const void *obj, const char *what) noexcept {
  check_heap(heap, what);
  char desc[128];
  if (heap->tracking && !registry_contains(const_cast<rca_heap_t *>(heap), obj, block_kind::object))
    fatal("%s: %p is not a live object of %s (freed already, or a pointer from elsewhere)", what,
          obj, describe(heap, desc, sizeof desc));
  if (heap->placement->has_refcount_pages) {
    void *slot = heap->placement->obj_slot(heap, obj);
    check_object_slot(heap, obj, slot, what);
    return slot;
  }
  if (heap->placement->id == RCA_PLACEMENT_EMBEDDED &&
      *static_cast<const void *const *>(obj) != static_cast<const char *>(obj) + sizeof(void *))
    fatal("%s: %p is not a live object of %s (its header does not point into it)", what, obj,
          describe(heap, desc, sizeof desc));
  return heap->placement->obj_slot(heap, obj);
}

}  // namespace

void backend_out_of_memory(const rca_heap_t *heap, std::size_t size) noexcept {
  set_error(ENOMEM, "backend %s: out of memory for %zu bytes",
            rca_backend_name(heap->config.backend), size);
}

}  // namespace rca::detail

using namespace rca::detail;

extern "C" {

// ---------------------------------------------------------------------------------------------
// Heap lifetime
// ---------------------------------------------------------------------------------------------

RCA_API rca_heap_t *rca_heap_new(const rca_config_t *cfg_in) {
  rca_config_t cfg;
  if (cfg_in) {
    cfg = *cfg_in;
  } else {
    rca_config_init(&cfg);
    if (rca_config_from_env(&cfg) != 0) return nullptr;
  }
  if (int e = resolve_config(&cfg)) {
    errno = e;
    return nullptr;
  }
  backend_ops backend;
  if (int e = backend_load(cfg.backend, &backend)) {
    errno = e;
    return nullptr;
  }
  // The heap structure gets pages of its own: its locks and counters are written all the time,
  // and must not share a page with objects (a fork child would dirty that object page).
  void *mem = nullptr;
  const std::size_t heap_bytes = kHeapBytes;
  if (int e = rca::prim::reserve(heap_bytes, &mem); e || (e = rca::prim::commit(mem, heap_bytes))) {
    set_error(e, "cannot map the heap structure");
    return nullptr;
  }
  rca_heap_t *heap = new (mem) rca_heap_s();
  // Its pages are mmap'ed, which LeakSanitizer does not scan: registered, so that what only the
  // heap points to (thread pools, the registry's table) is not reported leaked for a heap alive at
  // exit.
  lsan_root_add(mem, heap_bytes);
  heap->magic = kHeapMagic;
  heap->config = cfg;
  heap->placement = &placement_of(cfg.placement);
  heap->id = next_heap_id.fetch_add(1, std::memory_order_relaxed);
  heap->slot_width = cfg.slot_bits / 8;
  heap->slot_stride =
      heap->placement->slot_stride ? heap->placement->slot_stride : heap->slot_width;
  heap->slot_shift = static_cast<unsigned>(__builtin_ctz(heap->slot_stride));
  heap->tracking = cfg.track_objects != 0;
  heap->backend = backend;
  heap->header_size = heap->placement->header_size(cfg);
  heap->has_spans = cfg.backend == RCA_BACKEND_RCA;
  heap->counts_in_spans = cfg.placement == RCA_PLACEMENT_COMPUTED;
  if (heap->placement->has_refcount_pages) {
    if (int e = arena_init(heap->arena, cfg.arena_limit, cfg.retain_pages, heap->slot_width,
                           heap->slot_stride)) {
      destroy_heap_memory(heap);
      errno = e;
      return nullptr;
    }
  }
  if (heap->has_spans) {
    // A computed heap lays its counts out for its address function; other heaps use the span
    // layout for the free marks alone (count memory in proportion to blocks).
    const bool granule = heap->counts_in_spans && cfg.address == RCA_ADDRESS_GRANULE;
    if (int e = spans_init(heap->spans, cfg.object_limit, granule, heap->slot_width,
                           cfg.retain_pages)) {
      arena_destroy(heap->arena);
      destroy_heap_memory(heap);
      errno = e;
      return nullptr;
    }
  }
  install_fork_handlers();
  print_stats_at_exit_if_asked();
  {
    std::lock_guard<std::mutex> g(heaps_lock());
    live_heaps().push_back(heap);
  }
  return heap;
}

RCA_API void rca_heap_destroy(rca_heap_t *heap) {
  if (!heap) return;
  check_heap(heap, "rca_heap_destroy");
  {
    std::lock_guard<std::mutex> g(heaps_lock());
    auto &v = live_heaps();
    auto it = std::find(v.begin(), v.end(), heap);
    if (it == v.end())
      fatal("rca_heap_destroy: %p is not a live heap (destroyed twice?)", (void *)heap);
    v.erase(it);
  }
  if (heap->config.show_stats) rca_heap_print_stats(heap, stderr);
  // Objects and raw blocks the heap knows of go back to the backend; slots go with the arena
  // (embedded heaps' bare slots are the caller's memory).
  if (!heap->has_spans)  // span memory goes with its region
    heap->registry.for_each([&](registry_table::entry &e) {
      if (e.kind != block_kind::slot) heap->backend.free(e.block);
    });
  heap->registry.release();
  arena_destroy(heap->arena);
  spans_destroy(heap->spans);
  if (heap->saved_counts) rca::prim::release(heap->saved_counts, heap->saved_bytes);
  for (pool *p : heap->pools) p->~pool();  // their memory goes with pool_memory
  heap->magic = kDeadHeapMagic;
  bury_heap(heap);
}

RCA_API const rca_config_t *rca_heap_config(const rca_heap_t *heap) {
  check_heap(heap, "rca_heap_config");
  return &heap->config;
}
RCA_API size_t rca_header_size(const rca_heap_t *heap) {
  check_heap(heap, "rca_header_size");
  return heap->header_size;
}

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

RCA_API void *rca_obj_alloc(rca_heap_t *heap, size_t size) {
  check_heap(heap, "rca_obj_alloc");
  return heap->placement->obj_alloc(heap, size);
}

RCA_API void rca_obj_free(rca_heap_t *heap, void *obj) {
  check_heap(heap, "rca_obj_free");
  if (obj) heap->placement->obj_free(heap, obj);
}

RCA_API void *rca_obj_slot(const rca_heap_t *heap, const void *obj) {
  check_heap(heap, "rca_obj_slot");
  return heap->placement->obj_slot(heap, obj);
}

RCA_API uint64_t rca_obj_count(const rca_heap_t *heap, const void *obj) {
  return slot_load(heap, live_object_slot(heap, obj, "rca_obj_count"));
}

// Run-time dispatched incref/decref: atomic, freeze check on, checked. For tools and tests; the
// hot path of a VM or an experiment is the compiled-in one (rca.h / refcount.hpp).
RCA_API void rca_obj_incref(rca_heap_t *heap, void *obj) {
  constexpr unsigned f = RCA_RC_ATOMIC | RCA_RC_FREEZE_CHECK | RCA_RC_CHECKED;
  void *s = live_object_slot(heap, obj, "rca_obj_incref");
  if (heap->slot_width == 4) rca_rc32_incref(static_cast<std::uint32_t *>(s), f);
  else rca_rc64_incref(static_cast<std::uint64_t *>(s), f);
}

RCA_API int rca_obj_decref(rca_heap_t *heap, void *obj) {
  constexpr unsigned f = RCA_RC_ATOMIC | RCA_RC_FREEZE_CHECK | RCA_RC_CHECKED;
  void *s = live_object_slot(heap, obj, "rca_obj_decref");
  return heap->slot_width == 4 ? rca_rc32_decref(static_cast<std::uint32_t *>(s), f)
                               : rca_rc64_decref(static_cast<std::uint64_t *>(s), f);
}

RCA_API int rca_obj_release(rca_heap_t *heap, void *obj) {
  if (!rca_obj_decref(heap, obj)) return 0;
  rca_obj_free(heap, obj);
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Slots alone
// ---------------------------------------------------------------------------------------------

RCA_API rca_handle_t rca_slot_alloc(rca_heap_t *heap, void *embedded_slot) {
  check_heap(heap, "rca_slot_alloc");
  return heap->placement->slot_alloc(heap, embedded_slot);
}

RCA_API void *rca_slot_ptr(const rca_heap_t *heap, rca_handle_t h) {
  check_heap(heap, "rca_slot_ptr");
  return heap->placement->slot_ptr(heap, h);
}

RCA_API void rca_slot_free(rca_heap_t *heap, rca_handle_t h) {
  check_heap(heap, "rca_slot_free");
  heap->placement->slot_free(heap, h);
}

RCA_API size_t rca_slot_alloc_batch(rca_heap_t *heap, rca_handle_t *out, size_t n,
                                    void *const *embedded_slots) {
  check_heap(heap, "rca_slot_alloc_batch");
  if (n != 0 && !out) {
    set_error(EINVAL, "rca_slot_alloc_batch: no array for the %zu handles (out is null)", n);
    return 0;
  }
  return heap->placement->slot_alloc_batch(heap, out, n, embedded_slots);
}

RCA_API void rca_slot_free_batch(rca_heap_t *heap, const rca_handle_t *handles, size_t n) {
  check_heap(heap, "rca_slot_free_batch");
  if (n != 0 && !handles) {
    char desc[128];
    fatal("rca_slot_free_batch: %zu handles given to %s in a null array", n,
          describe(heap, desc, sizeof desc));
  }
  heap->placement->slot_free_batch(heap, handles, n);
}

RCA_API void *rca_slot_base(const rca_heap_t *heap) {
  check_heap(heap, "rca_slot_base");
  return heap->counts_in_spans ? heap->spans.counts : heap->arena.base;
}

RCA_API void rca_heap_object_range(const rca_heap_t *heap, void **lo, void **hi) {
  check_heap(heap, "rca_heap_object_range");
  *lo = heap->has_spans ? heap->spans.base : nullptr;
  *hi = heap->has_spans ? heap->spans.base + (heap->spans.units_limit << kSpanShift) : nullptr;
}

RCA_API uintptr_t rca_computed_bias(const rca_heap_t *heap) {
  check_heap(heap, "rca_computed_bias");
  return heap->counts_in_spans && heap->spans.granule ? heap->spans.granule_bias : 0;
}

// ---------------------------------------------------------------------------------------------
// Raw memory
// ---------------------------------------------------------------------------------------------

RCA_API void *rca_malloc(rca_heap_t *heap, size_t size) {
  check_heap(heap, "rca_malloc");
  pool *mine = thread_pool(heap);
  void *p = heap->has_spans ? span_alloc(heap, mine, size ? size : 1, true)
                            : heap->backend.malloc(size ? size : 1);
  if (!p) {
    if (!heap->has_spans) backend_out_of_memory(heap, size);  // (spans say why themselves)
    return nullptr;
  }
  account_alloc(heap, mine, p);
  if (heap->config.checks) registry_add(heap, p, block_kind::raw);
  return p;
}

RCA_API void rca_free(rca_heap_t *heap, void *p) {
  check_heap(heap, "rca_free");
  if (!p) return;
  if (heap->config.checks) registry_remove(heap, p, block_kind::raw, "rca_free");
  pool *mine = thread_pool(heap);
  if (heap->has_spans) {
    account_bytes(heap, mine, -static_cast<std::int64_t>(span_free(heap, mine, p, "rca_free")));
    return;
  }
  account_free(heap, mine, p);
  heap->backend.free(p);
}

RCA_API void *rca_realloc(rca_heap_t *heap, void *p, size_t size) {
  check_heap(heap, "rca_realloc");
  if (!p) return rca_malloc(heap, size);
  if (size == 0) {
    rca_free(heap, p);
    return nullptr;
  }
  if (heap->config.checks) registry_remove(heap, p, block_kind::raw, "rca_realloc");
  const std::size_t old_usable = kCountEvents ? object_usable_size(heap, p) : 0;
  void *q = heap->has_spans ? span_realloc(heap, thread_pool(heap), p, size)
                            : heap->backend.realloc(p, size);
  if (!q) {  // p is still valid and still ours
    if (heap->config.checks) registry_add(heap, p, block_kind::raw);
    if (!heap->has_spans) backend_out_of_memory(heap, size);
    return nullptr;
  }
  if constexpr (kCountEvents)
    account_bytes(heap, thread_pool(heap),
                  static_cast<std::int64_t>(object_usable_size(heap, q)) -
                      static_cast<std::int64_t>(old_usable));
  if (heap->config.checks) registry_add(heap, q, block_kind::raw);
  return q;
}

RCA_API size_t rca_usable_size(const rca_heap_t *heap, const void *p) {
  check_heap(heap, "rca_usable_size");
  return p ? object_usable_size(heap, p) : 0;
}

}  // extern "C"
