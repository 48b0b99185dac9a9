/* rca demo: the same objects under every placement. For each: bytes per object (object memory
 * plus refcount pages), refcount pages in use, and ns per incref+decref pair over all objects
 * with the compiled-in hot path (plain counts, freeze check on).
 *
 * Also the smallest worked example of the C API for a VM: allocate through a heap, reach the
 * count through the header (inline field, pointer or index handle), free at zero.
 *
 * Usage: rca-demo [objects] [backend]      (defaults: 1000000 system)
 */
#define RCA_SLOT_BITS 32
#define RCA_RC_FLAGS (RCA_RC_FREEZE_CHECK | RCA_RC_EXPECT)
#include <rca/rca.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  const char *label;
  rca_placement_t placement;
  rca_handle_kind_t handle_kind;
} variant_t;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The count of an object, reached the way a VM compiled for this variant would. */
static rca_count_t *count_of(const variant_t *v, void *obj, void *base) {
  if (v->placement == RCA_PLACEMENT_INLINE) return (rca_count_t *)obj;
  if (v->handle_kind == RCA_HANDLE_KIND_INDEX) return RCA_SLOT_AT(base, *(uint32_t *)obj);
  return *(rca_count_t **)obj;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const variant_t variants[] = {
      {"inline", RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER},
      {"embedded", RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER},
      {"shared/pointer", RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER},
      {"shared/index", RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX},
      {"thread/pointer", RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_POINTER},
      {"thread/index", RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX},
      {"padded/pointer", RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_POINTER},
      {"padded/index", RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_INDEX},
  };
  enum { REPS = 5 };
  char *end = NULL;
  long n = argc > 1 ? strtol(argv[1], &end, 10) : 1000000;
  rca_backend_t backend = RCA_BACKEND_SYSTEM;
  if (argc > 3 || (argc > 1 && (*end != '\0' || n <= 0))) {
    fprintf(stderr, "usage: rca-demo [objects > 0] [system|mimalloc|jemalloc]\n");
    return 2;
  }
  if (argc > 2 && rca_backend_parse(argv[2], &backend) != 0) {
    fprintf(stderr, "rca-demo: %s\n", rca_last_error());
    return 2;
  }
  void **objs = malloc((size_t)n * sizeof *objs);
  if (!objs) return 1;
  printf(
      "rca demo: %ld objects of 32 bytes, backend %s, plain counts with freeze check, "
      "median of %d passes\n\n",
      n, rca_backend_name(backend), REPS);
  printf("%-16s %8s %10s %10s %12s %14s\n", "placement", "header", "bytes/obj", "rc pages",
         "slot bytes", "ns/inc+dec");
  for (size_t v = 0; v < sizeof variants / sizeof variants[0]; ++v) {
    const variant_t *var = &variants[v];
    rca_config_t cfg;
    rca_config_init(&cfg);
    cfg.placement = var->placement;
    cfg.handle_kind = var->handle_kind;
    cfg.backend = backend;
    cfg.checks = 0;
    cfg.track_objects = 0;
    rca_heap_t *heap = rca_heap_new(&cfg);
    if (!heap) {
      fprintf(stderr, "rca-demo: %s: %s\n", var->label, rca_last_error());
      return 1;
    }
    for (long i = 0; i < n; ++i) {
      objs[i] = rca_obj_alloc(heap, 32);
      if (!objs[i]) {
        fprintf(stderr, "rca-demo: %s: %s\n", var->label, strerror(errno));
        return 1;
      }
    }
    void *base = rca_slot_base(heap);
    double ns[REPS];
    for (int r = 0; r < REPS + 1; ++r) { /* pass 0 warms up */
      const double t0 = now_ns();
      for (long i = 0; i < n; ++i) rca_count_incref(count_of(var, objs[i], base));
      for (long i = 0; i < n; ++i) rca_count_decref(count_of(var, objs[i], base));
      if (r > 0) ns[r - 1] = (now_ns() - t0) / (double)n;
    }
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    rca_stats_t s;
    rca_heap_stats(heap, &s);
    if (s.events_counted) {
      const double bytes = (double)(s.object_bytes + s.refcount_pages * s.page_bytes) / (double)n;
      printf("%-16s %8zu %10.1f %10zu %12zu %14.2f\n", var->label, rca_header_size(heap), bytes,
             s.refcount_pages, s.slot_bytes, ns[REPS / 2]);
    } else { /* a library built with RCA_STATS=OFF counts no object or slot bytes */
      printf("%-16s %8zu %10s %10zu %12s %14.2f\n", var->label, rca_header_size(heap), "n/a",
             s.refcount_pages, "n/a", ns[REPS / 2]);
    }
    for (long i = 0; i < n; ++i) {
      /* Each count is back at 1: the last decref reaches zero and frees. */
      if (rca_count_decref(count_of(var, objs[i], base))) rca_obj_free(heap, objs[i]);
    }
    rca_heap_stats(heap, &s);
    if (s.events_counted && (s.live_objects != 0 || s.live_slots != 0)) {
      fprintf(stderr, "rca-demo: %s: %zu objects / %zu slots left after freeing\n", var->label,
              s.live_objects, s.live_slots);
      return 1;
    }
    rca_heap_destroy(heap);
  }
  printf(
      "\nbytes/obj = backend bytes of the objects + refcount pages, per object.\n"
      "ns/inc+dec: one sequential pass of increfs then one of decrefs; min..max and counters "
      "are in rcalab.\n");
  free(objs);
  return 0;
}
