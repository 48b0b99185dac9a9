// Biased reference counting (refcount/include/rca/biased.hpp): owner plain, others atomic,
// merge when the owner's count reaches zero.
#include <rca/biased.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using B = rca::rc::biased<std::uint32_t>;

TEST(Biased, OwnerCountsLocallyAndFreesAtZero) {
  B::count c;
  B::init(&c);
  B::incref(&c);
  B::incref(&c);
  EXPECT_EQ(c.local, 3u);
  EXPECT_EQ(c.shared, 0);
  EXPECT_FALSE(B::decref(&c));
  EXPECT_FALSE(B::decref(&c));
  EXPECT_TRUE(B::decref(&c));  // local reached 0 with nothing shared: dead
  EXPECT_TRUE(B::merged(&c));
}

TEST(Biased, OtherThreadsCountInSharedAndTheMergeKeepsTheObject) {
  B::count c;
  B::init(&c);
  std::thread([&] { B::incref(&c); }).join();  // a reference handed to another thread
  EXPECT_EQ(c.local, 1u);
  EXPECT_EQ(B::total(&c), 2);
  EXPECT_FALSE(B::decref(&c));  // owner drops its reference: merge, still alive
  EXPECT_TRUE(B::merged(&c));
  EXPECT_EQ(c.owner, 0u);
  bool dead = false;
  std::thread([&] { dead = B::decref(&c); }).join();
  EXPECT_TRUE(dead);
}

TEST(Biased, FrozenCountsAreLeftAlone) {
  B::count c;
  B::init(&c);
  B::freeze(&c);
  B::incref(&c);
  EXPECT_FALSE(B::decref(&c));
  EXPECT_FALSE(B::decref(&c));
  std::thread([&] { B::incref(&c); }).join();
  EXPECT_EQ(c.shared, 0);
}

TEST(Biased, ConcurrentIncrefDecrefKeepTheTotal) {
  B::count c;
  B::init(&c);
  constexpr int kThreads = 3, kOps = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < kOps; ++i) {
        B::incref(&c);
        EXPECT_FALSE(B::decref(&c));
      }
    });
  for (int i = 0; i < kOps; ++i) {  // the owner works at the same time
    B::incref(&c);
    EXPECT_FALSE(B::decref(&c));
  }
  for (auto &t : ts) t.join();
  EXPECT_EQ(B::total(&c), 1);
  EXPECT_FALSE(B::merged(&c));
}

}  // namespace
