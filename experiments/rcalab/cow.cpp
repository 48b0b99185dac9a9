// C5 — a count write in a forked child "will just dirty the page"; what users want is to save
// physical memory.
//
// Build a heap of N objects, optionally freeze it, fork K children that only read it (incref,
// read a payload field, decref each object), and count per child the pages that became private
// (pagemap bit 56, harness/pages.hpp): object pages, refcount pages, other. Dense traversal and
// sparse (every stride-th object). A no-op child is the control for what fork itself costs.
#include "../harness/measure.hpp"
#include "../harness/memory.hpp"
#include "../harness/pages.hpp"
#include "../harness/progress.hpp"
#include "experiment.hpp"
#include "objects.hpp"

#include <cstdio>
#include <map>
#include <string>

namespace rca::lab {
namespace {

template <class Slot, class Handle>
[[gnu::noinline]] std::uint64_t read_only_walk(void *const *objs, std::size_t n, std::size_t stride,
                                               Slot *base) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < n; i += stride) {
    void *o = objs[i];
    Slot *s = slot_of<Slot, Handle>(o, base);
    plain_rc<Slot>::incref(s);
    sum +=
        *reinterpret_cast<const volatile std::uint64_t *>(static_cast<char *>(o) + kPayloadOffset);
    sum += plain_rc<Slot>::decref(s);
  }
  return sum;
}

}  // namespace

