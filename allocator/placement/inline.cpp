// inline: the count is the object's first field, as in CPython and Duktape (the baseline). No
// slot, no handle, no refcount page; freeze needs the registry of live objects.
#include "placement/placement.h"

#include <cerrno>

namespace rca::detail {
namespace {

struct inline_policy : no_slots {
  static constexpr rca_placement_t id = RCA_PLACEMENT_INLINE;
  static constexpr const char *name = "inline";
  static constexpr bool has_refcount_pages = false;
  static constexpr bool has_handle = false;
  static constexpr bool slots_per_thread = false;
  static constexpr bool tracks_objects_by_default = true;
  static constexpr unsigned slot_stride = 0;

  static int resolve(rca_config_t *cfg) noexcept {
    cfg->handle_kind = RCA_HANDLE_KIND_POINTER;  // unused
    return 0;
  }

  static std::size_t header_size(const rca_config_t &cfg) noexcept { return cfg.slot_bits / 8; }

  static void *alloc(rca_heap_t *heap, std::size_t size, pool *mine) noexcept {
    void *obj = backend_object_alloc(heap, size, mine);
    if (obj) slot_store(heap, obj, 1);
    return obj;
  }

  static void free(rca_heap_t *heap, void *obj, pool *mine) noexcept {
    backend_object_free(heap, obj, mine);
  }

  static void *obj_slot(const rca_heap_t *, const void *obj) noexcept {
    return const_cast<void *>(obj);
  }

  static rca_handle_t slot_alloc(rca_heap_t *, void *) noexcept { return refuse("rca_slot_alloc"); }
  static std::size_t slot_alloc_batch(rca_heap_t *, rca_handle_t *, std::size_t,
                                      void *const *) noexcept {
    return refuse("rca_slot_alloc_batch");
  }
  static rca_handle_t refuse(const char *what) noexcept {
    set_error(EINVAL, "%s: an inline heap has no slots (the count is the header)", what);
    return 0;
  }
};

}  // namespace

extern constinit const placement_ops inline_placement = make_placement_ops<inline_policy>();

}  // namespace rca::detail
