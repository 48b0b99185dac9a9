// The C++ face: RAII, errors as exceptions with the library's message.
#include <rca/rca.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <type_traits>

namespace {

TEST(CppApi, HeapIsMoveOnlyAndOwnsItsHandle) {
  static_assert(!std::is_copy_constructible_v<rca::heap>);
  rca::heap a(rca::config().placement(RCA_PLACEMENT_THREAD).handle_kind(RCA_HANDLE_KIND_INDEX));
  void *o = a.alloc(32);
  rca::heap b(std::move(a));
  EXPECT_EQ(a.get(), nullptr);
  EXPECT_EQ(b.count(o), 1u);
  EXPECT_EQ(b.cfg().placement, RCA_PLACEMENT_THREAD);
  b.free(o);
}

TEST(CppApi, BadConfigurationThrowsWithTheMessage) {
  try {
    rca::config().set("placement", "upside-down");
    FAIL() << "no exception";
  } catch (const std::invalid_argument &e) {
    EXPECT_STREQ(
        e.what(),
        "unknown placement 'upside-down' (expected inline|embedded|shared|thread|padded|computed)");
  }
  EXPECT_THROW(
      rca::heap(rca::config().placement(RCA_PLACEMENT_EMBEDDED).handle_kind(RCA_HANDLE_KIND_INDEX)),
      std::system_error);
}

TEST(CppApi, CompileTimeHotPathOverHeapSlots) {
  rca::heap h(rca::config().placement(RCA_PLACEMENT_SHARED).handle_kind(RCA_HANDLE_KIND_INDEX));
  using C = rca::rc::plain<std::uint32_t>;
  using H = rca::rc::index_handle<std::uint32_t>;
  void *o = h.alloc(16);
  auto *base = static_cast<std::uint32_t *>(h.slot_base());
  std::uint32_t *slot = H::slot(*static_cast<std::uint32_t *>(o), base);
  EXPECT_EQ(slot, h.slot_of(o));
  C::incref(slot);
  EXPECT_EQ(h.count(o), 2u);
  EXPECT_FALSE(C::decref(slot));
  EXPECT_TRUE(C::decref(slot));
  h.free(o);
}

}  // namespace
