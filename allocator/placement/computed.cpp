// computed: objects from rca's span allocator (spans.cpp) with no header at all; the count's
// address is a function of the object's address (rca/computed.h). The count is born with its
// block and dies with it: nothing to allocate, nothing to free, no handle, and no slot in the
// heap's statistics (live_slots stays 0; refcount_pages counts the spans' count pages).
//
// Placements and threads: each thread allocates from its own spans, so each thread's counts lie
// on its own refcount pages: computed is `thread`'s layout without its slot work. `shared`
// (threads' counts interleaved on one page) and `padded` (a line per count) have no computed
// form: the count's place follows the object's, so interleaving the counts would mean
// interleaving the objects, and a line per count would mean 64 bytes of count per 16-byte
// granule.
#include "placement/placement.h"
#include "spans.h"

#include <algorithm>
#include <cerrno>

namespace rca::detail {
namespace {

struct computed_policy : no_slots {
  static constexpr rca_placement_t id = RCA_PLACEMENT_COMPUTED;
  static constexpr const char *name = "computed";
  static constexpr bool has_refcount_pages = false;  // its counts are the spans' (spans.cpp)
  static constexpr bool has_handle = false;
  static constexpr bool slots_per_thread = false;
  static constexpr bool tracks_objects_by_default = false;  // freeze sweeps the count windows
  static constexpr unsigned slot_stride = 0;

  static int resolve(rca_config_t *cfg) noexcept {
    // No handle, and the objects come from rca's span allocator whatever the backend said.
    cfg->handle_kind = RCA_HANDLE_KIND_POINTER;
    cfg->backend = RCA_BACKEND_RCA;
    // As many objects as arena_limit bytes of counts serve (one count per 16-byte granule).
    if (cfg->object_limit == 0) {
      const std::size_t counts = cfg->arena_limit ? cfg->arena_limit : kDefaultArenaLimit;
      cfg->object_limit = std::max(counts / (cfg->slot_bits / 8) * kGranule, kSpanBytes);
    }
    return 0;
  }

  static std::size_t header_size(const rca_config_t &) noexcept { return 0; }

  static void *alloc(rca_heap_t *heap, std::size_t size, pool *mine) noexcept {
    std::size_t bytes;
    void *obj = span_alloc_inline(heap, mine, size, false, &bytes);
    if (!obj) [[unlikely]]
      return nullptr;
    account_bytes(heap, mine, static_cast<std::int64_t>(bytes));
    return obj;
  }

  static void free(rca_heap_t *heap, void *obj, pool *mine) noexcept {
    const std::size_t bytes = span_free_inline(heap, mine, obj, "rca_obj_free");
    account_bytes(heap, mine, -static_cast<std::int64_t>(bytes));
  }

  static void *obj_slot(const rca_heap_t *heap, const void *obj) noexcept {
    return span_count_of(heap, obj);
  }

  static rca_handle_t slot_alloc(rca_heap_t *, void *) noexcept { return refuse("rca_slot_alloc"); }
  static std::size_t slot_alloc_batch(rca_heap_t *, rca_handle_t *, std::size_t,
                                      void *const *) noexcept {
    return refuse("rca_slot_alloc_batch");
  }
  static rca_handle_t refuse(const char *what) noexcept {
    set_error(EINVAL,
              "%s: a computed heap has no slots (an object's count is found from its address: "
              "rca_obj_alloc, then rca_obj_slot or RCA_COUNT_OF_*)",
              what);
    return 0;
  }
};

}  // namespace

extern constinit const placement_ops computed_placement = make_placement_ops<computed_policy>();

}  // namespace rca::detail
