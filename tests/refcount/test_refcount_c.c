/* The C hot path of rca.h, compiled as C with a VM's defines. Returns 0 when every check holds,
 * else the number of the first failed check. */
#define RCA_SLOT_BITS 32
#define RCA_RC_FLAGS (RCA_RC_ATOMIC | RCA_RC_FREEZE_CHECK | RCA_RC_EXPECT)
#include <rca/rca.h>

int rca_test_c_hot_path(void) {
  rca_count_t slots[4] = {1, 1, 1, 1};
  rca_count_t *s = RCA_SLOT_AT(slots, 2);
  if (s != &slots[2]) return 1;
  rca_count_incref(s);
  if (rca_count_get(s) != 2) return 2;
  if (rca_count_decref(s)) return 3;
  if (!rca_count_decref(s)) return 4;
  slots[1] = RCA_RC_FROZEN32;
  rca_count_incref(&slots[1]);
  if (rca_count_decref(&slots[1]) || slots[1] != RCA_RC_FROZEN32) return 5;
  if (!rca_count_is_frozen(slots[1])) return 6;
  return 0;
}
