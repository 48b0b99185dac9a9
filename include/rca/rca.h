/* rca: reference counts out of the object, into refcount pages. The C11 face, for VMs.
 *
 * A heap hands out objects and, per its placement, the slot that holds each object's count:
 *   inline    the count is the object's header field; no slot, no handle (the baseline)
 *   embedded  the header holds a pointer to a slot inside the same object (isolates the hop)
 *   shared    handle -> slot in refcount pages shared by all threads (threads' slots interleave)
 *   thread    handle -> slot in the allocating thread's own refcount pages
 *   padded    handle -> slot alone on its 64-byte line
 *   computed  no handle: the count's address is a function of the object's address (objects
 *             come from rca's own span allocator; rca/computed.h, rca_count_of below)
 * A handle (rca_handle_t) is the value an object carries to reach its slot; the heap's handle
 * kind (rca_handle_kind_t) says what that value is: a pointer to the slot, or a 32-bit index
 * into the heap's slot space (slot = rca_slot_base(heap) + index). Refcount pages hold counts
 * and nothing else.
 *
 * The first rca_header_size(heap) bytes of every object from rca_obj_alloc belong to rca:
 *   inline:            the count (4 or 8 bytes)
 *   index handle:      uint32_t index (4 bytes)
 *   pointer handle:    the slot's address (8 bytes)
 *   embedded:          the slot's address (8 bytes), then the slot itself (8 bytes reserved)
 *   computed:          nothing (rca_header_size is 0)
 *
 * Errors: functions that can fail for a reason the caller may handle return NULL/0/-1, set
 * errno, and leave a message in rca_last_error(). Misuse that would corrupt memory (double
 * free, a pointer or handle not from this heap, decref of a zero count in checked builds) prints
 * one line naming the object, the heap and the operation to stderr and aborts.
 */
#ifndef RCA_H
#define RCA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rca/computed.h>
#include <rca/refcount.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RCA_BUILDING_LIBRARY) && !defined(RCA_STATIC_DEFINE)
#define RCA_API __attribute__((visibility("default")))
#else
#define RCA_API
#endif

#define RCA_VERSION_MAJOR 0
#define RCA_VERSION_MINOR 2
#define RCA_VERSION_PATCH 0

/* --------------------------------------------------------------------------------------------
 * Configuration. One option table inside the library serves the fields below, the
 * RCA_<NAME> environment variables and rca_config_set().
 * ------------------------------------------------------------------------------------------ */

typedef enum rca_placement_e {
  RCA_PLACEMENT_INLINE = 0,
  RCA_PLACEMENT_EMBEDDED,
  RCA_PLACEMENT_SHARED,
  RCA_PLACEMENT_THREAD,
  RCA_PLACEMENT_PADDED,
  RCA_PLACEMENT_COMPUTED,
  RCA_PLACEMENT_COUNT
} rca_placement_t;

typedef enum rca_handle_kind_e {
  RCA_HANDLE_KIND_POINTER = 0, /* the slot's address */
  RCA_HANDLE_KIND_INDEX,       /* 32-bit index into the heap's slot space */
  RCA_HANDLE_KIND_COUNT
} rca_handle_kind_t;

typedef enum rca_backend_e {
  RCA_BACKEND_SYSTEM = 0, /* the process's malloc */
  RCA_BACKEND_MIMALLOC,   /* Debian's libmimalloc, loaded privately (does not replace malloc) */
  RCA_BACKEND_JEMALLOC,   /* Debian's jemalloc, linked in with its symbols hidden */
  RCA_BACKEND_RCA,        /* rca's own span allocator (the computed placement's memory) */
  RCA_BACKEND_COUNT
} rca_backend_t;

/* How a computed heap lays out its counts, i.e. which address function finds them
 * (rca/computed.h): by span header (one load) or by granule (arithmetic only). */
typedef enum rca_address_e {
  RCA_ADDRESS_SPAN = 0,
  RCA_ADDRESS_GRANULE,
  RCA_ADDRESS_COUNT
} rca_address_t;

