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
/* Every Duktape heap of the process takes its slots from this rca heap; call before
 * duk_create_heap. (The hot path of the index variant reads the slot base from here.) */
void duk_rca_attach(rca_heap_t *heap);
/* Heap objects, buffers and strings found by walking Duktape's own lists. */
size_t duk_rca_count_objects(duk_context *ctx);
/* The patch's count of heap objects, buffers and strings created and not yet freed. */
size_t duk_rca_live(duk_context *ctx);
/* duk_rca_live of the last heap this thread destroyed, read as the heap was freed
 * ((size_t)-1 when none). */
size_t duk_rca_last_destroyed_live(void);
/* Inline variant with the freeze check: freeze every count by visiting every object. -1 when
 * this build cannot (handle builds freeze with rca_heap_freeze). */
long duk_rca_freeze_inline(duk_context *ctx);
/* on != 0: no mark-and-sweep until called with 0. */
void duk_rca_gc_prevent(duk_context *ctx, int on);

#ifdef __cplusplus
}
#endif

#endif
