// C4 kernels, compiled three times (experiments/CMakeLists.txt): with strict aliasing (the
// default), with -fno-strict-aliasing, and with `restrict` on the object and slot pointers.
// RCA_LAB_ALIAS_BUILD names the build in the function names; the generated assembly of each build
// is saved beside the results.
//
// Each kernel walks n objects; per object it reads payload fields, increfs, reads them again,
// decrefs, reads once more. Whether the second and third reads can reuse the first depends on
// what the compiler knows about the count's address: inline, the count is at offset 0 of the same
// object (provably apart from the fields); through a handle, it is "some uint32_t somewhere",
// which may alias a uint32_t field (always) or a double field (only without strict aliasing).
// Computed (rca/computed.h): the count's address is a function of the object's address, by the
// span function (a load from the span's header, found by masking) or the granule function
// (arithmetic on the address and the heap's bias); to the compiler it is again "some uint32_t
// somewhere", derived from the object pointer but not provably apart from its fields.
#include <rca/computed.h>
#include <rca/refcount.hpp>

#include <cstddef>
#include <cstdint>

#ifndef RCA_LAB_ALIAS_BUILD
#error "RCA_LAB_ALIAS_BUILD must name the build (strict, nostrict, restrict)"
#endif
#ifndef RCA_LAB_RESTRICT
#define RCA_LAB_RESTRICT
#endif

#define RCA_LAB_CAT2(a, b, c, d) rca_lab_alias_##a##_##b##_##c
#define RCA_LAB_CAT(a, b, c) RCA_LAB_CAT2(a, b, c, _)
#define RCA_LAB_KERNEL(layout, field) RCA_LAB_CAT(RCA_LAB_ALIAS_BUILD, layout, field)

namespace {

using rc = rca::rc::counter<std::uint32_t, false, true, true, false>;
constexpr std::size_t kPayload = 16;  // experiments/rcalab/objects.hpp kPayloadOffset

struct fields_u32 {
  std::uint32_t a, b;
};
struct fields_f64 {
  double a, b;
};

template <class F>
[[gnu::always_inline]] inline double visit(char *RCA_LAB_RESTRICT obj,
                                           std::uint32_t *RCA_LAB_RESTRICT slot) {
  const F *f = reinterpret_cast<const F *>(obj + kPayload);
  double v = static_cast<double>(f->a);
  rc::incref(slot);
  // Between a VM's incref and decref the reference is stored somewhere and the count may be read;
  // without this the compiler folds +1 -1 on a count it can prove apart from the fields (inline)
  // and writes no count at all. The barrier touches the count only: the fields stay cacheable
  // unless the compiler cannot tell the count from them, which is the question C4 asks.
  asm volatile("" : "+m"(*slot));
  v += static_cast<double>(f->a) * static_cast<double>(f->b);
  if (rc::decref(slot)) v += 1;  // never: counts start at 1
  v += static_cast<double>(f->a);
  return v;
}

enum class count_at { inline_header, handle, span, granule };

// `bias`: the granule function's constant (rca_computed_bias); the other layouts ignore it.
template <class F, count_at At>
[[gnu::always_inline]] inline double walk(void *const *objs, std::size_t n, std::uintptr_t bias) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char *o = static_cast<char *>(objs[i]);
    std::uint32_t *s;
    if constexpr (At == count_at::inline_header) s = reinterpret_cast<std::uint32_t *>(o);
    else if constexpr (At == count_at::handle) s = *reinterpret_cast<std::uint32_t **>(o);
    else if constexpr (At == count_at::span)
      s = static_cast<std::uint32_t *>(rca_computed_span_count(o, 4));
    else s = static_cast<std::uint32_t *>(rca_computed_granule_count(bias, o, 4));
    sum += visit<F>(o, s);
  }
  return sum;
}

}  // namespace

#define RCA_LAB_DEFINE(layout, field, F, At)                                                       \
  [[gnu::noinline]] double RCA_LAB_KERNEL(layout, field)(void *const *objs, std::size_t n,         \
                                                         std::uintptr_t bias) {                    \
    return walk<F, At>(objs, n, bias);                                                             \
  }

extern "C" {
RCA_LAB_DEFINE(inline, u32, fields_u32, count_at::inline_header)
RCA_LAB_DEFINE(inline, f64, fields_f64, count_at::inline_header)
RCA_LAB_DEFINE(handle, u32, fields_u32, count_at::handle)
RCA_LAB_DEFINE(handle, f64, fields_f64, count_at::handle)
RCA_LAB_DEFINE(span, u32, fields_u32, count_at::span)
RCA_LAB_DEFINE(span, f64, fields_f64, count_at::span)
RCA_LAB_DEFINE(granule, u32, fields_u32, count_at::granule)
RCA_LAB_DEFINE(granule, f64, fields_f64, count_at::granule)
}
