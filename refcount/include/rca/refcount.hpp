// rca refcount layer, C++ face: compile-time selection of slot width, semantics and handle kind.
//
// Every choice is a template parameter, so an experiment that instantiates one combination pays
// for nothing else. The arithmetic itself is the C layer's (refcount.h): one implementation.
#pragma once

#include <rca/computed.h>
#include <rca/refcount.h>

#include <concepts>
#include <cstdint>
#include <type_traits>

namespace rca::rc {

#ifdef NDEBUG
inline constexpr bool checked_default = false;
#else
inline constexpr bool checked_default = true;
#endif

/// Slot widths: 32 or 64 bits.
template <class T>
concept slot_type = std::same_as<T, std::uint32_t> || std::same_as<T, std::uint64_t>;

/// Constants of a slot width.
template <slot_type Slot>
struct slot_traits {
  static constexpr Slot frozen = sizeof(Slot) == 4 ? Slot(RCA_RC_FROZEN32) : Slot(RCA_RC_FROZEN64);
  static constexpr Slot frozen_bit =
      sizeof(Slot) == 4 ? Slot(RCA_RC_FROZEN_BIT32) : Slot(RCA_RC_FROZEN_BIT64);
};

/// Count semantics, fixed at compile time.
/// Atomic: atomic read-modify-write. FreezeCheck: frozen counts are left alone.
/// Expect: the check carries __builtin_expect. Checked: zero-count misuse aborts with a message.
template <slot_type Slot, bool Atomic, bool FreezeCheck = true, bool Expect = true,
          bool Checked = checked_default>
struct counter {
  using slot = Slot;
  static constexpr bool atomic = Atomic;
  static constexpr bool freeze_check = FreezeCheck;
  static constexpr unsigned flags = (Atomic ? RCA_RC_ATOMIC : 0u) |
                                    (FreezeCheck ? RCA_RC_FREEZE_CHECK : 0u) |
                                    (Expect ? RCA_RC_EXPECT : 0u) | (Checked ? RCA_RC_CHECKED : 0u);

  [[gnu::always_inline]] static inline void init(Slot *s) noexcept {
    if constexpr (sizeof(Slot) == 4) rca_rc32_init(s, flags);
    else rca_rc64_init(s, flags);
  }
  [[gnu::always_inline]] static inline void incref(Slot *s) noexcept {
    if constexpr (sizeof(Slot) == 4) rca_rc32_incref(s, flags);
    else rca_rc64_incref(s, flags);
  }
  /// True when the count reached zero: the caller destroys the object.
  [[gnu::always_inline]] static inline bool decref(Slot *s) noexcept {
    if constexpr (sizeof(Slot) == 4) return rca_rc32_decref(s, flags);
    else return rca_rc64_decref(s, flags);
  }
  [[gnu::always_inline]] static inline Slot load(const Slot *s) noexcept {
    if constexpr (sizeof(Slot) == 4) return rca_rc32_load(s, flags);
    else return rca_rc64_load(s, flags);
  }
  [[gnu::always_inline]] static inline void freeze(Slot *s) noexcept {
    if constexpr (sizeof(Slot) == 4) rca_rc32_freeze(s, flags);
    else rca_rc64_freeze(s, flags);
  }
  static constexpr bool is_frozen(Slot c) noexcept {
    return (c & slot_traits<Slot>::frozen_bit) != 0;
  }
};

template <slot_type Slot, bool FreezeCheck = true, bool Expect = true,
          bool Checked = checked_default>
using plain = counter<Slot, false, FreezeCheck, Expect, Checked>;
template <slot_type Slot, bool FreezeCheck = true, bool Expect = true,
          bool Checked = checked_default>
using atomic = counter<Slot, true, FreezeCheck, Expect, Checked>;

// ---------------------------------------------------------------------------------------------
// Handles: how an object reaches its count. The object stores `handle::stored`.
// ---------------------------------------------------------------------------------------------

/// The count is the header field itself (no handle). `base` is unused.
template <slot_type Slot>
struct inline_handle {
  using stored = Slot;
  [[gnu::always_inline]] static inline Slot *slot(stored &field, Slot * /*base*/) noexcept {
    return &field;
  }
};

/// The header holds the slot's address (shared, thread, padded and embedded placements).
template <slot_type Slot>
struct pointer_handle {
  using stored = Slot *;
  [[gnu::always_inline]] static inline Slot *slot(stored field, Slot * /*base*/) noexcept {
    return field;
  }
};

/// The header holds a 32-bit index into the heap's slot space: slot = base + index.
template <slot_type Slot>
struct index_handle {
  using stored = std::uint32_t;
  [[gnu::always_inline]] static inline Slot *slot(stored field, Slot *base) noexcept {
    return base + field;
  }
};

/// computed placement, `span` address function: no field in the object; the count is found from
/// the object's address through its span's header (one load). `stored` is the object's first
/// byte, so slot(*obj) sees the object's address; `base` is unused.
template <slot_type Slot>
struct computed_span_handle {
  using stored = unsigned char;
  [[gnu::always_inline]] static inline Slot *slot(const stored &object, Slot * /*base*/) noexcept {
    return static_cast<Slot *>(rca_computed_span_count(&object, sizeof(Slot)));
  }
};

/// computed placement, `granule` address function: arithmetic only. `base` carries the heap's
/// bias (rca_computed_bias) as a pointer.
template <slot_type Slot>
struct computed_granule_handle {
  using stored = unsigned char;
  [[gnu::always_inline]] static inline Slot *slot(const stored &object, Slot *bias) noexcept {
    return static_cast<Slot *>(
        rca_computed_granule_count(reinterpret_cast<std::uintptr_t>(bias), &object, sizeof(Slot)));
  }
};

}  // namespace rca::rc
