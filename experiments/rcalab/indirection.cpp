// C1 — "Because of hierarchical memory, the extra pointer lookup should not matter much."
//
// incref/decref over working sets from L1-sized to DRAM-sized, in allocation order and in random
// order, for every placement and handle kind. Each step increfs the next object and decrefs the
// previous one, so every count goes +1 then -1 one step later (a VM's pattern when a reference
// moves along a list) and the compiler cannot fold the pair away.
#include "../harness/measure.hpp"
#include "../harness/progress.hpp"
#include "../harness/simulate.hpp"
#include "experiment.hpp"
#include "objects.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

namespace rca::lab {
namespace {

std::string sim_label(const layout &l, const char *order, const std::string &sem, std::size_t ws) {
  return l.name() + "|" + std::to_string(l.slot_bits) + "|" + order + "|" + sem + "|" +
         std::to_string(ws);
}

// The same passes under callgrind's cache simulation (harness/simulate.hpp), one nested run per
// working set up to kSimMaxBytes (above it the simulation takes minutes per layout): instructions,
// simulated D1 and LL misses and the cycle estimate per operation, as rows beside the times.
constexpr std::size_t kSimMaxBytes = 64u << 20;

void simulate(context &ctx, const std::vector<layout> &all, const std::vector<std::size_t> &sizes,
              const std::vector<std::string> &sems) {
  const options &opt = ctx.opt;
  // The layouts C1's rule compares (inline, shared pages) unless --placement names others: the
  // simulation runs ~50x slower than the machine, most of it building the larger heaps.
  std::vector<layout> layouts;
  for (const layout &l : all)
    if (!opt.placements.empty() || l.placement == RCA_PLACEMENT_INLINE ||
        l.placement == RCA_PLACEMENT_SHARED)
      layouts.push_back(l);
  std::string sem_list;
  for (const auto &s : sems) sem_list += (sem_list.empty() ? "" : ",") + s;
  for (std::size_t ws : sizes) {
    if (ws > kSimMaxBytes) continue;
    const std::size_t n = std::max<std::size_t>(2, ws / opt.object_bytes);
    // About 1 M simulated operations per series (at least one pass).
    const std::size_t passes = std::max<std::size_t>(1, (1u << 20) / (2 * n));
    std::string why;
    const std::string args =
        "indirection --callgrind off --reps 1 --warmup 1 --out - --working-set " +
        std::to_string(ws) + " --ops " + std::to_string(passes * n) + " " + layout_flags(layouts) +
        " --semantics " + sem_list + " --object-bytes " + std::to_string(opt.object_bytes) +
        " --seed " + std::to_string(opt.seed);
    ctx.note("indirection: simulating %zu KiB under callgrind", ws >> 10);
    const auto counts = simulate_self(args, why);
    if (counts.empty()) {
      ctx.note("indirection: no simulated counts: %s", why.c_str());
      return;
    }
    for (const layout &l : layouts) {
      for (const char *order : {"sequential", "random"}) {
        for (const auto &sem : sems) {
          auto it = counts.find(sim_label(l, order, sem, n * opt.object_bytes));
          if (it == counts.end()) continue;
          const double ops = 2.0 * static_cast<double>(n) * static_cast<double>(passes);
          row r = ctx.base("indirection", "C1");
          r.set("variant", order)
              .set("placement", rca_placement_name(l.placement))
              .set("handle", l.handle_kind_name());
          r.set("slot_bits", l.slot_bits)
              .set("semantics", sem)
              .set("backend", "system")
              .set("objects", n);
          r.set("object_bytes", opt.object_bytes)
              .set("working_set_bytes", n * opt.object_bytes)
              .set("threads", 1);
          r.param("passes", static_cast<double>(passes))
              .param("ops_per_pass", static_cast<double>(2 * n));
          r.param("seed", static_cast<double>(opt.seed));
          emit_sim(ctx.out, "indirection", r, it->second, ops);
        }
      }
    }
  }
}

}  // namespace

int run_indirection(context &ctx) {
  const options &opt = ctx.opt;
  std::vector<std::size_t> sizes = opt.working_sets;
  if (sizes.empty()) {
    if (opt.quick) sizes = {32u << 10, 4u << 20, 64u << 20};
    else
      for (std::size_t s = 16u << 10; s <= (1ull << 30); s *= 4) sizes.push_back(s);
  }
  std::vector<std::string> sems =
      opt.semantics.empty() ? std::vector<std::string>{"plain"} : opt.semantics;
  for (const auto &s : sems)
    if (s == "biased")
      throw std::invalid_argument("indirection: semantics 'biased' applies to threads only");
  const auto layouts = select_layouts(opt, all_placements());
  const std::size_t object_bytes = opt.object_bytes;

  // Compared series are interleaved at every size: repetition i of every layout/order/semantics
  // runs before repetition i+1 of any. That needs the heaps of a group at once: every layout when
  // they fit in kInterleaveBytes of objects, else pairs of the first layout (inline, the
  // baseline) with each other one; the baseline is then measured again in every pair, and its
  // rows name the pair, so each comparison uses the baseline series run beside it.
  constexpr std::size_t kInterleaveBytes = 2ull << 30;
  progress bar("indirection", sizes.size() * layouts.size());
  for (std::size_t ws : sizes) {
    const std::size_t n = std::max<std::size_t>(2, ws / object_bytes);
    // Enough passes that one repetition runs for tens of milliseconds even at 16 KiB; one pass
    // from 1 Mi objects up (already 2 Mi operations).
    const std::size_t passes =
        n >= (1u << 20) ? 1 : std::max<std::size_t>(1, ops_target(opt, 8u << 20, 32u << 20) / n);
    std::vector<std::vector<std::size_t>> groups;
    const bool all_fit =
        n * object_bytes * layouts.size() <= kInterleaveBytes || layouts.size() == 1;
    if (all_fit) {
      groups.emplace_back();
      for (std::size_t li = 0; li < layouts.size(); ++li) groups.back().push_back(li);
    } else {
      for (std::size_t li = 1; li < layouts.size(); ++li) groups.push_back({0, li});
    }
    for (const auto &group : groups) {
      struct series_key {
        const layout *l;
        const char *order;
        std::string sem;
      };
      std::vector<std::unique_ptr<population>> pops;
      std::vector<std::vector<void *>> seqs, rnds;
      std::vector<series_key> keys;
      std::vector<std::function<double()>> bodies;
      for (std::size_t li : group) {
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
        const layout &l = layouts[group[k]];
        for (const char *order : {"sequential", "random"}) {
          const std::vector<void *> &v = order[0] == 's' ? seqs[k] : rnds[k];
          for (const auto &sem : sems) {
            keys.push_back({&l, order, sem});
            const bool at = sem == "atomic";
            std::string label = sim_label(l, order, sem, n * object_bytes);
            bodies.push_back(with_layout(
                l,
                [&, at, label,
                 base0 = pops[k]->base]<class Slot, class Handle>() -> std::function<double()> {
                  return [&v, at, n, passes, label, base = static_cast<Slot *>(base0)] {
                    std::uint64_t sink = 0;
                    sim_region region(
                        label);  // counts this region when rcalab runs under callgrind
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
        r.set("variant", keys[i].order)
            .set("placement", rca_placement_name(l.placement))
            .set("handle", l.handle_kind_name());
        r.set("slot_bits", l.slot_bits)
            .set("semantics", keys[i].sem)
            .set("backend", l.placement == RCA_PLACEMENT_COMPUTED ? "rca" : "system");
        r.set("objects", n)
            .set("object_bytes", object_bytes)
            .set("working_set_bytes", n * object_bytes)
            .set("threads", 1);
        r.set("method", "wall_clock");
        r.param("passes", static_cast<double>(passes))
            .param("ops_per_pass", static_cast<double>(2 * n))
            .param("seed", static_cast<double>(opt.seed));
        r.param("reps", all_fit ? "interleaved_across_layouts" : "interleaved_in_pairs");
        if (!all_fit) r.param("pair", layouts[group.back()].name());
        emit_series(ctx.out, "indirection", r, "ns_per_op", "ns", series[i]);
        auto cpu =
            cpu_per_op(series[i], 2.0 * static_cast<double>(n) * static_cast<double>(passes));
        if (!cpu.empty()) {
          row c = r;
          c.set("method", "task_clock");
          emit_series(ctx.out, "indirection", c, "cpu_ns_per_op", "ns", cpu);
        }
      }
      for (std::size_t k = all_fit || &group == &groups.front() ? 0 : 1; k < pops.size(); ++k)
        bar.step(layouts[group[k]].name());
    }
  }

  const bool nested = std::getenv("RCALAB_NESTED") != nullptr;
  const bool no_hw = !ctx.counters.available(event::instructions);
  if (!nested && (opt.callgrind == "on" || (opt.callgrind == "auto" && no_hw)))
    simulate(ctx, layouts, sizes, sems);
  // Verdicts: experiments/plots/verdicts.py reads these rows (rule table there).
  return 0;
}

}  // namespace rca::lab
