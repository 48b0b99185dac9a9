// The contended path of spin_lock (types.h): spin on a plain load (no cache-line ping-pong while
// the holder works), pausing the core; after a while yield, since on a machine with more threads
// than cores the holder may be waiting for this very CPU.
#include "internal.h"
#include "prim/prim.h"

namespace rca::detail {

void spin_lock::lock_contended() noexcept {
  for (unsigned spins = 0;;) {
    while (flag_.load(std::memory_order_relaxed)) {
      if (++spins < 128) prim::spin_pause();
      else prim::yield();
    }
    if (!flag_.exchange(true, std::memory_order_acquire)) return;
  }
}

}  // namespace rca::detail
