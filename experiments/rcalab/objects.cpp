#include "objects.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace rca::lab {

std::string layout::name() const {
  std::string s = rca_placement_name(placement);
  if (placement == RCA_PLACEMENT_INLINE || placement == RCA_PLACEMENT_EMBEDDED) return s;
  if (placement == RCA_PLACEMENT_COMPUTED) return s + "/" + rca_address_name(address);
  return s + "/" + rca_handle_kind_name(handle_kind);
}

const char *layout::handle_kind_name() const {
  if (placement == RCA_PLACEMENT_COMPUTED) return rca_address_name(address);
  return placement == RCA_PLACEMENT_INLINE ? "none" : rca_handle_kind_name(handle_kind);
}

std::vector<rca_placement_t> all_placements() {
  return {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_EMBEDDED, RCA_PLACEMENT_SHARED,
          RCA_PLACEMENT_THREAD, RCA_PLACEMENT_PADDED,   RCA_PLACEMENT_COMPUTED};
}

std::vector<layout> select_layouts(const options &opt,
                                   const std::vector<rca_placement_t> &placements,
                                   const std::vector<unsigned> &slot_bits) {
  const auto &ps = opt.placements.empty() ? placements : opt.placements;
  const auto &bits = opt.slot_bits.empty() ? slot_bits : opt.slot_bits;
  std::vector<rca_handle_kind_t> hs = opt.handle_kinds;
  if (hs.empty()) hs = {RCA_HANDLE_KIND_POINTER, RCA_HANDLE_KIND_INDEX};
  std::vector<layout> out;
  for (unsigned b : bits) {
    for (auto p : ps) {
      if (p == RCA_PLACEMENT_INLINE || p == RCA_PLACEMENT_EMBEDDED) {
        // inline has no handle, embedded takes pointers only: one layout each.
        out.push_back({p, RCA_HANDLE_KIND_POINTER, b});
        continue;
      }
      if (p == RCA_PLACEMENT_COMPUTED) {
        // No handle: one layout per address function.
        for (auto a : {RCA_ADDRESS_SPAN, RCA_ADDRESS_GRANULE})
          out.push_back({p, RCA_HANDLE_KIND_POINTER, b, a});
        continue;
      }
      for (auto h : hs) out.push_back({p, h, b});
    }
  }
  return out;
}

std::string layout_flags(const std::vector<layout> &layouts) {
  std::string placements, handles, bits;
  auto add = [](std::string &list, const std::string &item) {
    if (("," + list + ",").find("," + item + ",") == std::string::npos)
      list += (list.empty() ? "" : ",") + item;
  };
  for (const layout &l : layouts) {
    add(placements, rca_placement_name(l.placement));
    if (l.placement != RCA_PLACEMENT_INLINE && l.placement != RCA_PLACEMENT_EMBEDDED)
      add(handles, l.handle_kind == RCA_HANDLE_KIND_INDEX ? "index" : "pointer");
    add(bits, std::to_string(l.slot_bits));
  }
  return "--placement " + placements + (handles.empty() ? "" : " --handle-kind " + handles) +
         " --slot-bits " + bits;
}

rca::config make_config(const layout &l, std::size_t n, rca_backend_t backend, bool track_objects) {
  rca::config c;
  c.placement(l.placement).handle_kind(l.handle_kind).slot_bits(l.slot_bits).backend(backend);
  c.checks(false).track_objects(track_objects);
  // Room for n slots even when padded (a 64-byte line each), plus slack for partial pages.
  std::size_t need = n * 64 + (n * 64) / 4 + (64u << 20);
  c.arena_limit(std::max(c.raw().arena_limit, need));
  c.raw().address = l.address;
  // Computed heaps: room for n objects of any size the experiments use (address space only).
  if (l.placement == RCA_PLACEMENT_COMPUTED) c.raw().object_limit = std::size_t(32) << 30;
  return c;
}

population::population(const layout &l, std::size_t n, std::size_t bytes, bool track)
    : lay(l), object_bytes(bytes), heap(make_config(l, n, RCA_BACKEND_SYSTEM, track)) {
  if (bytes < kPayloadOffset + 16) throw std::invalid_argument("object size below 32 bytes");
  if (heap.header_size() > kPayloadOffset)
    throw std::logic_error("rca header larger than kPayloadOffset");
  objs.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    void *o = heap.alloc(bytes);
    if (!o) throw std::runtime_error(std::string("rca_obj_alloc: ") + rca_last_error());
    std::memset(static_cast<char *>(o) + kPayloadOffset, 0, bytes - kPayloadOffset);
    objs.push_back(o);
  }
  base = count_base(heap, l);
}

void *count_base(const rca::heap &heap, const layout &l) {
  if (l.placement == RCA_PLACEMENT_COMPUTED && l.address == RCA_ADDRESS_GRANULE)
    return reinterpret_cast<void *>(rca_computed_bias(heap.get()));
  return heap.slot_base();
}

population::~population() {
  for (void *o : objs) heap.free(o);
}

page_set population::object_pages() const {
  page_set s;
  for (void *o : objs) s.add(o, object_bytes);
  s.finish();
  return s;
}

page_set population::refcount_pages() const {
  page_set s;
  auto [lo, hi] = heap.arena_range();
  if (lo && hi)
    s.add_range(reinterpret_cast<std::uintptr_t>(lo), reinterpret_cast<std::uintptr_t>(hi));
  s.finish();
  return s;
}

std::vector<std::size_t> shuffled(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

}  // namespace rca::lab
