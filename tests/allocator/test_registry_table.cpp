// The registry's table (allocator/registry.cpp): open addressing with backward-shift deletion,
// checked against std::unordered_map through inserts, lookups and erases that collide, wrap
// around the end of the table and make it grow.
#include "internal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

namespace {

using rca::detail::block_kind;
using rca::detail::registry_table;

void *addr(std::uintptr_t v) { return reinterpret_cast<void *>(v); }

// Every entry the table holds is in the model with the same kind, and the sizes agree.
void expect_same(registry_table &t, const std::unordered_map<void *, block_kind> &model) {
  ASSERT_EQ(t.size(), model.size());
  std::size_t seen = 0;
  t.for_each([&](registry_table::entry &e) {
    auto it = model.find(e.block);
    ASSERT_NE(it, model.end()) << e.block;
    EXPECT_EQ(e.kind, it->second);
    ++seen;
  });
  EXPECT_EQ(seen, model.size());
  for (auto &[p, k] : model) {
    registry_table::entry *e = t.find(p);
    ASSERT_NE(e, nullptr) << p;
    EXPECT_EQ(e->block, p);
    EXPECT_EQ(e->kind, k);
  }
}

TEST(RegistryTable, EmptyFindsNothing) {
  registry_table t;
  EXPECT_EQ(t.find(addr(0x1000)), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

TEST(RegistryTable, InsertFindEraseOne) {
  registry_table t;
  t.insert(addr(0x1000), block_kind::raw);
  ASSERT_NE(t.find(addr(0x1000)), nullptr);
  EXPECT_EQ(t.find(addr(0x1000))->kind, block_kind::raw);
  EXPECT_EQ(t.find(addr(0x1010)), nullptr);
  // Inserting again resets the entry: new kind, no saved count.
  t.find(addr(0x1000))->saved_count = 7;
  t.insert(addr(0x1000), block_kind::object);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(addr(0x1000))->kind, block_kind::object);
  EXPECT_EQ(t.find(addr(0x1000))->saved_count, 0u);
  t.erase_at(t.locate(addr(0x1000)));
  EXPECT_EQ(t.find(addr(0x1000)), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

// Random addresses in a narrow range (many share a home cell and runs wrap the table's end),
// inserted and erased in random order, through several doublings and back down to empty.
TEST(RegistryTable, AgreesWithAMapThroughCollisionsAndGrowth) {
  registry_table t;
  std::unordered_map<void *, block_kind> model;
  std::mt19937_64 rng(12345);
  std::vector<void *> live;
  for (int step = 0; step < 200000; ++step) {
    const bool add = live.size() < 20 || rng() % 100 < (step < 120000 ? 60 : 35);
    if (add) {
      void *p = addr(0x10000 + (rng() % 40000) * 16);
      const auto k = static_cast<block_kind>(rng() % 3);
      if (!model.count(p)) live.push_back(p);
      model[p] = k;
      t.insert(p, k);
    } else {
      const std::size_t i = rng() % live.size();
      void *p = live[i];
      live[i] = live.back();
      live.pop_back();
      const std::size_t cell = t.locate(p);
      ASSERT_NE(cell, registry_table::npos);
      t.erase_at(cell);
      model.erase(p);
      EXPECT_EQ(t.find(p), nullptr);
    }
    if (step % 20000 == 0) expect_same(t, model);
  }
  expect_same(t, model);
  for (void *p : live) t.erase_at(t.locate(p));
  EXPECT_EQ(t.size(), 0u);
  for (void *p : live) EXPECT_EQ(t.find(p), nullptr);
}

// Saved counts survive growth and the erasure of neighbours (what freeze keeps in the table).
TEST(RegistryTable, SavedCountsSurviveGrowthAndErase) {
  registry_table t;
  for (std::uintptr_t i = 1; i <= 5000; ++i) {
    t.insert(addr(i * 64), block_kind::object);
    t.find(addr(i * 64))->saved_count = i;
  }
  for (std::uintptr_t i = 1; i <= 5000; i += 2) t.erase_at(t.locate(addr(i * 64)));
  EXPECT_EQ(t.size(), 2500u);
  for (std::uintptr_t i = 2; i <= 5000; i += 2) {
    registry_table::entry *e = t.find(addr(i * 64));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->saved_count, i);
  }
  t.release();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find(addr(128)), nullptr);
  t.insert(addr(128), block_kind::slot);  // usable again after release
  EXPECT_EQ(t.find(addr(128))->kind, block_kind::slot);
}

}  // namespace
