// embedded: the header holds a pointer to a slot inside the same object, right after it. The
// hop of the handle placements without moving the count off the object's page: it isolates what
// the indirection costs from what moving the count saves. Pointer handles only (an index names a
// slot of the refcount arena, and this slot is not in it).
#include "placement/placement.h"

#include <cerrno>

namespace rca::detail {
namespace {

struct embedded_policy {
  static constexpr rca_placement_t id = RCA_PLACEMENT_EMBEDDED;
  static constexpr const char *name = "embedded";
  static constexpr bool has_refcount_pages = false;
  static constexpr bool has_handle = true;
  static constexpr bool slots_per_thread = false;
  static constexpr bool tracks_objects_by_default = true;
  static constexpr unsigned slot_stride = 0;

  static int resolve(rca_config_t *cfg) noexcept {
    if (cfg->handle_kind == RCA_HANDLE_KIND_INDEX)
      return set_error(EINVAL,
                       "embedded placement takes pointer handles only (its slot lies outside the "
                       "refcount arena, so no index can name it)"),
             EINVAL;
    return 0;
  }

  // The pointer, then 8 bytes for the slot whatever its width.
  static std::size_t header_size(const rca_config_t &) noexcept { return sizeof(void *) + 8; }

  static void *alloc(rca_heap_t *heap, std::size_t size, pool *mine) noexcept {
    void *obj = backend_object_alloc(heap, size, mine);
    if (!obj) return nullptr;
    void *slot = static_cast<char *>(obj) + sizeof(void *);
    *static_cast<void **>(obj) = slot;
    slot_store(heap, slot, 1);
    count_event(heap, mine, &heap_counters::slots_allocated, std::uint64_t(1));
    return obj;
  }

  static void free(rca_heap_t *heap, void *obj, pool *mine) noexcept {
    if (*static_cast<void **>(obj) != static_cast<char *>(obj) + sizeof(void *)) {
      char desc[128];
      fatal("rca_obj_free: %p is not an object of %s (its header does not point into it)", obj,
            describe(heap, desc, sizeof desc));
    }
    count_event(heap, mine, &heap_counters::slots_freed, std::uint64_t(1));
    backend_object_free(heap, obj, mine);
  }

  static void *obj_slot(const rca_heap_t *, const void *obj) noexcept {
    return *static_cast<void *const *>(obj);
  }

  static rca_handle_t slot_alloc(rca_heap_t *heap, void *embedded_slot) noexcept {
    if (!embedded_slot) {
      set_error(EINVAL, "rca_slot_alloc: an embedded heap needs the slot inside the object");
      return 0;
    }
    take(heap, embedded_slot);
    count_event(heap, thread_pool(heap), &heap_counters::slots_allocated, std::uint64_t(1));
    return reinterpret_cast<rca_handle_t>(embedded_slot);
  }

  static void slot_free(rca_heap_t *heap, rca_handle_t handle) noexcept {
    give_back(heap, handle, "rca_slot_free");
    count_event(heap, thread_pool(heap), &heap_counters::slots_freed, std::uint64_t(1));
  }

  // The slots are the caller's: a batch saves only the entry and the counter updates.
  static std::size_t slot_alloc_batch(rca_heap_t *heap, rca_handle_t *out, std::size_t n,
                                      void *const *embedded_slots) noexcept {
    for (std::size_t i = 0; i < n; ++i)
      if (!embedded_slots || !embedded_slots[i]) {
        set_error(EINVAL,
                  "rca_slot_alloc_batch: an embedded heap needs the slot inside each object "
                  "(embedded_slots[%zu] is null)",
                  i);
        return 0;
      }
    for (std::size_t i = 0; i < n; ++i) {
      take(heap, embedded_slots[i]);
      out[i] = reinterpret_cast<rca_handle_t>(embedded_slots[i]);
    }
    count_event(heap, thread_pool(heap), &heap_counters::slots_allocated, std::uint64_t(n));
    return n;
  }

  static void slot_free_batch(rca_heap_t *heap, const rca_handle_t *handles,
                              std::size_t n) noexcept {
    pool *mine = thread_pool(heap);
    for (std::size_t i = 0; i < n; ++i) {
      // Counted one by one: a bad handle aborts with every free before it done and counted.
      give_back(heap, handles[i], "rca_slot_free_batch");
      count_event(heap, mine, &heap_counters::slots_freed, std::uint64_t(1));
    }
  }

  static void take(rca_heap_t *heap, void *embedded_slot) noexcept {
    slot_store(heap, embedded_slot, 1);
    // The caller's memory has no page descriptor: the registry is what tells a live bare slot
    // from garbage, a freed one or another heap's at rca_slot_free (issue 10, defect 7).
    if (heap->tracking) registry_add(heap, embedded_slot, block_kind::slot);
  }

  static void give_back(rca_heap_t *heap, rca_handle_t handle, const char *what) noexcept {
    if (handle == 0) {
      char desc[128];
      fatal("%s: null handle given to %s", what, describe(heap, desc, sizeof desc));
    }
    if (heap->tracking)
      registry_remove(heap, reinterpret_cast<void *>(handle), block_kind::slot, what);
  }

  static void *slot_ptr(const rca_heap_t *, rca_handle_t handle) noexcept {
    return reinterpret_cast<void *>(handle);
  }
};

}  // namespace

extern constinit const placement_ops embedded_placement = make_placement_ops<embedded_policy>();

}  // namespace rca::detail
