/* free_checks: instructions of rca_obj_alloc + rca_obj_free with the release defaults, for
 * callgrind (deterministic counts; time here is too noisy to show a few instructions). The same
 * file is built against two librca.a, before and after a change to the free path, and run as
 *   valgrind --tool=callgrind --callgrind-out-file=OUT ./free_checks PLACEMENT HANDLE N [checked]
 * ("checked": checks on, so the heap tracks its objects in the registry, as the debug defaults do)
 * The alloc experiment's size mix; a window of 4096 live objects freed in allocation order
 * (FIFO), so slots are reused the way a VM's short-lived objects reuse them. */
#include <rca/rca.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t kSizes[] = {16, 32, 32, 32, 48, 48, 64, 64, 96, 128};
enum { kWindow = 4096 };

int main(int argc, char **argv) {
  if (argc != 4 && !(argc == 5 && strcmp(argv[4], "checked") == 0)) {
    fprintf(stderr,
            "usage: free_checks inline|embedded|shared|thread|padded pointer|index N [checked]\n");
    return 2;
  }
  rca_config_t cfg;
  rca_config_init(&cfg);
  if (rca_config_set(&cfg, "placement", argv[1]) || rca_config_set(&cfg, "handle_kind", argv[2])) {
    fprintf(stderr, "free_checks: %s\n", rca_last_error());
    return 2;
  }
  cfg.checks = argc == 5;
  rca_heap_t *heap = rca_heap_new(&cfg);
  if (!heap) {
    fprintf(stderr, "free_checks: %s\n", rca_last_error());
    return 2;
  }
  long n = strtol(argv[3], NULL, 10);
  void *live[kWindow] = {0};
  for (long i = 0; i < n; ++i) {
    void **slot = &live[i % kWindow];
    if (*slot) rca_obj_free(heap, *slot);
    *slot = rca_obj_alloc(heap, kSizes[i % 10]);
  }
  for (int i = 0; i < kWindow; ++i) rca_obj_free(heap, live[i]);
  rca_heap_destroy(heap);
  return 0;
}
