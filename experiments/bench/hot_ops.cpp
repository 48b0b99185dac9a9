// Google Benchmark microbenchmarks of the hot path: one incref + one decref per step, for every
// placement x handle x semantics, on 1024 objects (L1/L2-resident: the operation, not memory).
// JSON: rca_bench_hot_ops --benchmark_format=json (or --benchmark_out=F
// --benchmark_out_format=json). Note: Debian's libbenchmark reports library_build_type "debug" and
// has no libpfm; its timing loop is still fine for relative numbers, and rcalab records both facts
// in every row.
#include <benchmark/benchmark.h>

#include "rcalab/objects.hpp"

#include <string>

namespace rca::lab {
namespace {

template <class Slot, class Handle, class Counter>
void step_all(void *const *objs, std::size_t n, Slot *base) {
  Slot *prev = slot_of<Slot, Handle>(objs[0], base);
  Counter::incref(prev);
  for (std::size_t i = 1; i < n; ++i) {
    Slot *s = slot_of<Slot, Handle>(objs[i], base);
    Counter::incref(s);
    benchmark::DoNotOptimize(Counter::decref(prev));
    prev = s;
  }
  benchmark::DoNotOptimize(Counter::decref(prev));
}

void register_all() {
  // Empty: lets rcalab read the library's JSON context cheaply (--benchmark_filter=^probe$).
  benchmark::RegisterBenchmark("probe", [](benchmark::State &st) {
    for (auto _ : st) {
    }
  });
  options opt;
  for (const layout &l : select_layouts(opt, all_placements(), {32, 64})) {
    for (const char *sem : {"plain", "atomic", "plain_nocheck"}) {
      std::string name = "hot_ops/" + l.name() + "/slot" + std::to_string(l.slot_bits) + "/" + sem;
      benchmark::RegisterBenchmark(name.c_str(), [l, sem = std::string(sem)](benchmark::State &st) {
        const std::size_t n = 1024;
        population pop(l, n, 64);
        with_layout(l, [&]<class Slot, class Handle>() {
          auto *base = static_cast<Slot *>(pop.base);
          for (auto _ : st) {
            if (sem == "atomic") step_all<Slot, Handle, atomic_rc<Slot>>(pop.objs.data(), n, base);
            else if (sem == "plain")
              step_all<Slot, Handle, plain_rc<Slot>>(pop.objs.data(), n, base);
            else
              step_all<Slot, Handle, rca::rc::counter<Slot, false, false, false, false>>(
                  pop.objs.data(), n, base);
            benchmark::ClobberMemory();
          }
          return 0;
        });
        st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * 2 *
                             static_cast<std::int64_t>(n));
        st.counters["ns_per_op"] =
            benchmark::Counter(static_cast<double>(st.iterations()) * 2.0 * n,
                               benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
      });
    }
  }
}

}  // namespace
}  // namespace rca::lab

int main(int argc, char **argv) {
  rca::lab::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