typedef struct rca_config_s {
  rca_placement_t placement;     /* RCA_PLACEMENT: inline|embedded|shared|thread|padded */
  rca_handle_kind_t handle_kind; /* RCA_HANDLE_KIND: pointer|index. Inline heaps have no handle
                                    (the header is the count): ignored, resolved to pointer.
                                    Embedded heaps take pointer only (index refused: no index
                                    reaches a slot inside the object). Was `handle` before 0.2. */
  unsigned slot_bits;            /* RCA_SLOT_BITS: 32|64 */
  rca_backend_t backend;         /* RCA_BACKEND: system|mimalloc|jemalloc */
  size_t arena_limit;            /* RCA_ARENA_LIMIT: bytes of refcount pages at most (k/m/g) */
  size_t retain_pages;           /* RCA_RETAIN_PAGES: empty refcount pages kept committed for reuse
                                    before the rest go back to the OS (madvise DONTNEED) */
  int checks;            /* RCA_CHECKS: 1 = verify every free against a registry of live objects */
  int track_objects;     /* RCA_TRACK_OBJECTS: keep a registry of live objects (needed to freeze
                            inline and embedded heaps); -1 = when checks are on or the placement
                            has no refcount pages */
  int show_stats;        /* RCA_SHOW_STATS: print the heap's stats to stderr when it is destroyed */
  rca_address_t address; /* RCA_ADDRESS: span|granule (computed placement) */
  size_t object_limit;   /* RCA_OBJECT_LIMIT: bytes of object memory rca's span allocator may
                            use (computed placement, backend rca); 0 = from arena_limit for a
                            computed heap (as many objects as arena_limit bytes of counts
                            serve), 16 GiB of address space for backend rca */
  int64_t more[8];       /* options added after 0.2, reached through rca_option_get/set only:
                            a new option takes a word here, so this struct keeps its size and
                            layout (the ABI) */
} rca_config_t;

/* Options by number, in the table's order (mimalloc's mi_option_t, per config instead of per
 * process). Code that sets options this way compiles and links against later versions that add
 * options; an option's number never changes. */
typedef enum rca_option_e {
  RCA_OPTION_PLACEMENT = 0, /* an rca_placement_t */
  RCA_OPTION_HANDLE_KIND,   /* an rca_handle_kind_t */
  RCA_OPTION_SLOT_BITS,     /* 32 or 64 */
  RCA_OPTION_BACKEND,       /* an rca_backend_t */
  RCA_OPTION_ARENA_LIMIT,   /* bytes */
  RCA_OPTION_RETAIN_PAGES,  /* pages */
  RCA_OPTION_CHECKS,        /* 0, 1, or -1: the library's default */
  RCA_OPTION_TRACK_OBJECTS, /* 0, 1, or -1: on with checks or when the placement needs it */
  RCA_OPTION_SHOW_STATS,    /* 0, 1, or -1 (off) */
  RCA_OPTION_ADDRESS,       /* an rca_address_t */
  RCA_OPTION_OBJECT_LIMIT,  /* bytes */
  RCA_OPTION_COUNT
} rca_option_t;

/* Defaults: shared placement, pointer handles, 32-bit slots, system backend, 1 GiB arena,
 * checks on only in debug builds of the library. */
RCA_API void rca_config_init(rca_config_t *cfg);
/* Apply every RCA_<NAME> variable that is set. 0, or -1 with errno = EINVAL and a message. */
RCA_API int rca_config_from_env(rca_config_t *cfg);
/* Set one option by name ("placement", "backend", ...). 0, or -1 with errno = EINVAL. */
RCA_API int rca_config_set(rca_config_t *cfg, const char *name, const char *value);
/* One option by number. 0, or -1 with errno = EINVAL and a message (unknown option, or a value
 * outside the option's range: an enum's values, 32|64, 0|1|-1, bytes >= 0). */
RCA_API int rca_option_set(rca_config_t *cfg, rca_option_t option, int64_t value);
/* *value = the option's value. 0, or -1 with errno = EINVAL (unknown option, null argument). */
RCA_API int rca_option_get(const rca_config_t *cfg, rca_option_t option, int64_t *value);
/* The option's name for rca_config_set ("placement", ...), or "?". */
RCA_API const char *rca_option_name(rca_option_t option);

