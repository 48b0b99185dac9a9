// The hot path's count arithmetic, for every slot width and semantics.
#include <rca/refcount.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

extern "C" int rca_test_c_hot_path(void);

namespace {

using namespace rca::rc;

template <class C>
class CounterTest : public ::testing::Test {};

// Slot width x plain/atomic x freeze check, all checked (so misuse would abort the test).
using Counters = ::testing::Types<
    counter<std::uint32_t, false, true, true, true>, counter<std::uint32_t, true, true, true, true>,
    counter<std::uint64_t, false, true, true, true>, counter<std::uint64_t, true, true, true, true>,
    counter<std::uint32_t, false, true, false, true>,
    counter<std::uint32_t, true, true, false, true>,
    counter<std::uint32_t, false, false, true, true>,
    counter<std::uint32_t, true, false, true, true>,
    counter<std::uint64_t, false, false, true, true>,
    counter<std::uint64_t, true, false, true, true>>;
TYPED_TEST_SUITE(CounterTest, Counters);

TYPED_TEST(CounterTest, ArithmeticAndZeroDetection) {
  using C = TypeParam;
  typename C::slot s;
  C::init(&s);
  EXPECT_EQ(C::load(&s), 1u);
  for (int i = 0; i < 10; ++i) C::incref(&s);
  EXPECT_EQ(C::load(&s), 11u);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(C::decref(&s)) << "decref " << i;
  EXPECT_EQ(C::load(&s), 1u);
  EXPECT_TRUE(C::decref(&s));  // reached zero: the caller destroys
  EXPECT_EQ(C::load(&s), 0u);
}

TYPED_TEST(CounterTest, FrozenCountsAreLeftAloneOnlyWithTheCheck) {
  using C = TypeParam;
  typename C::slot s;
  C::freeze(&s);
  const auto frozen = slot_traits<typename C::slot>::frozen;
  EXPECT_TRUE(C::is_frozen(C::load(&s)));
  C::incref(&s);
  const bool reached_zero = C::decref(&s) || C::decref(&s);
  EXPECT_FALSE(reached_zero);
  if constexpr (C::freeze_check) {
    EXPECT_EQ(C::load(&s), frozen);  // untouched
  } else {
    EXPECT_EQ(C::load(&s), frozen - 1);  // a plain integer without the check
  }
}

// Overflow saturation needs the freeze check: without it a count is a plain integer.
template <class C>
class FreezeCheckCounterTest : public ::testing::Test {};
using FreezeCheckCounters = ::testing::Types<
    counter<std::uint32_t, false, true, true, true>, counter<std::uint32_t, true, true, true, true>,
    counter<std::uint64_t, false, true, true, true>, counter<std::uint64_t, true, true, true, true>,
    counter<std::uint32_t, false, true, false, true>,
    counter<std::uint64_t, true, true, false, false>>;
TYPED_TEST_SUITE(FreezeCheckCounterTest, FreezeCheckCounters);

TYPED_TEST(FreezeCheckCounterTest, OverflowSaturatesToFrozenAndStaysFrozen) {
  using C = TypeParam;
  {
    using S = typename C::slot;
    S s = slot_traits<S>::frozen_bit - 2;  // two references short of the frozen range
    C::incref(&s);
    EXPECT_FALSE(C::is_frozen(C::load(&s)));
    C::incref(&s);  // overflow of the live range
    EXPECT_TRUE(C::is_frozen(C::load(&s)));
    const S after = C::load(&s);
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(C::decref(&s));
    C::incref(&s);
    EXPECT_EQ(C::load(&s), after) << "sticky: no operation leaves the frozen range";
  }
}

TEST(CounterAtomic, ConcurrentIncrefDecrefBalance) {
  using C = atomic<std::uint32_t, true, true, true>;
  std::uint32_t s;
  C::init(&s);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) C::incref(&s);
      for (int i = 0; i < 100000; ++i) C::decref(&s);
    });
  for (auto &t : ts) t.join();
  EXPECT_EQ(C::load(&s), 1u);
  EXPECT_TRUE(C::decref(&s));
}

TEST(CounterAtomic, RacingUpdatesOnAFrozenCountStayFrozen) {
  // Between the check and the add another thread may freeze; the frozen value sits in the middle
  // of the frozen range so that such stragglers cannot leave it.
  using C = atomic<std::uint32_t, false, true, true>;  // no check: every op really adds
  std::uint32_t s;
  C::freeze(&s);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 100000; ++i) (t % 2) ? C::incref(&s) : (void)C::decref(&s);
    });
  for (auto &t : ts) t.join();
  EXPECT_TRUE(C::is_frozen(C::load(&s)));
}

TEST(CounterUnchecked, DecrefOfZeroLeaksInsteadOfFreeingTwice) {
  using C = plain<std::uint32_t, true, true, false>;
  std::uint32_t s = 0;
  EXPECT_FALSE(C::decref(&s));             // not "reached zero" again
  EXPECT_TRUE(C::is_frozen(C::load(&s)));  // wrapped into the frozen range: sticky
}

using CheckedPlain = plain<std::uint32_t, true, true, true>;
using CheckedAtomic64 = atomic<std::uint64_t, true, true, true>;

TEST(CounterDeathTest, DecrefBelowZeroAborts) {
  std::uint32_t s = 0;
  EXPECT_DEATH(CheckedPlain::decref(&s), "rca: decref below zero");
  std::uint64_t s64 = 0;
  EXPECT_DEATH(CheckedAtomic64::decref(&s64), "rca: decref below zero");
}

TEST(CounterDeathTest, IncrefOfZeroAborts) {
  std::uint32_t s = 0;
  EXPECT_DEATH(CheckedPlain::incref(&s), "rca: incref of a count of zero");
}

TEST(Handles, IndexPointerAndInlineResolveTheSameSlot) {
  std::uint32_t slots[8] = {};
  std::uint32_t field = 5;
  EXPECT_EQ(index_handle<std::uint32_t>::slot(3, slots), &slots[3]);
  EXPECT_EQ(pointer_handle<std::uint32_t>::slot(&slots[3], nullptr), &slots[3]);
  EXPECT_EQ(inline_handle<std::uint32_t>::slot(field, nullptr), &field);
  static_assert(sizeof(index_handle<std::uint32_t>::stored) == 4,
                "an index handle adds no bytes over a 32-bit inline count");
}

TEST(CHotPath, SameSemanticsFromC) { EXPECT_EQ(rca_test_c_hot_path(), 0); }

}  // namespace
