// C1 — "Because of hierarchical memory, the extra pointer lookup should not matter much."
//
// incref/decref over working sets from L1-sized to DRAM-sized, in allocation order and in random
// order, for every placement and handle kind. Each step increfs the next object and decrefs the
// previous one, so every count goes +1 then -1 one step later (a VM's pattern when a reference
// moves along a list) and the compiler cannot fold the pair away.
#include "../harness/measure.hpp"
#include "../harness/progress.hpp"
#include "experiment.hpp"
#include "objects.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

namespace rca::lab {
namespace {

struct key {
  std::string layout, order, sem;
  std::size_t ws;
  bool operator<(const key &o) const { return std::tie(layout, order, sem, ws) < std::tie(o.layout, o.order, o.sem, o.ws); }
};

}  // namespace

int run_indirection(context &ctx) {
  const options &opt = ctx.opt;
  std::vector<std::size_t> sizes = opt.working_sets;
  if (sizes.empty()) {
    if (opt.quick) sizes = {32u << 10, 4u << 20, 64u << 20};
    else for (std::size_t s = 16u << 10; s <= (1ull << 30); s *= 4) sizes.push_back(s);
  }
  std::vector<std::string> sems = opt.semantics.empty() ? std::vector<std::string>{"plain"} : opt.semantics;
  for (const auto &s : sems)
    if (s == "biased") throw std::invalid_argument("indirection: semantics 'biased' applies to threads only");
  const auto layouts = select_layouts(opt, all_placements());
  const std::size_t object_bytes = opt.object_bytes;
  std::map<key, summary> results, cpu_results;

  // Series that the claim table compares (layouts at one working set) are interleaved: repetition
  // i of every layout/order/semantics runs before repetition i+1 of any. That needs every layout's
  // heap at once; above kInterleaveBytes of objects they are measured one layout at a time.
  constexpr std::size_t kInterleaveBytes = 2ull << 30;
  progress bar("indirection", sizes.size() * layouts.size());
  for (std::size_t ws : sizes) {
    const std::size_t n = std::max<std::size_t>(2, ws / object_bytes);
    // Enough passes that one repetition runs for tens of milliseconds even at 16 KiB; one pass
    // from 1 Mi objects up (already 2 Mi operations).
    const std::size_t passes = n >= (1u << 20) ? 1 : std::max<std::size_t>(1, ops_target(opt, 8u << 20, 32u << 20) / n);
    const std::size_t group = n * object_bytes * layouts.size() <= kInterleaveBytes ? layouts.size() : 1;
    for (std::size_t g0 = 0; g0 < layouts.size(); g0 += group) {
      struct series_key {
        const layout *l;
        const char *order;
        std::string sem;
      };
      std::vector<std::unique_ptr<population>> pops;
      std::vector<std::vector<void *>> seqs, rnds;
      std::vector<series_key> keys;
      std::vector<std::function<double()>> bodies;
      for (std::size_t li = g0; li < std::min(layouts.size(), g0 + group); ++li) {
        const layout &l = layouts[li];
        pops.push_back(std::make_unique<population>(l, n, object_bytes));
        population &pop = *pops.back();
        seqs.push_back(pop.objs);
        std::vector<void *> rnd(n);
        auto perm = shuffled(n, opt.seed);
        for (std::size_t i = 0; i < n; ++i) rnd[i] = pop.objs[perm[i]];
        rnds.push_back(std::move(rnd));
      }
      for (std::size_t k = 0; k < pops.size(); ++k) {
        const layout &l = layouts[g0 + k];
        for (const char *order : {"sequential", "random"}) {
          const std::vector<void *> &v = order[0] == 's' ? seqs[k] : rnds[k];
          for (const auto &sem : sems) {
            keys.push_back({&l, order, sem});
            const bool at = sem == "atomic";
            bodies.push_back(with_layout(l, [&, at, base0 = pops[k]->base]<class Slot, class Handle>() -> std::function<double()> {
              return [&v, at, n, passes, base = static_cast<Slot *>(base0)] {
                std::uint64_t sink = 0;
                double t0 = now_ns();
                for (std::size_t p = 0; p < passes; ++p) {
                  if (at) sink += pass<Slot, Handle, atomic_rc<Slot>>(v.data(), n, base);
                  else sink += pass<Slot, Handle, plain_rc<Slot>>(v.data(), n, base);
                }
                double t1 = now_ns();
                asm volatile("" ::"r"(sink));
                return (t1 - t0) / (2.0 * static_cast<double>(n) * static_cast<double>(passes));
              };
            }));
          }
        }
      }
      auto series = repeat_interleaved(ctx.counters, opt.warmup, opt.reps, bodies);
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const layout &l = *keys[i].l;
        row r = ctx.base("indirection", "C1");
        r.set("variant", keys[i].order).set("placement", rca_placement_name(l.placement)).set("handle", l.handle_name());
        r.set("slot_bits", l.slot_bits).set("semantics", keys[i].sem).set("backend", "system");
        r.set("objects", n).set("object_bytes", object_bytes).set("working_set_bytes", n * object_bytes).set("threads", 1);
        r.set("method", "wall_clock");
        r.param("passes", static_cast<double>(passes)).param("ops_per_pass", static_cast<double>(2 * n)).param("seed", static_cast<double>(opt.seed));
        r.param("reps", group > 1 ? "interleaved_across_layouts" : "interleaved_within_layout");
        results[{l.name(), keys[i].order, keys[i].sem, ws}] = emit_series(ctx.out, "indirection", r, "ns_per_op", "ns", series[i]);
        auto cpu = cpu_per_op(series[i], 2.0 * static_cast<double>(n) * static_cast<double>(passes));
        if (!cpu.empty()) {
          row c = r;
          c.set("method", "task_clock");
          cpu_results[{l.name(), keys[i].order, keys[i].sem, ws}] = emit_series(ctx.out, "indirection", c, "cpu_ns_per_op", "ns", cpu);
        }
      }
      for (std::size_t k = 0; k < pops.size(); ++k) bar.step(layouts[g0 + k].name());
    }
  }

  // The claim table: the pointer hop (shared/ptr) against inline at the smallest and largest
  // working set, random order, first semantics.
  // CPU time per op (task-clock) when available: robust to other jobs holding the CPU.
  const std::string sem = sems.front();
  const bool use_cpu = cpu_results.size() == results.size();
  const auto &res = use_cpu ? cpu_results : results;
  const char *what = use_cpu ? "cpu ns/op" : "ns/op";
  for (std::size_t ws : {sizes.front(), sizes.back()}) {
    auto a = res.find({"shared/ptr", "random", sem, ws}), b = res.find({"inline", "random", sem, ws});
    if (a == res.end() || b == res.end()) continue;
    double ratio = a->second.median / b->second.median;
    char fig[160], cmp[160];
    std::snprintf(fig, sizeof fig, "%.2f vs %.2f %s (%s)", a->second.median, b->second.median, what, ratio_text(a->second.median, b->second.median).c_str());
    std::snprintf(cmp, sizeof cmp, "shared/ptr vs inline, random, %zu KiB, %s", ws >> 10, sem.c_str());
    std::string dir = !beyond_noise(a->second, b->second) ? "inconclusive (ranges overlap)"
                      : ratio <= 1.2 ? "supports (<= 1.2x)"
                                     : "contradicts (> 1.2x)";
    ctx.findings.push_back({"C1", fig, cmp, dir});
    ctx.note("C1 %s: %s -> %s", cmp, fig, dir.c_str());
    if (sizes.size() == 1) break;
  }
  return 0;
}

}  // namespace rca::lab