RCA_API const char *rca_placement_name(rca_placement_t p);
RCA_API const char *rca_handle_kind_name(rca_handle_kind_t h);
RCA_API const char *rca_backend_name(rca_backend_t b);
RCA_API const char *rca_address_name(rca_address_t a);
RCA_API int rca_placement_parse(const char *name, rca_placement_t *out); /* 0 or -1 */
RCA_API int rca_handle_kind_parse(const char *name, rca_handle_kind_t *out);
RCA_API int rca_backend_parse(const char *name, rca_backend_t *out);
RCA_API int rca_address_parse(const char *name, rca_address_t *out);
/* 1 when the backend can run in this process, 0 (with a message) when not. */
RCA_API int rca_backend_available(rca_backend_t b);

/* The last non-fatal error of the calling thread, or "" when none. */
RCA_API const char *rca_last_error(void);

/* --------------------------------------------------------------------------------------------
 * Heaps.
 * ------------------------------------------------------------------------------------------ */

typedef struct rca_heap_s rca_heap_t;

/* cfg NULL: defaults, then the environment. NULL on failure (errno, rca_last_error). */
RCA_API rca_heap_t *rca_heap_new(const rca_config_t *cfg);
/* Frees the refcount arena (every slot with it), the objects and raw blocks the heap tracks
 * (track_objects / checks), and the heap. Untracked objects are the caller's to free first. */
RCA_API void rca_heap_destroy(rca_heap_t *heap);
RCA_API const rca_config_t *rca_heap_config(const rca_heap_t *heap);

/* --------------------------------------------------------------------------------------------
 * Objects: memory with the header initialised (handle set, count 1).
 * ------------------------------------------------------------------------------------------ */

RCA_API size_t rca_header_size(const rca_heap_t *heap);
/* size includes the header. NULL with errno = ENOMEM when memory or the arena is exhausted. */
RCA_API void *rca_obj_alloc(rca_heap_t *heap, size_t size);
/* Releases the object and its slot together. */
RCA_API void rca_obj_free(rca_heap_t *heap, void *obj);
/* The object's count slot (a uint32_t* or uint64_t* by slot_bits). */
RCA_API void *rca_obj_slot(const rca_heap_t *heap, const void *obj);
/* Generic (out-of-line, run-time dispatched) operations, for tools and tests. VMs use the
 * inline rca_count_* functions below. rca_obj_decref returns 1 when the count reached zero. */
RCA_API void rca_obj_incref(rca_heap_t *heap, void *obj);
RCA_API int rca_obj_decref(rca_heap_t *heap, void *obj);
/* decref, and free the object when its count reached zero; returns 1 when freed. */
RCA_API int rca_obj_release(rca_heap_t *heap, void *obj);
RCA_API uint64_t rca_obj_count(const rca_heap_t *heap, const void *obj);

/* --------------------------------------------------------------------------------------------
 * Slots alone, for VMs that keep their own object header and store the handle in it.
 * ------------------------------------------------------------------------------------------ */

typedef uintptr_t rca_handle_t; /* pointer heaps: the slot's address; index heaps: the index.
                                   0 is never a valid handle. */

/* A slot with count 1. Embedded heaps take the slot the caller reserved in its object
 * (embedded_slot); other placements ignore it. 0 with errno = ENOMEM when the arena is full. */
RCA_API rca_handle_t rca_slot_alloc(rca_heap_t *heap, void *embedded_slot);
RCA_API void rca_slot_free(rca_heap_t *heap, rca_handle_t handle);
RCA_API void *rca_slot_ptr(const rca_heap_t *heap, rca_handle_t handle);
/* Slots by the batch, for a VM that keeps its own cache of free slots (a handle of each, count
 * left as it was) and refills or drains it a batch at a time. rca_slot_alloc_batch: up to n
 * slots with count 1, their handles in out[0..n): the slots n rca_slot_alloc calls would hand
 * out, in the same order, taken a bitmap word at a time under one lock. Returns how many; fewer
 * than n only when the arena is full (errno = ENOMEM, the handles taken are valid). Embedded
 * heaps take embedded_slots[0..n) (0 with errno = EINVAL when it or one of them is null), other
 * placements ignore it (NULL). Inline and computed heaps have no slots: 0 with errno = EINVAL.
 * n = 0 returns 0. */
