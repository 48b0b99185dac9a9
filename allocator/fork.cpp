// Fork handling: no lock may be held by a thread that does not exist in the child, and the child
// must be able to allocate and free at once. Before fork every heap's locks are taken (in one
// fixed order: heaps list, then per heap pool, arena, spans, registry); both sides release them
// after. In the child only the forking thread survives: the pools of every other thread are
// recycled (thread placement: abandoned first, found by page descriptor since those threads may
// have stopped mid-update, so their pages are adopted when the child needs slots, and slots freed
// into them are collected).
#include "internal.h"
#include "placement/placement.h"
#include "prim/prim.h"

#include <mutex>

namespace rca::detail {

std::uint64_t current_thread_tag() noexcept;

namespace {

void prepare() {
  heaps_lock().lock();
  for (rca_heap_t *h : live_heaps()) {
    h->pool_lock.lock();
    h->arena.lock.lock();
    h->spans.lock.lock();
    h->registry_lock.lock();
  }
}

void unlock_all() {
  for (rca_heap_t *h : live_heaps()) {
    h->registry_lock.unlock();
    h->spans.lock.unlock();
    h->arena.lock.unlock();
    h->pool_lock.unlock();
  }
  heaps_lock().unlock();
}

void parent() { unlock_all(); }

void child() {
  unlock_all();
  const std::uint64_t me = current_thread_tag();
  std::lock_guard<std::mutex> g(heaps_lock());
  for (rca_heap_t *h : live_heaps()) {
    std::lock_guard<spin_lock> pg(h->pool_lock);
    for (pool *p : h->pools) {
      if (!p->active || p->thread_tag == me) continue;
      if (h->placement->slots_per_thread) pool_abandon_after_fork(h, p);
      if (h->has_spans) spans_abandon_after_fork(h, &p->spans);
      p->active = false;  // its counts stay in the sums
      h->free_pools.push_back(p);
    }
  }
}

}  // namespace

void install_fork_handlers() noexcept {
  static std::once_flag once;
  std::call_once(once, [] { prim::atfork(prepare, parent, child); });
}

}  // namespace rca::detail
