/* slot_batch: instructions per slot of rca_slot_alloc/rca_slot_free against
 * rca_slot_alloc_batch/rca_slot_free_batch, for callgrind (deterministic counts), the way a VM's
 * slot cache uses them: ROUNDS times, N live slots are taken and then all given back (a
 * container of N objects built and dropped, as dicts.py does with CPython's slot cache).
 *   slot_batch PLACEMENT HANDLE single|batch N ROUNDS
 * Batches are the CPython patch's: taken 256 at a time (its refill), given back 2048 at a time
 * (half its 4096-slot cache). Take and give are separate functions, so that
 *   valgrind --tool=callgrind --toggle-collect=take_slots ./slot_batch ...
 * counts taking only (give_slots: giving back); slot_batch.sh divides by ROUNDS * N. */
#include <rca/rca.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kRefill = 256, kDrain = 2048 };

__attribute__((noinline)) static void take_slots(rca_heap_t *heap, rca_handle_t *h, size_t n,
                                                 int batch) {
  for (size_t i = 0; i < n;) {
    if (batch) {
      const size_t want = n - i < kRefill ? n - i : kRefill;
      if (rca_slot_alloc_batch(heap, h + i, want, NULL) != want) goto full;
      i += want;
    } else if ((h[i++] = rca_slot_alloc(heap, NULL)) == 0) {
      goto full;
    }
  }
  return;
full:
  fprintf(stderr, "slot_batch: %s\n", rca_last_error());
  exit(1);
}

__attribute__((noinline)) static void give_slots(rca_heap_t *heap, const rca_handle_t *h, size_t n,
                                                 int batch) {
  for (size_t i = 0; i < n;) {
    if (batch) {
      const size_t count = n - i < kDrain ? n - i : kDrain;
      rca_slot_free_batch(heap, h + i, count);
      i += count;
    } else {
      rca_slot_free(heap, h[i++]);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 6 || (strcmp(argv[3], "single") != 0 && strcmp(argv[3], "batch") != 0)) {
    fprintf(stderr, "usage: slot_batch shared|thread|padded pointer|index single|batch N ROUNDS\n");
    return 2;
  }
  rca_config_t cfg;
  rca_config_init(&cfg);
  if (rca_config_set(&cfg, "placement", argv[1]) || rca_config_set(&cfg, "handle_kind", argv[2])) {
    fprintf(stderr, "slot_batch: %s\n", rca_last_error());
    return 2;
  }
  cfg.checks = 0;
  rca_heap_t *heap = rca_heap_new(&cfg);
  if (!heap) {
    fprintf(stderr, "slot_batch: %s\n", rca_last_error());
    return 2;
  }
  const int batch = strcmp(argv[3], "batch") == 0;
  const size_t n = strtoul(argv[4], NULL, 10);
  const long rounds = strtol(argv[5], NULL, 10);
  rca_handle_t *h = malloc((n ? n : 1) * sizeof *h);
  if (!h) return 2;
  for (long r = 0; r < rounds; ++r) {
    take_slots(heap, h, n, batch);
    give_slots(heap, h, n, batch);
  }
  rca_stats_t st;
  rca_heap_stats(heap, &st);
  if (st.events_counted && st.live_slots != 0) {
    fprintf(stderr, "slot_batch: %zu slots left live\n", st.live_slots);
    return 1;
  }
  free(h);
  rca_heap_destroy(heap);
  return 0;
}