RCA_API size_t rca_slot_alloc_batch(rca_heap_t *heap, rca_handle_t *out, size_t n,
                                    void *const *embedded_slots);
/* rca_slot_free of handles[0..n) in order, checked as each single free is (a double free, also
 * of a handle twice in one batch, a slot an object holds, a handle not from this heap: one line
 * naming rca_slot_free_batch, then abort, with the frees before it done; index heaps check every
 * index's range before freeing any), the lock taken once per run. Inline and computed heaps
 * abort (they have no slots), whatever n. */
RCA_API void rca_slot_free_batch(rca_heap_t *heap, const rca_handle_t *handles, size_t n);
/* Index heaps: slot i is at base + i * slot_bits / 8. */
RCA_API void *rca_slot_base(const rca_heap_t *heap);

/* --------------------------------------------------------------------------------------------
 * Raw memory from the heap's backend (for a VM's alloc/realloc/free hooks). realloc(NULL, n)
 * allocates, realloc(p, 0) frees and returns NULL, free(NULL) does nothing.
 * ------------------------------------------------------------------------------------------ */

RCA_API void *rca_malloc(rca_heap_t *heap, size_t size);
RCA_API void *rca_realloc(rca_heap_t *heap, void *p, size_t size);
RCA_API void rca_free(rca_heap_t *heap, void *p);
RCA_API size_t rca_usable_size(const rca_heap_t *heap, const void *p);

/* --------------------------------------------------------------------------------------------
 * Whole-heap operations.
 * ------------------------------------------------------------------------------------------ */

/* Freeze every live count (its value is kept aside, outside the refcount pages). With shared,
 * thread and padded slots this sweeps refcount pages only and touches no object page; inline
 * and embedded heaps visit their objects (they need track_objects). Returns how many counts
 * were frozen, or -1 with errno = ENOTSUP. */
RCA_API long rca_heap_freeze(rca_heap_t *heap);
/* Restore the counts frozen by rca_heap_freeze that are still frozen. Returns how many. */
RCA_API long rca_heap_thaw(rca_heap_t *heap);

/* Called for each refcount page in use: its address, size and live slots. */
typedef void rca_page_visitor_t(void *page, size_t page_bytes, size_t live_slots, void *arg);
RCA_API void rca_heap_visit_pages(rca_heap_t *heap, rca_page_visitor_t *visit, void *arg);
/* The refcount arena's address range [*lo, *hi): every slot of the heap lies inside it
 * (embedded slots excepted). */
RCA_API void rca_heap_arena_range(const rca_heap_t *heap, void **lo, void **hi);
/* The address range [*lo, *hi) of rca's span allocator (computed placement, backend rca): every
 * object and raw block of the heap lies inside it. {NULL, NULL} for other backends. A VM with
 * statically allocated objects tells them from span objects with it (one compare). */
RCA_API void rca_heap_object_range(const rca_heap_t *heap, void **lo, void **hi);

/* --------------------------------------------------------------------------------------------
 * Side bitmaps: per-object flags that a VM's collector changes on every object it visits (mark
 * bits), kept out of the objects in `planes` bitmaps with one bit per slot position, in pages
 * rca maps apart from objects and refcount pages. A forked worker that collects then writes
 * these pages, not its object pages. Heaps with refcount pages only (shared, thread, padded):
 * an object's slot gives its position. The VM clears a position's bits before it frees the slot.
 * ------------------------------------------------------------------------------------------ */

#define RCA_SIDE_PLANES_MAX 8

typedef struct rca_side_bits_s {
  uint64_t *plane[RCA_SIDE_PLANES_MAX]; /* bit i of plane p: plane[p][i / 64] >> (i % 64) */
  uintptr_t slot_base;                  /* a slot's position: (address - slot_base) >> shift */
  unsigned shift;                       /* log2 of the bytes between two slot positions */
  size_t positions;                     /* positions of each plane (the arena's slot positions) */
} rca_side_bits_t;

/* Maps `planes` (1..RCA_SIDE_PLANES_MAX) bitmaps, all bits 0, on the first call; later calls
 * describe the same ones and must ask for as many. Fills *out. 0, or -1 with errno = ENOTSUP
 * (no refcount pages), EINVAL (planes) or ENOMEM. */
