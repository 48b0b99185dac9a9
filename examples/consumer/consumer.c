/* Uses only rca.h: allocates under every placement and checks the counts. */
#include <rca/rca.h>

#include <stdio.h>

int main(void) {
  for (int p = 0; p < RCA_PLACEMENT_COUNT; ++p) {
    rca_config_t cfg;
    rca_config_init(&cfg);
    cfg.placement = (rca_placement_t)p;
    rca_heap_t *heap = rca_heap_new(&cfg);
    if (!heap) {
      fprintf(stderr, "consumer: %s\n", rca_last_error());
      return 1;
    }
    void *obj = rca_obj_alloc(heap, 32);
    rca_obj_incref(heap, obj);
    if (rca_obj_count(heap, obj) != 2 || rca_obj_release(heap, obj) ||
        !rca_obj_release(heap, obj)) {
      fprintf(stderr, "consumer: wrong count under %s\n", rca_placement_name(cfg.placement));
      return 1;
    }
    printf("%s ok\n", rca_placement_name(cfg.placement));
    rca_heap_destroy(heap);
  }
  return 0;
}
