/* rca refcount layer: the hot path (C11 and C++).
 *
 * Header-only. Includes nothing else of the project, allocates nothing, prints nothing.
 * One implementation of the count arithmetic serves C (flag arguments that are compile-time
 * constants at every call site, folded away by always_inline) and C++ (templates in
 * refcount.hpp that pass constant flags).
 *
 * Count encoding (both slot widths): a live count is 1 .. 2^(w-1)-1. A count with its top bit set
 * is *frozen*: incref/decref leave it alone when the freeze check is compiled in. Freezing stores
 * RCA_RC_FROZEN{32,64}, the middle of the frozen range, so that racing atomic increments and
 * decrements on a frozen count (which may happen between the check and the add) can never
 * leave the range: frozen is sticky. An increment that reaches 2^(w-1) lands in the frozen range
 * by itself: overflow saturates to frozen, with no extra test on the hot path (CPython's
 * immortal objects use the same trick).
 *
 * Without the freeze check the count is a plain integer: it is the control for claim C2 and
 * supports no freezing; overflow of a 32-bit count then needs 2^32 references.
 *
 * Checked builds (RCA_RC_CHECKED flag) call rca_rc_fail() on a decref of a zero count and on an
 * incref of a zero count (a use after the object died). rca_rc_fail is the one symbol this layer
 * needs from outside: the allocator library defines it (it names the object and aborts). In an
 * unchecked build a decref of zero wraps to all ones, which is frozen when the check is on:
 * the object leaks instead of being freed twice.
 */
#ifndef RCA_REFCOUNT_H
#define RCA_REFCOUNT_H

#include <stdint.h>

/* C uses _Bool, not <stdbool.h>: CPython's public headers include this one, and extensions that
 * define their own bool must still compile (bpo-46748). */
#ifdef __cplusplus
#define RCA__RC_BOOL bool
#else
#define RCA__RC_BOOL _Bool
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Flags: OR them into a compile-time constant. */
#define RCA_RC_ATOMIC 1u       /* atomic read-modify-write (relaxed inc, acq_rel dec) */
#define RCA_RC_FREEZE_CHECK 2u /* frozen counts are left alone */
#define RCA_RC_EXPECT 4u       /* __builtin_expect(frozen, 0) on the check */
#define RCA_RC_CHECKED 8u      /* zero-count misuse calls rca_rc_fail */

#define RCA_RC_FROZEN_BIT32 UINT32_C(0x80000000)
#define RCA_RC_FROZEN32 UINT32_C(0xC0000000)
#define RCA_RC_FROZEN_BIT64 UINT64_C(0x8000000000000000)
#define RCA_RC_FROZEN64 UINT64_C(0xC000000000000000)

/* Operations reported to rca_rc_fail. */
#define RCA_RC_OP_DECREF_ZERO 1
#define RCA_RC_OP_INCREF_ZERO 2

/* Called on misuse in checked builds; never returns. Defined by the allocator library. */
#if defined(__GNUC__)
__attribute__((noreturn, cold))
#endif
void rca_rc_fail(int op, const void *slot);

#define RCA__RC_INLINE static inline __attribute__((always_inline))

/* The frozen test, with or without the branch hint: flags is a constant, so one arm remains. */
#define RCA__RC_IS_FROZEN(c, bit, flags)                                                           \
  (((flags)&RCA_RC_EXPECT) ? __builtin_expect(((c) & (bit)) != 0, 0) : (((c) & (bit)) != 0))
#define RCA__RC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* One definition for both widths: W is 32 or 64, T the slot type. */
#define RCA__RC_DEFINE(W, T)                                                                       \
  RCA__RC_INLINE T rca_rc##W##_load(const T *s, unsigned flags) {                                  \
    return (flags & RCA_RC_ATOMIC) ? __atomic_load_n(s, __ATOMIC_RELAXED) : *s;                    \
  }                                                                                                \
  RCA__RC_INLINE void rca_rc##W##_store(T *s, T v, unsigned flags) {                               \
    if (flags & RCA_RC_ATOMIC) __atomic_store_n(s, v, __ATOMIC_RELAXED);                           \
    else *s = v;                                                                                   \
  }                                                                                                \
  RCA__RC_INLINE RCA__RC_BOOL rca_rc##W##_is_frozen(T c) {                                         \
    return (c & RCA_RC_FROZEN_BIT##W) != 0;                                                        \
  }                                                                                                \
  RCA__RC_INLINE void rca_rc##W##_init(T *s, unsigned flags) { rca_rc##W##_store(s, 1, flags); }   \
  RCA__RC_INLINE void rca_rc##W##_freeze(T *s, unsigned flags) {                                   \
    rca_rc##W##_store(s, RCA_RC_FROZEN##W, flags);                                                 \
  }                                                                                                \
  RCA__RC_INLINE void rca_rc##W##_incref(T *s, unsigned flags) {                                   \
    if (flags & (RCA_RC_FREEZE_CHECK | RCA_RC_CHECKED)) {                                          \
      T c = rca_rc##W##_load(s, flags);                                                            \
      if ((flags & RCA_RC_FREEZE_CHECK) && RCA__RC_IS_FROZEN(c, RCA_RC_FROZEN_BIT##W, flags))      \
        return;                                                                                    \
      if ((flags & RCA_RC_CHECKED) && RCA__RC_UNLIKELY(c == 0))                                    \
        rca_rc_fail(RCA_RC_OP_INCREF_ZERO, s);                                                     \
      if (!(flags & RCA_RC_ATOMIC)) {                                                              \
        *s = (T)(c + 1);                                                                           \
        return;                                                                                    \
      }                                                                                            \
    }                                                                                              \
    if (flags & RCA_RC_ATOMIC) __atomic_fetch_add(s, 1, __ATOMIC_RELAXED);                         \
    else *s = (T)(*s + 1);                                                                         \
  }                                                                                                \
  /* Returns true when the count reached zero: the caller destroys the object. */                  \
  RCA__RC_INLINE RCA__RC_BOOL rca_rc##W##_decref(T *s, unsigned flags) {                           \
    T old;                                                                                         \
    if (flags & RCA_RC_FREEZE_CHECK) {                                                             \
      old = rca_rc##W##_load(s, flags);                                                            \
      if (RCA__RC_IS_FROZEN(old, RCA_RC_FROZEN_BIT##W, flags)) return 0;                           \
    }                                                                                              \
    if (flags & RCA_RC_ATOMIC) {                                                                   \
      old = __atomic_fetch_sub(s, 1, __ATOMIC_ACQ_REL);                                            \
    } else {                                                                                       \
      if (!(flags & RCA_RC_FREEZE_CHECK)) old = *s;                                                \
      *s = (T)(old - 1);                                                                           \
    }                                                                                              \
    if ((flags & RCA_RC_CHECKED) && RCA__RC_UNLIKELY(old == 0))                                    \
      rca_rc_fail(RCA_RC_OP_DECREF_ZERO, s);                                                       \
    return old == 1;                                                                               \
  }

RCA__RC_DEFINE(32, uint32_t)
RCA__RC_DEFINE(64, uint64_t)

#ifdef __cplusplus
}
#endif

#endif /* RCA_REFCOUNT_H */
