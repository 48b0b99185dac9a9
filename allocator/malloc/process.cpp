// The process heap of rca malloc: made by the first call without allocating (no constructor has
// to run first), its options from the environment, each thread's span cache, thread exit and
// fork. The heap is an rca_heap_s in static storage, so that spans.cpp serves it unchanged; of
// the heap only the span region, the fallback cache (shared_spans, for a thread past its exit)
// and pool_lock are used.
#include "malloc.h"
#include "../prim/prim.h"

#include <new>

namespace rca::detail::malloc_layer {

constinit region_view g_region = {{0}, {0}, {nullptr}};
constinit thread_local thread_cache *t_fast __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

constinit thread_local thread_cache *t_cache __attribute__((tls_model("initial-exec"))) = nullptr;
constinit thread_local bool t_exited __attribute__((tls_model("initial-exec"))) = false;
constinit thread_local bool t_making_heap __attribute__((tls_model("initial-exec"))) = false;

alignas(rca_heap_s) unsigned char heap_storage[sizeof(rca_heap_s)];
rca_heap_t *g_heap = nullptr;
std::atomic<int> g_ready{0};  // 0: not made, 1: made
spin_lock g_init_lock;
malloc_options g_options;

spin_lock g_caches_lock;  // guards the lists below and heap->pool_memory
thread_cache *g_all = nullptr;
thread_cache *g_free = nullptr;
unsigned g_exit_key = 0;

// ---- options --------------------------------------------------------------------------------

// One option from the environment through the allocator's parsers (options.cpp); a bad value is
// a one-line error: a malloc that silently ran with other settings than asked would mislead.
template <class T, class Parse>
void read_option(const char *env, Parse parse, T *out) noexcept {
  const char *v = prim::env(env);
  if (!v || !*v) return;
  T value;
  if (parse(env, v, &value) != 0) fatal("rca malloc: %s", rca_last_error());
  *out = value;
}

void read_options(malloc_options &o) noexcept {
  read_option<std::size_t>("RCA_OBJECT_LIMIT", parse_size, &o.region_bytes);
  o.region_set = prim::env("RCA_OBJECT_LIMIT") != nullptr;
  read_option<std::size_t>("RCA_RETAIN_PAGES", parse_size, &o.retain_pages);
  read_option<std::size_t>("RCA_RETAIN_PERCENT", parse_size, &o.retain_percent);
  int b = o.checks;
  read_option<int>("RCA_CHECKS", parse_bool, &b);
  o.checks = b;
  b = o.show_stats;
  read_option<int>("RCA_SHOW_STATS", parse_bool, &b);
  o.show_stats = b;
  if (o.retain_percent > kMaxRetainPercent)
    fatal("rca malloc: RCA_RETAIN_PERCENT %zu is above %zu", o.retain_percent, kMaxRetainPercent);
  if (o.region_bytes < kSpanBytes)
    fatal("rca malloc: RCA_OBJECT_LIMIT %zu is below one span (%zu bytes)", o.region_bytes,
          kSpanBytes);
}

// ---- thread exit and fork -------------------------------------------------------------------

void recycle(thread_cache *tc) noexcept {
  tc->active = false;
  tc->next_free = g_free;
  g_free = tc;
}

// pthread key destructor: runs after the thread's C++ thread_local destructors (which may still
// free into the cache). Later frees and allocations of this thread take the heap's locked cache.
void thread_exited(void *value) noexcept {
  auto *tc = static_cast<thread_cache *>(value);
  t_fast = t_cache = nullptr;
  t_exited = true;
  spans_abandon(g_heap, &tc->spans.spans);
  std::lock_guard<spin_lock> g(g_caches_lock);
  recycle(tc);
}

// Locks in one order: caches, then the heap's pool lock (shared_spans), the region, huge blocks.
// The forking thread holds them across fork, so no other thread holds one in the child.
void fork_prepare() {
  // First a heap that another thread is still making (its hooks are in place, it is not
  // published): a child forked in between would inherit g_init_lock held and hang on its first
  // allocation.
  g_init_lock.lock();
  g_caches_lock.lock();
  g_heap->pool_lock.lock();
  g_heap->spans.lock.lock();
  huge_fork_prepare();
}
void fork_parent() {
  huge_fork_release();
  g_heap->spans.lock.unlock();
  g_heap->pool_lock.unlock();
  g_caches_lock.unlock();
  g_init_lock.unlock();
}
// Only the forking thread lives on: every other thread's spans are abandoned (found by
// descriptor: the thread may have stopped inside a list operation) and its cache recycled.
void fork_child() {
  fork_parent();
  std::lock_guard<spin_lock> g(g_caches_lock);
  for (thread_cache *tc = g_all; tc; tc = tc->next_all)
    if (tc->active && tc != t_cache) {
      spans_abandon_after_fork(g_heap, &tc->spans.spans);
      recycle(tc);
    }
}

void at_exit_stats() { print_stats(); }

// ---- the heap -------------------------------------------------------------------------------

// Made under g_init_lock. Nothing here may call malloc: placement new of the heap (its
// containers start empty), mappings, environment reads.
void make_heap() noexcept {
  read_options(g_options);
  auto *heap = new (heap_storage) rca_heap_s();
  heap->magic = kHeapMagic;
  heap->id = kMallocHeapId;
  rca_config_init(&heap->config);
  heap->config.backend = RCA_BACKEND_RCA;
  heap->config.object_limit = g_options.region_bytes;
  heap->config.retain_pages = g_options.retain_pages;
  heap->config.checks = g_options.checks;
  heap->slot_width = 4;
  heap->slot_stride = 4;
  heap->slot_shift = 2;
  heap->has_spans = true;
  heap->spans.header_bytes = 0;
  heap->spans.counted = g_options.checks;  // the marker words are the checks
  heap->spans.spare_limit = g_options.checks ? 0 : kSpareSpans;
  heap->spans.retain_percent = static_cast<unsigned>(g_options.retain_percent);
  heap->spans.retain_above_peak = kRetainAbovePeak;
  // The default region is address space only, but a process may have less (ulimit -v, or
  // valgrind's own limit): halve it down to 256 MiB before giving up. A size the user asked for
  // is made or refused.
  while (spans_init(heap->spans, g_options.region_bytes, false, 4, g_options.retain_pages) != 0) {
    if (g_options.region_set || g_options.region_bytes <= (std::size_t(256) << 20))
      fatal("rca malloc: cannot make the process heap: %s", rca_last_error());
    g_options.region_bytes /= 2;
  }
  heap->config.object_limit = g_options.region_bytes;
  g_region.base.store(reinterpret_cast<std::uintptr_t>(heap->spans.base),
                      std::memory_order_relaxed);
  g_region.descs.store(heap->spans.descs, std::memory_order_relaxed);
  g_region.bytes.store(heap->spans.units_limit << kSpanShift, std::memory_order_relaxed);
  g_heap = heap;
}

// After the heap is made, before it is published (a hook that allocates finds it through
// t_making_heap): thread exit first (a cache made by a hook's allocation files itself under the
// key), then fork, stats.
void install_hooks() noexcept {
  if (int e = prim::thread_exit_key(&g_exit_key, thread_exited))
    fatal("rca malloc: no thread-exit key (error %d)", e);
  if (int e = prim::atfork(fork_prepare, fork_parent, fork_child))
    fatal("rca malloc: cannot register fork handlers (error %d)", e);
  if (g_options.show_stats) prim::at_exit(at_exit_stats);
}

}  // namespace

