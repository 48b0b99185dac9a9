// Count edge cases: overflow lands in the frozen range and stays there, in every semantics that
// has the freeze check (plain/atomic x branch hint x checked/unchecked x 32/64 bits, through the
// C flags and through heaps of every placement), also when threads race across the boundary,
// and also across a heap freeze/thaw cycle (thaw restores only what freeze kept aside). Plus
// what unchecked semantics do with a zero count, as RELIABILITY.md states.
#include <rca/rca.h>
#include <rca/refcount.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {

// Every flag combination with the freeze check, from C: the flags are folded per call site.
template <unsigned F>
void overflow_sticky_32() {
  std::uint32_t s = RCA_RC_FROZEN_BIT32 - 3;  // three references short of the frozen range
  for (int i = 0; i < 2; ++i) rca_rc32_incref(&s, F);
  EXPECT_FALSE(rca_rc32_is_frozen(s)) << "flags " << F;
  rca_rc32_incref(&s, F);  // the one that overflows the live range
  ASSERT_TRUE(rca_rc32_is_frozen(s)) << "flags " << F;
  const std::uint32_t after = s;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rca_rc32_decref(&s, F));
    rca_rc32_incref(&s, F);
  }
  for (int i = 0; i < 5000; ++i) EXPECT_FALSE(rca_rc32_decref(&s, F));
  EXPECT_EQ(s, after) << "flags " << F << ": no operation moves a frozen count";
}
template <unsigned F>
void overflow_sticky_64() {
  std::uint64_t s = RCA_RC_FROZEN_BIT64 - 3;
  for (int i = 0; i < 2; ++i) rca_rc64_incref(&s, F);
  EXPECT_FALSE(rca_rc64_is_frozen(s)) << "flags " << F;
  rca_rc64_incref(&s, F);
  ASSERT_TRUE(rca_rc64_is_frozen(s)) << "flags " << F;
  const std::uint64_t after = s;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rca_rc64_decref(&s, F));
    rca_rc64_incref(&s, F);
  }
  for (int i = 0; i < 5000; ++i) EXPECT_FALSE(rca_rc64_decref(&s, F));
  EXPECT_EQ(s, after) << "flags " << F;
}
template <unsigned F>
void both_widths() {
  overflow_sticky_32<F | RCA_RC_FREEZE_CHECK>();
  overflow_sticky_64<F | RCA_RC_FREEZE_CHECK>();
}

TEST(Overflow, StickyInEverySemanticsFromC) {
  both_widths<0>();
  both_widths<RCA_RC_ATOMIC>();
  both_widths<RCA_RC_EXPECT>();
  both_widths<RCA_RC_CHECKED>();
  both_widths<RCA_RC_ATOMIC | RCA_RC_EXPECT>();
  both_widths<RCA_RC_ATOMIC | RCA_RC_CHECKED>();
  both_widths<RCA_RC_EXPECT | RCA_RC_CHECKED>();
  both_widths<RCA_RC_ATOMIC | RCA_RC_EXPECT | RCA_RC_CHECKED>();
}

// The same through the C++ templates, unchecked ones included (test_refcount covers the rest).
template <class C>
class OverflowCounter : public testing::Test {};
using Counters = testing::Types<rca::rc::counter<std::uint32_t, false, true, true, false>,
                                rca::rc::counter<std::uint32_t, true, true, true, false>,
                                rca::rc::counter<std::uint32_t, true, true, false, false>,
                                rca::rc::counter<std::uint64_t, false, true, true, false>,
                                rca::rc::counter<std::uint64_t, false, true, false, false>,
                                rca::rc::counter<std::uint64_t, true, true, true, true>>;
TYPED_TEST_SUITE(OverflowCounter, Counters);

TYPED_TEST(OverflowCounter, StickyFromCxx) {
  using C = TypeParam;
  using S = typename C::slot;
  S s = rca::rc::slot_traits<S>::frozen_bit - 1;  // the largest live count
  C::incref(&s);
  ASSERT_TRUE(C::is_frozen(C::load(&s)));
  const S after = C::load(&s);
  for (int i = 0; i < 100; ++i) {
    C::incref(&s);
    EXPECT_FALSE(C::decref(&s));
    EXPECT_FALSE(C::decref(&s));
  }
  EXPECT_EQ(C::load(&s), after);
}

TEST(Overflow, RacingThreadsAcrossTheBoundaryEndFrozen) {
  // Atomic counts, threads push the count over the top while others decref: once any incref
  // overflows, every later operation sees a frozen count and leaves it; the stragglers that
  // passed the check before the overflow are far fewer than the frozen range is wide.
  using C = rca::rc::atomic<std::uint32_t, true, true, true>;
  for (int round = 0; round < 20; ++round) {
    std::uint32_t s = RCA_RC_FROZEN_BIT32 - 2000;
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < 5000; ++i) {
          C::incref(&s);
          if (t % 2) {
            EXPECT_FALSE(C::decref(&s));
          }
        }
      });
    for (auto &t : ts) t.join();
    // 2 threads x 5000 net increfs > 2000: the boundary was crossed.
    EXPECT_TRUE(C::is_frozen(C::load(&s))) << "round " << round;
    EXPECT_GE(C::load(&s), RCA_RC_FROZEN_BIT32);
  }
}

// ---- through heaps ------------------------------------------------------------------------------

struct count_config {
  rca_placement_t placement;
  rca_handle_kind_t handle_kind;
  unsigned slot_bits;
};
std::string name_of(const testing::TestParamInfo<count_config> &i) {
  return std::string(rca_placement_name(i.param.placement)) + "_" +
         rca_handle_kind_name(i.param.handle_kind) + "_" + std::to_string(i.param.slot_bits);
}

