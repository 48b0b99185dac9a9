// Side bitmaps (rca_side_bits): collector flags out of the objects, one bit per slot position.
//
// One mapping holds every plane, reserved for the whole arena at once (address space only: a
// page of a plane is backed when first written), so that a position is plain arithmetic on the
// slot's address and the planes never move. Plane p of a heap whose arena reserves R bytes with
// slots S bytes apart holds R / S bits.
#include "internal.h"
#include "placement/placement.h"
#include "prim/prim.h"

#include <cerrno>

using namespace rca::detail;

namespace rca::detail {

side_bitmaps::~side_bitmaps() {
  if (base) rca::prim::release(base, bytes);
}

}  // namespace rca::detail

namespace {

std::size_t plane_positions(const rca_heap_t *heap) noexcept {
  return heap->arena.reserved >> heap->slot_shift;
}

// Words of a plane that can hold a set bit: positions of the pages handed out so far.
std::size_t words_in_use(rca_heap_t *heap) noexcept {
  std::size_t pages;
  {
    std::lock_guard<std::mutex> g(heap->arena.lock);
    pages = heap->arena.next_fresh;
  }
  return ((pages * kPageSize) >> heap->slot_shift) / 64 + 1;
}

void describe_planes(const rca_heap_t *heap, rca_side_bits_t *out) noexcept {
  const side_bitmaps &s = heap->side_bits;
  for (unsigned p = 0; p < RCA_SIDE_PLANES_MAX; ++p)
    out->plane[p] =
        p < s.planes
            ? reinterpret_cast<std::uint64_t *>(static_cast<char *>(s.base) + p * s.plane_bytes)
            : nullptr;
  out->slot_base = reinterpret_cast<std::uintptr_t>(heap->arena.base);
  out->shift = heap->slot_shift;
  out->positions = plane_positions(heap);
}

}  // namespace

extern "C" {

RCA_API int rca_side_bits(rca_heap_t *heap, unsigned planes, rca_side_bits_t *out) {
  if (!heap->placement->has_refcount_pages) {
    set_error(ENOTSUP, "rca_side_bits: an %s heap has no slots to give positions",
              rca_placement_name(heap->config.placement));
    return -1;
  }
  side_bitmaps &s = heap->side_bits;
  if (planes < 1 || planes > RCA_SIDE_PLANES_MAX || (s.planes && planes != s.planes)) {
    set_error(EINVAL, "rca_side_bits: %u planes asked (1..%d%s)", planes, RCA_SIDE_PLANES_MAX,
              s.planes ? ", and as many as the first call" : "");
    return -1;
  }
  if (!s.planes) {
    const std::size_t plane_bytes =
        ((plane_positions(heap) + 7) / 8 + kPageSize - 1) / kPageSize * kPageSize;
    void *p = nullptr;
    int e = rca::prim::reserve(plane_bytes * planes, &p);
    if (e == 0) e = rca::prim::commit(p, plane_bytes * planes);
    if (e) {
      if (p) rca::prim::release(p, plane_bytes * planes);
      set_error(e, "rca_side_bits: cannot map %zu bytes", plane_bytes * planes);
      return -1;
    }
    s.base = p;
    s.bytes = plane_bytes * planes;
    s.plane_bytes = plane_bytes;
    s.planes = planes;
  }
  describe_planes(heap, out);
  return 0;
}

RCA_API size_t rca_side_position(const rca_heap_t *heap, rca_handle_t handle) {
  const char *slot = static_cast<const char *>(rca_slot_ptr(heap, handle));
  return static_cast<std::size_t>(slot - heap->arena.base) >> heap->slot_shift;
}

RCA_API void rca_side_clear(rca_heap_t *heap, unsigned plane) {
  side_bitmaps &s = heap->side_bits;
  if (plane >= s.planes) return;
  auto *w = reinterpret_cast<std::uint64_t *>(static_cast<char *>(s.base) + plane * s.plane_bytes);
  const std::size_t n = words_in_use(heap);
  for (std::size_t i = 0; i < n && i < s.plane_bytes / 8; ++i)
    if (w[i]) w[i] = 0;
}

RCA_API size_t rca_side_count(const rca_heap_t *heap, unsigned plane) {
  const side_bitmaps &s = heap->side_bits;
  if (plane >= s.planes) return 0;
  const auto *w =
      reinterpret_cast<const std::uint64_t *>(static_cast<char *>(s.base) + plane * s.plane_bytes);
  const std::size_t n = words_in_use(const_cast<rca_heap_t *>(heap));
  std::size_t set = 0;
  for (std::size_t i = 0; i < n && i < s.plane_bytes / 8; ++i)
    set += static_cast<std::size_t>(__builtin_popcountll(w[i]));
  return set;
}

RCA_API void rca_side_range(const rca_heap_t *heap, void **lo, void **hi) {
  const side_bitmaps &s = heap->side_bits;
  *lo = s.base;
  *hi = s.base ? static_cast<char *>(s.base) + s.bytes : nullptr;
}

}  // extern "C"
