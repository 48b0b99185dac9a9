// A placement: where an object's count lives and how the object reaches it. One table of
// operations per placement; the heap holds a pointer to its placement's table, and the rest of
// the allocator asks the table instead of switching on config.placement. Adding a placement is
// one new file here that defines its table, one line in table.cpp, and its enum value and name in
// include/rca/rca.h.
#pragma once

#include "internal.h"
#include "spans.h"

namespace rca::detail {

struct placement_ops {
  rca_placement_t id;  // its rca_placement_t (the table is checked against it)
  const char *name;    // rca_placement_name, the RCA_PLACEMENT value

  // Properties the rest of the allocator reads.
  bool has_refcount_pages;  // slots live in the heap's refcount arena (shared, thread, padded)
  bool has_handle;          // the object's header names its count (inline: it is the count)
  bool slots_per_thread;    // each thread's pool owns its pages; else the heap's shared_pool
  bool tracks_objects_by_default;  // track_objects=-1 means on (freeze needs the registry)
  unsigned slot_stride;            // bytes between slots in a page; 0: the slot width

  /// Checks and completes the placement-dependent fields of cfg (resolve_config): 0, or an errno
  /// with set_error.
  int (*resolve)(rca_config_t *cfg) noexcept;
  /// Bytes at the start of each object that belong to rca (rca_header_size).
  std::size_t (*header_size)(const rca_config_t &cfg) noexcept;