const malloc_options &options() noexcept {
  process_heap();  // they are read when the heap is made
  return g_options;
}

std::size_t thread_caches_made() noexcept {
  std::lock_guard<spin_lock> g(g_caches_lock);
  std::size_t n = 0;
  for (thread_cache *tc = g_all; tc; tc = tc->next_all) ++n;
  return n;
}

rca_heap_t *process_heap() noexcept {
  if (g_ready.load(std::memory_order_acquire)) [[likely]]
    return g_heap;
  // The hooks' own allocations (pthread_atfork keeps its handlers in malloc'd memory) come back
  // here on the thread that is making the heap: it is made, only not published yet.
  if (t_making_heap) return g_heap;
  std::lock_guard<spin_lock> g(g_init_lock);
  if (!g_ready.load(std::memory_order_relaxed)) {
    // Published only with its hooks in place: a thread that forked, or got a cache, between the
    // two would fork with no handler holding the locks (a child deadlocked on a lock another
    // thread held) or file its cache under a thread-exit key not yet made.
    t_making_heap = true;
    make_heap();
    install_hooks();
    t_making_heap = false;
    g_ready.store(1, std::memory_order_release);
  }
  return g_heap;
}

// The heap is also made at load time, while the process is almost surely one thread: a fork
// handler exists only once the heap does, so a heap first made by a thread racing another
// thread's fork could leave the child a half-made heap (a fork before the handlers are
// registered runs none). The lazy path above still serves calls made before constructors run.
[[gnu::constructor]] static void make_at_load() { process_heap(); }

bool trim(std::size_t pad) noexcept {
  rca_heap_t *heap = process_heap();
  thread_cache *tc = thread_cache_of();
  const std::size_t keep_units = (pad + kSpanBytes - 1) >> kSpanShift;
  return spans_trim(heap, tc ? &tc->spans.spans : nullptr, keep_units) != 0;
}

thread_cache *thread_cache_of() noexcept {
  if (t_cache) [[likely]]
    return t_cache;
  if (t_exited) return nullptr;
  rca_heap_t *heap = process_heap();
  thread_cache *tc;
  {
    std::lock_guard<spin_lock> g(g_caches_lock);
    if (g_free) {
      tc = g_free;
      g_free = tc->next_free;
    } else {
      void *mem = heap->pool_memory.allocate(sizeof(thread_cache));
      if (!mem) return nullptr;  // no memory for a cache: the heap's locked one serves
      tc = new (mem) thread_cache();
      tc->next_all = g_all;
      g_all = tc;
    }
    tc->active = true;
    tc->thread = prim::thread_id();
  }
  t_cache = tc;
  if (!g_options.checks) t_fast = tc;
  prim::thread_exit_set(g_exit_key, tc);
  return tc;
}

}  // namespace rca::detail::malloc_layer
