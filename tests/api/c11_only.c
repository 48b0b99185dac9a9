/* Compiled with gcc -std=c11 -Wall -Wextra -pedantic -Werror: the public header is strict C11. */
#define RCA_SLOT_BITS 64
#include <rca/rca.h>

int main(void) {
  rca_config_t cfg;
  rca_heap_t *heap;
  rca_count_t c = 1;
  rca_config_init(&cfg);
  cfg.placement = RCA_PLACEMENT_THREAD;
  heap = rca_heap_new(&cfg);
  rca_count_incref(&c);
  (void)rca_count_decref(&c);
  rca_heap_destroy(heap);
  return 0;
}
