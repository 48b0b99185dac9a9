/* A C extension may define its own bool (bpo-46748: CPython keeps <stdbool.h> out of its public
 * headers, and the rca-patched CPython's object.h includes rca/refcount.h). Compiled with
 * gcc -std=c11 -Werror -fsyntax-only: the public headers must leave the name bool free. */
#define RCA_SLOT_BITS 32
#include <rca/rca.h>
#include <rca/refcount.h>

#ifdef bool
#error "the rca headers defined bool (<stdbool.h>)"
#endif
typedef unsigned char bool;

int main(void) {
  uint32_t c = 1;
  bool frozen;
  rca_rc32_incref(&c, RCA_RC_FREEZE_CHECK);
  frozen = rca_rc32_is_frozen(c);
  return rca_rc32_decref(&c, RCA_RC_FREEZE_CHECK) || frozen;
}
