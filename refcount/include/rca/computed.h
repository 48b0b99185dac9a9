/* rca refcount layer: counts found from the object's address (the `computed` placement).
 *
 * Header-only, like refcount.h: includes nothing of the project, allocates nothing. An object of
 * a computed heap carries no count and no handle; rca's span allocator lays its memory out so
 * that the count's address is a pure function of the object's address. Object memory is carved
 * into spans of RCA_SPAN_BYTES, each aligned to its size; every span has a window of counts in
 * refcount pages outside it (never in an object page). Two address functions, a compile-time
 * choice of the caller's hot path:
 *
 *   granule  count = bias + (object >> RCA_GRANULE_SHIFT) * slot_bytes. One count per 16-byte
 *            granule of object memory; no memory load, one constant per heap (its bias,
 *            rca_computed_bias()). Large objects leave most of their window unused.
 *   span     the span's read-only header, found by masking the object's address, holds the
 *            address of block 0's count and the reciprocal of the block size:
 *            count = header->count_base + index * slot_bytes. One load of a read-mostly line;
 *            count memory in proportion to objects.
 *
 * A heap is created for one of the two (option `address`), which decides where its counts are.
 */
#ifndef RCA_COMPUTED_H
#define RCA_COMPUTED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RCA_SPAN_SHIFT 16u /* spans are 64 KiB, aligned to 64 KiB */
#define RCA_SPAN_BYTES (1u << RCA_SPAN_SHIFT)
#define RCA_GRANULE_SHIFT 4u      /* blocks are multiples of 16 bytes */
#define RCA_SPAN_HEADER_BYTES 64u /* block 0 starts this far into its span */

/* The first bytes of every span: written once when the span is set up for a size class, read
 * by the span address function, never written while the span holds objects. */
typedef struct rca_span_header_s {
  uintptr_t count_base;  /* address of block 0's count */
  uintptr_t first_block; /* address of block 0 */
  uint32_t reciprocal;   /* ceil(2^32 / block_size): index = offset * reciprocal >> 32 */
  uint32_t block_size;   /* bytes per block (a multiple of 16) */
  uint64_t heap_id;      /* the owning heap's id (for messages) */
} rca_span_header_t;

#define RCA__CP_INLINE static inline __attribute__((always_inline))

/* granule: the count of the object at `obj`, `slot_bytes` 4 or 8 (a constant at the call). */
RCA__CP_INLINE void *rca_computed_granule_count(uintptr_t bias, const void *obj,
                                                unsigned slot_bytes) {
  return (void *)(bias + ((uintptr_t)obj >> RCA_GRANULE_SHIFT) * slot_bytes);
}

/* span: the count of the block that holds `obj`: the block's address or any address inside a
 * block of a span (the reciprocal's error stays below one block for spans of 64 KiB), e.g. an
 * object that follows a header of the caller's in the same block. */
RCA__CP_INLINE void *rca_computed_span_count(const void *obj, unsigned slot_bytes) {
  const rca_span_header_t *h =
      (const rca_span_header_t *)((uintptr_t)obj & ~(uintptr_t)(RCA_SPAN_BYTES - 1));
  const uint64_t offset = (uint64_t)((uintptr_t)obj - h->first_block);
  return (void *)(h->count_base + (uintptr_t)((offset * h->reciprocal) >> 32) * slot_bytes);
}

#ifdef __cplusplus
}
#endif

#endif /* RCA_COMPUTED_H */