int run_cow(context &ctx) {
  const options &opt = ctx.opt;
  // Quick: 500 k objects (the percentages do not depend on the count; COW faults are slow in
  // these VMs); full: 1 M, the size of the reference measurements (docs/DESIGN.md section 1).
  const std::size_t n = opt.objects.empty() ? (opt.quick ? 500000 : 1000000) : opt.objects.front();
  // Page counts barely vary between children; each dirtying child costs ~0.1-1 s of COW faults
  // here.
  const int children = opt.children ? opt.children : (opt.quick ? 2 : 5);
  const std::size_t stride = opt.stride ? opt.stride : 512;
  options lopt = opt;
  if (lopt.handle_kinds.empty()) lopt.handle_kinds = {RCA_HANDLE_KIND_POINTER};
  const auto layouts = select_layouts(lopt, all_placements(), {32, 64});
  struct traversal {
    const char *name;
    std::size_t stride;
  };
  const std::vector<traversal> walks = {{"noop", 0}, {"dense", 1}, {"sparse", stride}};

  progress bar("cow", layouts.size() * 2);
  for (const layout &l : layouts) {
    for (bool frozen : {false, true}) {
      population pop(l, n, opt.object_bytes, /*track_objects=*/frozen);
      long frozen_count = 0;
      double freeze_ns = 0;
      if (frozen) {
        const double t0 = now_ns();
        frozen_count = pop.heap.freeze();
        freeze_ns = now_ns() - t0;
        if (frozen_count < 0)
          throw std::runtime_error(std::string("rca_heap_freeze: ") + rca_last_error());
      }
      if (frozen) {
        // The freeze sweep's cost: time per million objects (one sweep per heap; wall clock).
        row r = ctx.base("cow", "C5");
        r.set("variant", "freeze_sweep")
            .set("placement", rca_placement_name(l.placement))
            .set("handle", l.handle_kind_name());
        r.set("slot_bits", l.slot_bits)
            .set("semantics", "plain")
            .set("backend", "system")
            .set("objects", n);
        r.set("object_bytes", opt.object_bytes)
            .set("working_set_bytes", n * opt.object_bytes)
            .set("threads", 1);
        r.set("method", "wall_clock")
            .param("frozen", "yes")
            .param("frozen_counts", static_cast<double>(frozen_count));
        emit_series(ctx.out, "cow", r, "freeze_ms_per_million_objects", "ms",
                    {sample{freeze_ns / 1e6 / (static_cast<double>(n) / 1e6), {}}});
      }
      const page_set obj_pages = pop.object_pages(), rc_pages = pop.refcount_pages();
      for (const auto &w : walks) {
        if (frozen && w.stride == 0) continue;  // the control does not depend on freezing
        std::map<std::string, std::vector<sample>> series;
        std::uint64_t heap_obj = 0, heap_rc = 0, before = 0, skipped = 0;
        for (int c = 0; c < children; ++c) {
          page_report rep = account_writes(obj_pages, rc_pages, [&] {
            if (w.stride == 0) return;
            with_layout(l, [&]<class Slot, class Handle>() {
              std::uint64_t s = read_only_walk<Slot, Handle>(pop.objs.data(), n, w.stride,
                                                             static_cast<Slot *>(pop.base));
              asm volatile("" ::"r"(s));
              return 0;
            });
          });
          heap_obj = rep.object_pages;
          heap_rc = rep.refcount_pages;
          before += rep.exclusive_before;
          skipped += rep.skipped_mappings;
          const double heap_pages = static_cast<double>(heap_obj + heap_rc);
          auto add = [&](const char *m, double v) { series[m].push_back(sample{v, {}}); };
          add("private_pages", static_cast<double>(rep.object_private + rep.refcount_private));
          add("object_pages_private", static_cast<double>(rep.object_private));
          add("refcount_pages_private", static_cast<double>(rep.refcount_private));
          add("other_pages_private", static_cast<double>(rep.other_private));
          add("private_pct_of_heap",
              heap_pages > 0
                  ? 100.0 * static_cast<double>(rep.object_private + rep.refcount_private) /
                        heap_pages
                  : 0.0);
          add("minor_faults", static_cast<double>(rep.minor_faults));
          add("child_ms", rep.op_ns / 1e6);
        }
        row r = ctx.base("cow", "C5");
        r.set("variant", w.name)
            .set("placement", rca_placement_name(l.placement))
            .set("handle", l.handle_kind_name());
        r.set("slot_bits", l.slot_bits)
            .set("semantics", "plain")
            .set("backend", l.placement == RCA_PLACEMENT_COMPUTED ? "rca" : "system")
            .set("objects", n);
        r.set("object_bytes", opt.object_bytes)
            .set("working_set_bytes", n * opt.object_bytes)
            .set("threads", 1);
        r.set("method", kPageMethod);
        r.param("frozen", frozen ? "yes" : "no")
            .param("frozen_counts", static_cast<double>(frozen_count));
        r.param("stride", static_cast<double>(w.stride))
            .param("children", static_cast<double>(children));
        r.param("heap_object_pages", static_cast<double>(heap_obj))
            .param("heap_refcount_pages", static_cast<double>(heap_rc));
        r.param("exclusive_before_op", static_cast<double>(before))
            .param("skipped_mappings", static_cast<double>(skipped));
        const char *units[][2] = {{"private_pages", "pages"},
                                  {"object_pages_private", "pages"},
                                  {"refcount_pages_private", "pages"},
                                  {"other_pages_private", "pages"},
                                  {"private_pct_of_heap", "%"},
                                  {"minor_faults", "faults"},
                                  {"child_ms", "ms"}};
        for (auto &u : units) {
          emit_series(ctx.out, "cow", r, u[0], u[1], series[u[0]]);
        }
        // Physical memory of the whole family: parent + `children` workers alive at once, each
        // after the same walk (Pss and Rss summed over smaps_rollup), beside the page counts.
        if (std::string(w.name) == "sparse") continue;
        const family_memory fm = measure_family(children, [&] {
          if (w.stride == 0) return;
          with_layout(l, [&]<class Slot, class Handle>() {
            std::uint64_t s = read_only_walk<Slot, Handle>(pop.objs.data(), n, w.stride,
                                                           static_cast<Slot *>(pop.base));
            asm volatile("" ::"r"(s));
            return 0;
          });
        });
        row f = r;
        f.set("method", "fork+smaps_rollup")
            .param("workers_alive_at_once", static_cast<double>(children));
        const std::pair<const char *, std::uint64_t> fam[] = {
            {"pss_total_kib", fm.pss_total},
            {"rss_total_kib", fm.rss_total},
            {"pss_workers_kib", fm.pss_workers},
            {"rss_workers_kib", fm.rss_workers},
            {"private_dirty_workers_kib", fm.private_dirty_workers}};
        for (const auto &[metric, bytes] : fam) {
          if (fm.available) {
            emit_series(ctx.out, "cow", f, metric, "KiB",
                        {sample{static_cast<double>(bytes) / 1024.0, {}}});
          } else {
            row u = f;
            u.set("stat", "unavailable").set("metric", metric).set("unit", "KiB").na("value");
            ctx.out.write("cow", u);
          }
        }
      }
      bar.step(l.name() + (frozen ? " frozen" : ""));
    }
  }

  // Verdicts: experiments/plots/verdicts.py reads these rows (rule table there).
  return 0;
}

}  // namespace rca::lab
