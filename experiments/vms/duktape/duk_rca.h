/* The host interface the rca patch adds to duktape.c (duktape-rca.patch). One static library per
 * variant defines these; a host links exactly one. */
#ifndef RCA_DUK_RCA_H
#define RCA_DUK_RCA_H

#include <stddef.h>

#include <rca/rca.h>

#include "duktape.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 0 inline count, 1 pointer handle, 2 index handle. */
int duk_rca_mode(void);
/* 1 when the frozen-count check is compiled in. */
int duk_rca_freeze_check(void);
/* 1 when the mark-and-sweep flags live in rca's side bitmaps (DUK_RCA_SIDE). */
int duk_rca_side_bits(void);
/* Every Duktape heap of the process takes its slots from this rca heap; call before
 * duk_create_heap. (The hot path of the index variant reads the slot base from here.) Side-bits
 * builds map their bitmaps here: 0, or -1 with rca_last_error(). */
int duk_rca_attach(rca_heap_t *heap);
/* Side-bits builds: on != 0 when one Duktape heap alone uses the rca heap, so that a collection
 * clears REACHABLE with one bitmap clear; 0 (the default) clears it object by object. */
void duk_rca_side_bulk_clear(int on);
/* Bits set in side plane 0 REACHABLE, 1 TEMPROOT, 2 FINALIZABLE, 3 FINALIZED (0 without). */
size_t duk_rca_side_set_bits(int plane);
/* Heap objects, buffers and strings found by walking Duktape's own lists. */
size_t duk_rca_count_objects(duk_context *ctx);
/* The patch's count of heap objects, buffers and strings created and not yet freed. */
size_t duk_rca_live(duk_context *ctx);
/* 1 when the object walk counts an object queued on refzero_list (linked through 'prev', its
 * 'next' garbage, as Duktape queues it) exactly once; the heap is left as it was. */
int duk_rca_check_refzero_walk(duk_context *ctx);
/* Mark-and-sweep passes run and calls turned away while the collector was held off. */
void duk_rca_gc_counts(duk_context *ctx, size_t *runs, size_t *rejected);
/* duk_rca_live of the last heap this thread destroyed, read as the heap was freed
 * ((size_t)-1 when none). */
size_t duk_rca_last_destroyed_live(void);
/* Inline variant with the freeze check: freeze every count by visiting every object. -1 when
 * this build cannot (handle builds freeze with rca_heap_freeze). */
long duk_rca_freeze_inline(duk_context *ctx);
/* Puts back the counts duk_rca_freeze_inline kept aside (objects still in the heap and still
 * frozen); returns how many, -1 when this build cannot. */
long duk_rca_thaw_inline(duk_context *ctx);
/* on != 0: no mark-and-sweep until called with 0, and no allocation slowed by the held-off
 * collector (the voluntary trigger counter is parked meanwhile). */
void duk_rca_gc_prevent(duk_context *ctx, int on);

#ifdef __cplusplus
}
#endif

#endif
