// C2 — "Freezing has little impact on a modern CPU with branch prediction."
//
// The same incref/decref pass as C1 with three compilations of the count: no check (the plain
// integer, the control), the frozen check with __builtin_expect, and the check without the hint;
// with 0 %, 50 % (random) and 100 % of the objects frozen. At 50 % random the branch is
// unpredictable by construction: that is the case the claim's reasoning does not cover.
#include "../harness/measure.hpp"
#include "../harness/progress.hpp"
#include "experiment.hpp"
#include "objects.hpp"

#include <cstdio>
#include <map>
#include <random>

namespace rca::lab {
namespace {

struct check_variant {
  const char *name;
  bool check, expect;
};
constexpr check_variant kVariants[] = {
    {"no_check", false, false}, {"check_expect", true, true}, {"check_noexpect", true, false}};

}  // namespace

int run_freeze(context &ctx) {
  const options &opt = ctx.opt;
  std::vector<std::size_t> sizes = opt.working_sets;
  // 32 KiB: the pattern of frozen objects repeats every pass and a modern predictor can learn
  // it; 1 MiB (16 Ki objects, 32 Ki branches per pass) is beyond what it can remember.
  if (sizes.empty())
    sizes = opt.quick ? std::vector<std::size_t>{32u << 10, 1u << 20}
                      : std::vector<std::size_t>{32u << 10, 1u << 20, 64u << 20};
  std::vector<std::string> sems =
      opt.semantics.empty() ? std::vector<std::string>{"plain"} : opt.semantics;
  for (const auto &s : sems)
    if (s == "biased")
      throw std::invalid_argument("freeze: semantics 'biased' applies to threads only");
  const auto layouts = select_layouts(
      opt, {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_SHARED, RCA_PLACEMENT_COMPUTED}, {32});
  const std::vector<int> fractions = {0, 50, 100};

  progress bar("freeze", sizes.size() * layouts.size() * fractions.size());
  for (std::size_t ws : sizes) {
    const std::size_t n = std::max<std::size_t>(2, ws / opt.object_bytes);
    // ~20-60 ms per repetition: long enough that a scheduler tick or another job's burst is a
    // small part of it.
    const std::size_t passes =
        n >= (1u << 20) ? 1 : std::max<std::size_t>(1, ops_target(opt, 16u << 20, 32u << 20) / n);
    for (const layout &l : layouts) {
      if (l.placement != RCA_PLACEMENT_INLINE && l.handle_kind == RCA_HANDLE_KIND_INDEX &&
          opt.handle_kinds.empty())
        continue;
      population pop(l, n, opt.object_bytes);
      std::vector<void *> order = pop.objs;  // allocation order: the check is the only variable
      for (int frac : fractions) {
        // Freeze a random subset through the hot path's own freeze (the frozen value).
        std::mt19937_64 rng(opt.seed + static_cast<unsigned>(frac));
        std::size_t frozen = 0;
        with_layout(l, [&]<class Slot, class Handle>() {
          for (void *o : pop.objs) {
            Slot *s = slot_of<Slot, Handle>(o, static_cast<Slot *>(pop.base));
            bool f =
                frac == 100 || (frac > 0 && std::uniform_int_distribution<int>(0, 99)(rng) < frac);
            if (f) plain_rc<Slot>::freeze(s), ++frozen;
            else plain_rc<Slot>::init(s);
          }
          return 0;
        });
        for (const auto &sem : sems) {
          // The three compilations are compared with each other: interleave their repetitions.
          std::vector<std::function<double()>> bodies;
          for (const auto &cv : kVariants) {
            bodies.push_back(
                with_layout(l, [&, cv]<class Slot, class Handle>() -> std::function<double()> {
                  return [&, cv, base = static_cast<Slot *>(pop.base)] {
                    const bool at = sem == "atomic";
                    std::uint64_t z = 0;
                    double t0 = now_ns();
                    for (std::size_t p = 0; p < passes; ++p) {
                      if (!cv.check)
                        z += at ? pass<Slot, Handle,
                                       rca::rc::counter<Slot, true, false, false, false>>(
                                      order.data(), n, base)
                                : pass<Slot, Handle,
                                       rca::rc::counter<Slot, false, false, false, false>>(
                                      order.data(), n, base);
                      else if (cv.expect)
                        z += at ? pass<Slot, Handle,
                                       rca::rc::counter<Slot, true, true, true, false>>(
                                      order.data(), n, base)
                                : pass<Slot, Handle,
                                       rca::rc::counter<Slot, false, true, true, false>>(
                                      order.data(), n, base);
                      else
                        z += at ? pass<Slot, Handle,
                                       rca::rc::counter<Slot, true, true, false, false>>(
                                      order.data(), n, base)
                                : pass<Slot, Handle,
                                       rca::rc::counter<Slot, false, true, false, false>>(
                                      order.data(), n, base);
                    }
                    double t1 = now_ns();
                    asm volatile("" ::"r"(z));
                    return (t1 - t0) / (2.0 * static_cast<double>(n) * static_cast<double>(passes));
                  };
                }));
          }
          auto series = repeat_interleaved(ctx.counters, opt.warmup, opt.reps, bodies);
          for (std::size_t vi = 0; vi < std::size(kVariants); ++vi) {
            const auto &cv = kVariants[vi];
            row r = ctx.base("freeze", "C2");
            r.set("variant", cv.name)
                .set("placement", rca_placement_name(l.placement))
                .set("handle", l.handle_kind_name());
            r.set("slot_bits", l.slot_bits)
                .set("semantics", sem)
                .set("backend", l.placement == RCA_PLACEMENT_COMPUTED ? "rca" : "system")
                .set("objects", n);
            r.set("object_bytes", opt.object_bytes)
                .set("working_set_bytes", n * opt.object_bytes)
                .set("threads", 1)
                .set("method", "wall_clock");
            r.param("frozen_pct", static_cast<double>(frac))
                .param("frozen_objects", static_cast<double>(frozen));
            r.param("freeze_check", cv.check ? "on" : "off")
                .param("expect", cv.expect ? "on" : "off");
            r.param("passes", static_cast<double>(passes))
                .param("seed", static_cast<double>(opt.seed))
                .param("reps", "interleaved");
            emit_series(ctx.out, "freeze", r, "ns_per_op", "ns", series[vi]);
            auto cpu =
                cpu_per_op(series[vi], 2.0 * static_cast<double>(n) * static_cast<double>(passes));
            if (!cpu.empty()) {
              row c = r;
              c.set("method", "task_clock");
              emit_series(ctx.out, "freeze", c, "cpu_ns_per_op", "ns", cpu);
            }
          }
        }
        bar.step(l.name());
      }
    }
  }

  // Verdicts: experiments/plots/verdicts.py reads these rows (rule table there).
  return 0;
}

}  // namespace rca::lab
