// The placements whose slots live in the heap's refcount arena (slots.cpp hands them out): the
// object's header holds a handle, the slot's address or its 32-bit index in the arena.
//   shared   slots from the heap's one shared pool, so threads' slots interleave on the same
//            pages (the false-sharing case)
//   thread   slots from the allocating thread's own pool and pages
//   padded   the shared pool with one slot per 64-byte line
#include "placement/placement.h"

#include <cerrno>

namespace rca::detail {
namespace {

struct arena_policy {
  static constexpr bool has_refcount_pages = true;
  static constexpr bool has_handle = true;
  static constexpr bool tracks_objects_by_default = false;

  static int resolve(rca_config_t *) noexcept { return 0; }

  static std::size_t header_size(const rca_config_t &cfg) noexcept {
    return cfg.handle_kind == RCA_HANDLE_KIND_INDEX ? 4 : sizeof(void *);
  }

  static void *slot_ptr(const rca_heap_t *heap, rca_handle_t handle) noexcept {
    if (heap->config.handle_kind == RCA_HANDLE_KIND_INDEX)
      return heap->arena.base + std::size_t(handle) * heap->slot_width;
    return reinterpret_cast<void *>(handle);
  }

  static rca_handle_t handle_of(const rca_heap_t *heap, void *slot) noexcept {
    if (heap->config.handle_kind != RCA_HANDLE_KIND_INDEX)
      return reinterpret_cast<rca_handle_t>(slot);
    return static_cast<std::uint32_t>(code_of(heap).handle(slot));
  }

  static handle_code code_of(const rca_heap_t *heap) noexcept {
    if (heap->config.handle_kind != RCA_HANDLE_KIND_INDEX) return {0, 0};
    return {reinterpret_cast<std::uintptr_t>(heap->arena.base), heap->slot_width == 4 ? 2u : 3u};
  }

  // An index outside the arena would name memory past it (slot_free_checked checks addresses).
  static void check_index(const rca_heap_t *heap, rca_handle_t handle, const char *what) noexcept {
    if (handle == 0 || std::size_t(handle) * heap->slot_width >= heap->arena.reserved) {
      char desc[128];
      fatal("%s: index %llu is outside %s (a handle from another heap?)", what,
            static_cast<unsigned long long>(handle), describe(heap, desc, sizeof desc));
    }
  }

  static void *obj_slot(const rca_heap_t *heap, const void *obj) noexcept {
    if (heap->config.handle_kind == RCA_HANDLE_KIND_INDEX)
      return slot_ptr(heap, *static_cast<const std::uint32_t *>(obj));
    return *static_cast<void *const *>(obj);
  }

  static void *alloc(rca_heap_t *heap, std::size_t size, pool *mine) noexcept {
    void *obj = backend_object_alloc(heap, size, mine);
    if (!obj) return nullptr;
    void *slot = rca::detail::slot_alloc(heap, mine);
    if (!slot) {
      backend_object_free(heap, obj, mine);
      errno = ENOMEM;
      return nullptr;
    }
    if (heap->config.handle_kind == RCA_HANDLE_KIND_INDEX)
      *static_cast<std::uint32_t *>(obj) = static_cast<std::uint32_t>(handle_of(heap, slot));
    else *static_cast<void **>(obj) = slot;
    slot_bind_object(heap, slot, obj);
    return obj;
  }

  static void free(rca_heap_t *heap, void *obj, pool *mine) noexcept {
    // The slot's object tag must name obj: with checks off (no registry) this is what catches a
    // double free whose slot went to another object, and an object of another index heap.
    slot_free_object(heap, obj, obj_slot(heap, obj), "rca_obj_free", mine);
    backend_object_free(heap, obj, mine);
  }

  static rca_handle_t slot_alloc(rca_heap_t *heap, void *) noexcept {
    void *slot = rca::detail::slot_alloc(heap, thread_pool(heap));
    return slot ? handle_of(heap, slot) : 0;
  }

  static void slot_free(rca_heap_t *heap, rca_handle_t handle) noexcept {
    if (heap->config.handle_kind == RCA_HANDLE_KIND_INDEX)
      check_index(heap, handle, "rca_slot_free");
    slot_free_bare(heap, slot_ptr(heap, handle), "rca_slot_free", thread_pool(heap));
  }

  static std::size_t slot_alloc_batch(rca_heap_t *heap, rca_handle_t *out, std::size_t n,
                                      void *const *) noexcept {
    return rca::detail::slot_alloc_batch(heap, thread_pool(heap), out, n, code_of(heap));
  }

  // Every index is checked before any slot is freed; the rest as n rca_slot_free calls.
  static void slot_free_batch(rca_heap_t *heap, const rca_handle_t *handles,
                              std::size_t n) noexcept {
    if (heap->config.handle_kind == RCA_HANDLE_KIND_INDEX) {
      // One compare per handle (0 wraps to the top); the first bad one is found afterwards.
      const std::size_t limit = heap->arena.reserved / heap->slot_width;
      bool bad = false;
      for (std::size_t i = 0; i < n; ++i) bad |= handles[i] - 1 >= limit - 1;
      if (bad)
        for (std::size_t i = 0; i < n; ++i) check_index(heap, handles[i], "rca_slot_free_batch");
    }
    rca::detail::slot_free_batch(heap, thread_pool(heap), handles, n, code_of(heap),
                                 "rca_slot_free_batch");
  }
};

struct shared_policy : arena_policy {
  static constexpr rca_placement_t id = RCA_PLACEMENT_SHARED;
  static constexpr const char *name = "shared";
  static constexpr bool slots_per_thread = false;
  static constexpr unsigned slot_stride = 0;
};

struct thread_policy : arena_policy {
  static constexpr rca_placement_t id = RCA_PLACEMENT_THREAD;
  static constexpr const char *name = "thread";
  static constexpr bool slots_per_thread = true;
  static constexpr unsigned slot_stride = 0;
};

struct padded_policy : arena_policy {
  static constexpr rca_placement_t id = RCA_PLACEMENT_PADDED;
  static constexpr const char *name = "padded";
  static constexpr bool slots_per_thread = false;
  static constexpr unsigned slot_stride = unsigned(kLineSize);
};

}  // namespace

extern constinit const placement_ops shared_placement = make_placement_ops<shared_policy>();
extern constinit const placement_ops thread_placement = make_placement_ops<thread_policy>();
extern constinit const placement_ops padded_placement = make_placement_ops<padded_policy>();

}  // namespace rca::detail