class HeapCounts : public testing::TestWithParam<count_config> {
 protected:
  void SetUp() override {
    rca_config_t c;
    rca_config_init(&c);
    c.placement = GetParam().placement;
    c.handle_kind = GetParam().handle_kind;
    c.slot_bits = GetParam().slot_bits;
    c.track_objects = 1;  // inline and embedded heaps freeze through the registry
    heap_ = rca_heap_new(&c);
    ASSERT_NE(heap_, nullptr) << rca_last_error();
    bits_ = c.slot_bits;
  }
  void TearDown() override { rca_heap_destroy(heap_); }
  std::uint64_t top() const { return bits_ == 32 ? RCA_RC_FROZEN_BIT32 : RCA_RC_FROZEN_BIT64; }
  void set(void *obj, std::uint64_t v) {
    void *s = rca_obj_slot(heap_, obj);
    if (bits_ == 32) *static_cast<std::uint32_t *>(s) = static_cast<std::uint32_t>(v);
    else *static_cast<std::uint64_t *>(s) = v;
  }
  rca_heap_t *heap_ = nullptr;
  unsigned bits_ = 32;
};

TEST_P(HeapCounts, OverflowIsFrozenAndSurvivesFreezeAndThaw) {
  void *o = rca_obj_alloc(heap_, 32);
  void *plain = rca_obj_alloc(heap_, 32);
  rca_obj_incref(heap_, plain);  // count 2
  set(o, top() - 1);
  rca_obj_incref(heap_, o);
  const std::uint64_t overflowed = rca_obj_count(heap_, o);
  EXPECT_EQ(overflowed, top());
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(rca_obj_release(heap_, o), 0) << "a frozen object is never freed";
  EXPECT_EQ(rca_obj_count(heap_, o), overflowed);

  // The heap-wide freeze skips a count that is already frozen, and thaw restores only what
  // freeze kept aside: the overflowed count stays frozen, the other comes back to 2.
  EXPECT_EQ(rca_heap_freeze(heap_), 1);
  EXPECT_EQ(rca_obj_count(heap_, plain), bits_ == 32 ? RCA_RC_FROZEN32 : RCA_RC_FROZEN64);
  EXPECT_EQ(rca_heap_thaw(heap_), 1);
  EXPECT_EQ(rca_obj_count(heap_, plain), 2u);
  EXPECT_EQ(rca_obj_count(heap_, o), overflowed);
  rca_obj_free(heap_, o);
  rca_obj_free(heap_, plain);
}

TEST_P(HeapCounts, ASlotReusedAfterFreezeStartsAtOneAndThawLeavesIt) {
  // A frozen object freed while frozen: the next object in its slot must not get the old count
  // back at thaw.
  void *o = rca_obj_alloc(heap_, 32);
  for (int i = 0; i < 4; ++i) rca_obj_incref(heap_, o);
  EXPECT_EQ(rca_heap_freeze(heap_), 1);
  rca_obj_free(heap_, o);
  void *n = rca_obj_alloc(heap_, 32);
  EXPECT_EQ(rca_obj_count(heap_, n), 1u);
  EXPECT_EQ(rca_heap_thaw(heap_), 0);
  EXPECT_EQ(rca_obj_count(heap_, n), 1u);
  EXPECT_EQ(rca_obj_release(heap_, n), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Placements, HeapCounts,
    testing::Values(count_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32},
                    count_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 64},
                    count_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, 32},
                    count_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, 64},
                    count_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, 32},
                    count_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX, 64},
                    count_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX, 32},
                    count_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_POINTER, 64},
                    count_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_INDEX, 32},
                    count_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_POINTER, 64}),
    name_of);

// ---- unchecked semantics: what a release build does with a zero count ---------------------------

TEST(UncheckedCounts, DecrefOfZeroWrapsIntoTheFrozenRangeAndLeaks) {
  // With the freeze check, a decref of zero wraps to all ones: frozen, so the object is never
  // reported as reaching zero again (it leaks instead of being freed twice).
  {
    std::uint32_t s = 0;
    EXPECT_FALSE(rca_rc32_decref(&s, RCA_RC_FREEZE_CHECK | RCA_RC_ATOMIC));
    EXPECT_EQ(s, UINT32_MAX);
    EXPECT_TRUE(rca_rc32_is_frozen(s));
    rca_rc32_incref(&s, RCA_RC_FREEZE_CHECK | RCA_RC_ATOMIC);
    EXPECT_EQ(s, UINT32_MAX);
  }
  {
    std::uint64_t s = 0;
    EXPECT_FALSE(rca_rc64_decref(&s, RCA_RC_FREEZE_CHECK));
    EXPECT_EQ(s, UINT64_MAX);
  }
  // An incref of zero (use after free) just counts 1: nothing detects it.
  std::uint32_t z = 0;
  rca_rc32_incref(&z, RCA_RC_FREEZE_CHECK);
  EXPECT_EQ(z, 1u);
}

TEST(UncheckedCounts, WithoutTheFreezeCheckACountIsAPlainInteger) {
  // The C2 control: no freezing, and overflow or underflow simply wraps.
  std::uint32_t s = 0;
  EXPECT_FALSE(rca_rc32_decref(&s, 0));
  EXPECT_EQ(s, UINT32_MAX);
  rca_rc32_incref(&s, RCA_RC_ATOMIC);
  EXPECT_EQ(s, 0u);
  std::uint32_t t = RCA_RC_FROZEN_BIT32 - 1;
  rca_rc32_incref(&t, 0);
  EXPECT_EQ(t, RCA_RC_FROZEN_BIT32);
  EXPECT_FALSE(rca_rc32_decref(&t, 0));
  EXPECT_EQ(t, RCA_RC_FROZEN_BIT32 - 1) << "not sticky without the check";
}

}  // namespace
