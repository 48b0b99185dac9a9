// rca refcount layer: biased reference counting (Choi, Shull and Torrellas, PACT 2018; the
// scheme of PEP 703's free-threaded CPython).
//
// Most objects are only ever touched by the thread that made them, so that thread (the owner)
// counts in a plain field with no atomic instruction, and every other thread counts in a
// separate atomic field. The object's count is local + shared.
//
// When the owner's local count reaches zero the two are *merged*: the shared field is marked
// merged, ownership is given up (owner = 0) and from then on every thread, the former owner
// included, uses the shared field; the object dies when the merged shared count reaches zero.
//
// Not modelled here (the experiment does not need it; PEP 703 does): when a non-owner's
// decrement drives the shared field negative while the owner still holds local references,
// PEP 703 queues the object for its owner to merge at its next safe point. Here it stays
// unmerged until the owner's own decrefs bring local to zero; `total()` is exact at any
// quiescent point.
//
// Header-only; includes only refcount.h / refcount.hpp and the standard library.
#pragma once

#include <rca/refcount.hpp>

#include <cstdint>

namespace rca::rc {

/// A thread's identity for ownership: the address of a thread-local byte (unique among live
/// threads, never 0). PEP 703 uses the thread pointer the same way.
[[gnu::always_inline]] inline std::uintptr_t biased_thread_id() noexcept {
  static thread_local char tag;
  return reinterpret_cast<std::uintptr_t>(&tag);
}

/// The count of one object. 24 bytes with 64-bit slots' alignment; lives wherever the object
/// keeps its count (rca's slots are single words, so experiments keep it in the object).
template <slot_type Slot>
struct biased_count {
  std::uintptr_t owner;  ///< owning thread, 0 once merged (read by other threads: atomic)
  Slot local;            ///< owner's count; written only by the owner (relaxed atomic store)
  std::int64_t shared;   ///< (count << 2) | flags, atomic; count may go negative before a merge
};

/// Biased counting with the freeze check of refcount.h (a frozen local field: nobody counts).
template <slot_type Slot, bool FreezeCheck = true>
struct biased {
  using count = biased_count<Slot>;
  static constexpr std::int64_t kMerged = 1;  ///< flag in shared's low bits
  static constexpr std::int64_t kOne = 4;     ///< one reference in shared (count << 2)

  /// Count 1, owned by the calling thread.
  static void init(count *c) noexcept {
    __atomic_store_n(&c->owner, biased_thread_id(), __ATOMIC_RELAXED);
    __atomic_store_n(&c->local, Slot(1), __ATOMIC_RELAXED);
    __atomic_store_n(&c->shared, std::int64_t(0), __ATOMIC_RELAXED);
  }

  /// Frozen: no thread counts it any more (call only while no thread is counting).
  static void freeze(count *c) noexcept {
    __atomic_store_n(&c->local, slot_traits<Slot>::frozen, __ATOMIC_RELAXED);
  }

  [[gnu::always_inline]] static inline void incref(count *c) noexcept {
    const Slot l = __atomic_load_n(&c->local, __ATOMIC_RELAXED);
    if constexpr (FreezeCheck) {
      if (__builtin_expect((l & slot_traits<Slot>::frozen_bit) != 0, 0)) return;
    }
    if (__builtin_expect(__atomic_load_n(&c->owner, __ATOMIC_RELAXED) == biased_thread_id(), 1))
      __atomic_store_n(&c->local, Slot(l + 1), __ATOMIC_RELAXED);  // a plain add: only we write it
    else __atomic_fetch_add(&c->shared, kOne, __ATOMIC_RELAXED);
  }

  /// True when the count reached zero: the caller destroys the object.
  [[gnu::always_inline]] static inline bool decref(count *c) noexcept {
    const Slot l = __atomic_load_n(&c->local, __ATOMIC_RELAXED);
    if constexpr (FreezeCheck) {
      if (__builtin_expect((l & slot_traits<Slot>::frozen_bit) != 0, 0)) return false;
    }
    if (__builtin_expect(__atomic_load_n(&c->owner, __ATOMIC_RELAXED) == biased_thread_id(), 1)) {
      __atomic_store_n(&c->local, Slot(l - 1), __ATOMIC_RELAXED);
      if (__builtin_expect(l != 1, 1)) return false;
      return merge(c);
    }
    const std::int64_t now = __atomic_sub_fetch(&c->shared, kOne, __ATOMIC_ACQ_REL);
    return (now & kMerged) && (now >> 2) == 0;
  }

  /// The owner's local count reached zero: fold it into shared and give up ownership.
  /// Returns true when nothing is left (the object is dead).
  [[gnu::noinline]] static bool merge(count *c) noexcept {
    std::int64_t old = __atomic_load_n(&c->shared, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&c->shared, &old, old | kMerged, true, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
    }
    __atomic_store_n(&c->owner, std::uintptr_t(0), __ATOMIC_RELEASE);
    return (old >> 2) == 0;
  }

  /// local + shared, exact when no thread is counting.
  static std::int64_t total(const count *c) noexcept {
    const Slot l = __atomic_load_n(&c->local, __ATOMIC_RELAXED);
    return static_cast<std::int64_t>(l) + (__atomic_load_n(&c->shared, __ATOMIC_RELAXED) >> 2);
  }
  static bool merged(const count *c) noexcept {
    return (__atomic_load_n(&c->shared, __ATOMIC_RELAXED) & kMerged) != 0;
  }
};

}  // namespace rca::rc