RCA_API int rca_side_bits(rca_heap_t *heap, unsigned planes, rca_side_bits_t *out);
/* The position of the slot a handle names. */
RCA_API size_t rca_side_position(const rca_heap_t *heap, rca_handle_t handle);
/* Clears one plane in bulk up to the arena's high-water mark, writing only the words that hold a
 * set bit: a page of the plane that a fork child never set stays shared with its parent. */
RCA_API void rca_side_clear(rca_heap_t *heap, unsigned plane);
/* Bits set in one plane (0 when the heap has no side bitmaps). */
RCA_API size_t rca_side_count(const rca_heap_t *heap, unsigned plane);
/* The address range [*lo, *hi) of every plane ({NULL, NULL} before rca_side_bits). */
RCA_API void rca_side_range(const rca_heap_t *heap, void **lo, void **hi);

/* The helpers below are plain read-modify-writes of one 64-bit word (a collector's hot path):
 * threads that set bits of positions sharing a word (slots of the shared and padded placements
 * interleave on pages) need their own synchronisation; the thread placement keeps each thread's
 * positions on its own pages. */
static inline size_t rca_side_pos_of_slot(const rca_side_bits_t *s, const void *slot) {
  return (size_t)(((uintptr_t)slot - s->slot_base) >> s->shift);
}
static inline int rca_side_test(const rca_side_bits_t *s, unsigned plane, size_t i) {
  return (int)((s->plane[plane][i >> 6] >> (i & 63)) & 1u);
}
static inline void rca_side_set(const rca_side_bits_t *s, unsigned plane, size_t i) {
  s->plane[plane][i >> 6] |= (uint64_t)1 << (i & 63);
}
/* Writes only when the bit is set (a clear bit leaves its page untouched). */
static inline void rca_side_reset(const rca_side_bits_t *s, unsigned plane, size_t i) {
  uint64_t *w = &s->plane[plane][i >> 6];
  const uint64_t m = (uint64_t)1 << (i & 63);
  if (*w & m) *w &= ~m;
}

typedef struct rca_stats_s {
  size_t live_objects;   /* objects from rca_obj_alloc not yet freed */
  size_t live_slots;     /* slots handed out and not freed (objects' slots included) */
  size_t refcount_pages; /* refcount pages holding at least one live slot or owned by a pool */
  size_t refcount_pages_peak;
  size_t page_bytes;     /* size of one refcount page */
  size_t slot_bytes;     /* bytes the live slots occupy (padded: a whole line each) */
  size_t object_bytes;   /* usable bytes of live objects and raw blocks, from the backend */
  size_t arena_reserved; /* bytes of address space reserved for refcount pages */
  uint64_t objects_allocated, objects_freed, slots_allocated, slots_freed;
  int events_counted; /* 1 when the library counts events (the default build); 0 when built with
                         RCA_STATS=OFF: live_objects, live_slots, slot_bytes, object_bytes and
                         the four counts above are then unavailable and read all ones
                         (SIZE_MAX, UINT64_MAX), never 0 */
} rca_stats_t;

/* Each thread counts its own operations (no shared line on the hot path); this sums them. Exact
 * when no other thread is working on the heap; while threads work, a snapshot. */
RCA_API void rca_heap_stats(const rca_heap_t *heap, rca_stats_t *out);
RCA_API void rca_heap_print_stats(const rca_heap_t *heap, FILE *out);

/* --------------------------------------------------------------------------------------------
 * The hot path for a C VM, compiled in. Define before including this header:
 *   RCA_SLOT_BITS  32 (default) or 64
 *   RCA_RC_FLAGS   RCA_RC_ATOMIC | RCA_RC_FREEZE_CHECK | RCA_RC_EXPECT | RCA_RC_CHECKED
 *                  (default: freeze check with the hint; checked unless NDEBUG)
 * Every handle placement uses the same code: follow the handle to the slot.
 * ------------------------------------------------------------------------------------------ */

#ifndef RCA_SLOT_BITS
#define RCA_SLOT_BITS 32
#endif
#ifndef RCA_RC_FLAGS
#ifdef NDEBUG
#define RCA_RC_FLAGS (RCA_RC_FREEZE_CHECK | RCA_RC_EXPECT)
#else
#define RCA_RC_FLAGS (RCA_RC_FREEZE_CHECK | RCA_RC_EXPECT | RCA_RC_CHECKED)
#endif
#endif