  // The public entry points with a placement's own behaviour, as the C API defines them.
  void *(*obj_alloc)(rca_heap_t *heap, std::size_t size) noexcept;
  void (*obj_free)(rca_heap_t *heap, void *obj) noexcept;  // obj not null
  void *(*obj_slot)(const rca_heap_t *heap, const void *obj) noexcept;
  rca_handle_t (*slot_alloc)(rca_heap_t *heap, void *embedded_slot) noexcept;
  void (*slot_free)(rca_heap_t *heap, rca_handle_t handle) noexcept;
  void *(*slot_ptr)(const rca_heap_t *heap, rca_handle_t handle) noexcept;
  std::size_t (*slot_alloc_batch)(rca_heap_t *heap, rca_handle_t *out, std::size_t n,
                                  void *const *embedded_slots) noexcept;  // out not null if n
  void (*slot_free_batch)(rca_heap_t *heap, const rca_handle_t *handles,
                          std::size_t n) noexcept;  // handles not null if n
};

/// The table of placement p (p < RCA_PLACEMENT_COUNT).
const placement_ops &placement_of(rca_placement_t p) noexcept;

// ---------------------------------------------------------------------------------------------
// A placement is written as a policy type (see inline.cpp for the smallest) and turned into its
// table by make_placement_ops. What every placement does around an object's allocation and free
// (size, registry, counters) is written once below and instantiated per policy, so the policy's
// own steps inline into it: rca_obj_alloc costs one indirect call, not a call per step.
//
// A policy has:
//   static constexpr rca_placement_t id; const char *name; bool has_refcount_pages, has_handle,
//     slots_per_thread, tracks_objects_by_default; unsigned slot_stride;
//   static int resolve(rca_config_t *);  static std::size_t header_size(const rca_config_t &);
//   static void *alloc(rca_heap_t *, std::size_t size, pool *mine);
//       object memory (size >= header_size) with its header set, count 1, bytes accounted; null
//       with errno (and set_error where there is more to say)
//   static void free(rca_heap_t *, void *obj, pool *mine);
//       releases the object's count and memory (checked: aborts on a foreign object or slot)
//   obj_slot, slot_alloc, slot_free, slot_ptr, slot_alloc_batch, slot_free_batch with the
//     signatures of placement_ops (a placement without slots inherits slot_free, slot_ptr and
//     slot_free_batch from no_slots below).
// `mine` is the calling thread's pool (thread_pool(heap); may be null).
// ---------------------------------------------------------------------------------------------

template <class Policy>
void *object_alloc(rca_heap_t *heap, std::size_t size) noexcept {
  if (size < heap->header_size) size = heap->header_size;
  pool *mine = thread_pool(heap);
  void *obj = Policy::alloc(heap, size, mine);
  if (!obj) return nullptr;
  if (heap->tracking) registry_add(heap, obj, block_kind::object);
  count_event(heap, mine, &heap_counters::objects_allocated, std::uint64_t(1));
  return obj;
}

template <class Policy>
void object_free(rca_heap_t *heap, void *obj) noexcept {
  if (heap->tracking) registry_remove(heap, obj, block_kind::object, "rca_obj_free");
  pool *mine = thread_pool(heap);
  Policy::free(heap, obj, mine);
  count_event(heap, mine, &heap_counters::objects_freed, std::uint64_t(1));
}

template <class Policy>
constexpr placement_ops make_placement_ops() noexcept {
  return {
      .id = Policy::id,
      .name = Policy::name,
      .has_refcount_pages = Policy::has_refcount_pages,
      .has_handle = Policy::has_handle,
      .slots_per_thread = Policy::slots_per_thread,
      .tracks_objects_by_default = Policy::tracks_objects_by_default,
      .slot_stride = Policy::slot_stride,
      .resolve = Policy::resolve,
      .header_size = Policy::header_size,
      .obj_alloc = object_alloc<Policy>,
      .obj_free = object_free<Policy>,
      .obj_slot = Policy::obj_slot,
      .slot_alloc = Policy::slot_alloc,
      .slot_free = Policy::slot_free,
      .slot_ptr = Policy::slot_ptr,
      .slot_alloc_batch = Policy::slot_alloc_batch,
      .slot_free_batch = Policy::slot_free_batch,
  };
}

// ---- for the placements without slots (inline, computed) ---------------------------------
/// slot_free, slot_free_batch and slot_ptr of a placement whose heaps have no slots; the policy
/// inherits them and writes its own slot_alloc and slot_alloc_batch (their message says where
/// that placement keeps its count).
struct no_slots {
  static void slot_free(rca_heap_t *heap, rca_handle_t handle) noexcept {
    char desc[128];
    fatal("rca_slot_free: handle %#llx given to %s, which has no slots",
          static_cast<unsigned long long>(handle), describe(heap, desc, sizeof desc));
  }
  static void *slot_ptr(const rca_heap_t *, rca_handle_t handle) noexcept {
    return reinterpret_cast<void *>(handle);
  }
  // Refused even for n = 0: a VM that batches slots of such a heap has mistaken its placement.
  static void slot_free_batch(rca_heap_t *heap, const rca_handle_t *, std::size_t n) noexcept {
    char desc[128];
    fatal("rca_slot_free_batch: %zu handles given to %s, which has no slots", n,
          describe(heap, desc, sizeof desc));
  }
};

// ---- for the placements whose objects come from the heap's backend ------------------------------
/// The backend's memory for an object, its usable bytes accounted; null with ENOMEM and a message.
/// Inline: the placement's obj_alloc is the only call between rca_obj_alloc and the backend.
inline void *backend_object_alloc(rca_heap_t *heap, std::size_t size, pool *mine) noexcept {
  if (heap->has_spans) {  // backend rca: a raw block of rca's span allocator
    std::size_t bytes;
    void *obj = span_alloc_inline(heap, mine, size, true, &bytes);
    if (obj) account_bytes(heap, mine, static_cast<std::int64_t>(bytes));
    return obj;
  }
  void *obj = heap->backend.malloc(size);
  if (!obj) [[unlikely]] {
    backend_out_of_memory(heap, size);
    return nullptr;
  }
  account_alloc(heap, mine, obj);
  return obj;
}
/// Gives it back, its bytes unaccounted.
inline void backend_object_free(rca_heap_t *heap, void *obj, pool *mine) noexcept {
  if (heap->has_spans) {
    account_bytes(heap, mine,
                  -static_cast<std::int64_t>(span_free_inline(heap, mine, obj, "rca_obj_free")));
    return;
  }
  account_free(heap, mine, obj);
  heap->backend.free(obj);
}

}  // namespace rca::detail