#if RCA_SLOT_BITS == 32
typedef uint32_t rca_count_t;
#define RCA__RC_FN(op) rca_rc32_##op
#elif RCA_SLOT_BITS == 64
typedef uint64_t rca_count_t;
#define RCA__RC_FN(op) rca_rc64_##op
#else
#error "RCA_SLOT_BITS must be 32 or 64"
#endif

static inline void rca_count_incref(rca_count_t *slot) { RCA__RC_FN(incref)(slot, RCA_RC_FLAGS); }
/* Nonzero when the count reached zero: destroy the object. */
static inline int rca_count_decref(rca_count_t *slot) {
  return RCA__RC_FN(decref)(slot, RCA_RC_FLAGS);
}
static inline rca_count_t rca_count_get(const rca_count_t *slot) {
  return RCA__RC_FN(load)(slot, RCA_RC_FLAGS);
}
static inline int rca_count_is_frozen(rca_count_t c) { return RCA__RC_FN(is_frozen)(c); }
/* Stores a count (e.g. 1 for a VM-managed slot, or the value a VM's own code sets). */
static inline void rca_count_set(rca_count_t *slot, rca_count_t v) {
  RCA__RC_FN(store)(slot, v, RCA_RC_FLAGS);
}
/* Freezes one count: incref/decref leave it alone from now on (when the check is compiled in). */
static inline void rca_count_freeze(rca_count_t *slot) { RCA__RC_FN(freeze)(slot, RCA_RC_FLAGS); }
/* Slot of an index handle. */
#define RCA_SLOT_AT(base, index) ((rca_count_t *)(base) + (index))

/* Computed heaps: the count of an object from rca_obj_alloc or rca_malloc (a VM with its own
 * header allocates its objects with rca_obj_alloc and keeps no handle). Compile in one:
 *   RCA_COUNT_OF_SPAN(obj)            heaps with address=span: one load, no heap argument
 *   RCA_COUNT_OF_GRANULE(bias, obj)   heaps with address=granule: bias = rca_computed_bias(heap)
 */
#define RCA_COUNT_OF_SPAN(obj) ((rca_count_t *)rca_computed_span_count((obj), RCA_SLOT_BITS / 8))
#define RCA_COUNT_OF_GRANULE(bias, obj)                                                            \
  ((rca_count_t *)rca_computed_granule_count((bias), (obj), RCA_SLOT_BITS / 8))
/* The granule function's one constant for this heap (0 for other heaps). */
RCA_API uintptr_t rca_computed_bias(const rca_heap_t *heap);

/* 0 when the heap's slots are `bits` wide, else -1 with errno = EINVAL and a message. The hot
 * path above is compiled for one width and cannot see a heap's: run with RCA_SLOT_BITS=64 in the
 * environment, 32-bit code would count half of each slot, or, through an index, another object's
 * slot. Call rca_heap_check_hot_path once after rca_heap_new (the library cannot do it for you:
 * C++ users pick the width per heap at run time). */
RCA_API int rca_heap_check_slot_bits(const rca_heap_t *heap, unsigned bits);
static inline int rca_heap_check_hot_path(const rca_heap_t *heap) {
  return rca_heap_check_slot_bits(heap, RCA_SLOT_BITS);
}

/* Names before 0.2, kept for source compatibility until 1.0 (define RCA_NO_DEPRECATED to drop
 * them). The config field `handle` became `handle_kind` without an alias: C has none for a
 * field. The option name "handle" and RCA_HANDLE are still read (rca_config_set). */
#ifndef RCA_NO_DEPRECATED
#define RCA_HANDLE_POINTER RCA_HANDLE_KIND_POINTER
#define RCA_HANDLE_INDEX RCA_HANDLE_KIND_INDEX
#define RCA_HANDLE_COUNT RCA_HANDLE_KIND_COUNT
#define rca_handle_name rca_handle_kind_name
#define rca_handle_parse rca_handle_kind_parse
#endif

#ifdef __cplusplus
}
#endif

#endif /* RCA_H */
