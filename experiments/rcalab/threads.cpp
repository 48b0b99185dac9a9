// C3 — extra refcount pages "could impair performance, but mostly if multiple threads are
// allowed to access the same page".
//
// Part 1 (own objects): T threads allocate their objects in turns (object k of thread t is the
// (k*T+t)-th allocation), so with shared refcount pages neighbouring slots belong to different
// threads; then each thread increfs/decrefs only its own objects. Shared vs thread vs padded
// pages vs inline counts, plain and atomic.
// Part 2 (shared objects): every thread increfs/decrefs the same objects: atomic counts vs
// biased counts (owner plain + shared atomic, PEP 703), the owner being worker 0.
#include "../harness/measure.hpp"
#include "../harness/progress.hpp"
#include "../harness/simulate.hpp"
#include "experiment.hpp"
#include "objects.hpp"

#include <rca/biased.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

namespace rca::lab {
namespace {

// Shared-objects pass: the same step as pass(), on biased counts stored in the payload.
[[gnu::noinline]] std::uint64_t biased_pass(void *const *objs, std::size_t n, std::size_t start) {
  using B = rca::rc::biased<std::uint32_t>;
  auto cnt = [](void *o) {
    return reinterpret_cast<B::count *>(static_cast<char *>(o) + kPayloadOffset);
  };
  B::count *prev = cnt(objs[start % n]);
  B::incref(prev);
  std::uint64_t zero = 0;
  for (std::size_t k = 1; k < n; ++k) {
    B::count *c = cnt(objs[(start + k) % n]);
    B::incref(c);
    zero += B::decref(prev);
    prev = c;
  }
  zero += B::decref(prev);
  return zero;
}

[[gnu::noinline]] std::uint64_t atomic_pass(void *const *objs, std::size_t n, std::size_t start) {
  using A = atomic_rc<std::uint32_t>;
  auto *prev = reinterpret_cast<std::uint32_t *>(objs[start % n]);
  A::incref(prev);
  std::uint64_t zero = 0;
  for (std::size_t k = 1; k < n; ++k) {
    auto *c = reinterpret_cast<std::uint32_t *>(objs[(start + k) % n]);
    A::incref(c);
    zero += A::decref(prev);
    prev = c;
  }
  zero += A::decref(prev);
  return zero;
}

// Runs `work(t)` on T worker threads for warmup+reps rounds; returns per-round wall ns (from the
// release of the start barrier to the last finisher) and each round's time of worker 0.
struct rounds {
  std::vector<sample> wall, owner;
};

template <class Setup, class Work>
rounds run_rounds(context &ctx, unsigned T, Setup &&setup, Work &&work) {
  const int total = ctx.opt.warmup + ctx.opt.reps;
  std::barrier sync(static_cast<std::ptrdiff_t>(T) + 1);
  std::vector<double> t_owner(static_cast<std::size_t>(total));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < T; ++t) {
    pool.emplace_back([&, t] {
      if (ctx.opt.pin) pin_thread(t);
      setup(t);
      sync.arrive_and_wait();  // set up
      for (int r = 0; r < total; ++r) {
        sync.arrive_and_wait();  // go
        double t0 = now_ns();
        work(t);
        if (t == 0) t_owner[static_cast<std::size_t>(r)] = now_ns() - t0;
        sync.arrive_and_wait();  // done
      }
    });
  }
  sync.arrive_and_wait();
  rounds out;
  for (int r = 0; r < total; ++r) {
    const bool measured = r >= ctx.opt.warmup;
    if (measured) ctx.counters.start();
    double t0 = now_ns();
    sync.arrive_and_wait();
    sync.arrive_and_wait();
    double t1 = now_ns();
    if (measured) {
      sample s;
      s.counters = ctx.counters.stop();
      s.value = t1 - t0;
      out.wall.push_back(s);
      out.owner.push_back(sample{t_owner[static_cast<std::size_t>(r)], s.counters});
    }
  }
  for (auto &th : pool) th.join();
  return out;
}

// Part 1 at one thread under callgrind's cache simulation: instructions, D1/LL misses and the
// cycle estimate per operation of each layout's slot path, where two threads cannot interfere;
// a gap between shared, per-thread and padded pages here comes from the layout, not from sharing.
void simulate_threads(context &ctx, const std::vector<layout> &layouts,
                      const std::vector<std::string> &sems, std::size_t per_thread) {
  std::string sem_list;
  for (const auto &s : sems)
    if (s != "biased") sem_list += (sem_list.empty() ? "" : ",") + s;
  if (sem_list.empty()) return;
  const std::size_t passes = std::max<std::size_t>(1, (1u << 20) / (2 * per_thread));
  const std::string args =
      "threads --callgrind off --threads 1 --reps 1 --warmup 1 --out - --objects " +
      std::to_string(per_thread) + " --ops " + std::to_string(2 * per_thread * passes) + " " +
      layout_flags(layouts) + " --semantics " + sem_list + " --object-bytes " +
      std::to_string(ctx.opt.object_bytes);
  ctx.note("threads: simulating one thread under callgrind");
  std::string why;
  const auto counts = simulate_self(args, why);
  if (counts.empty()) {
    ctx.note("threads: no simulated counts: %s", why.c_str());
    return;
  }
  for (const layout &l : layouts) {
    for (const auto &sem : sems) {
      auto it = counts.find(l.name() + "|" + sem);
      if (it == counts.end()) continue;
      row r = ctx.base("threads", "C3");
      r.set("variant", "own_objects")
          .set("placement", rca_placement_name(l.placement))
          .set("handle", l.handle_kind_name());
      r.set("slot_bits", l.slot_bits)
          .set("semantics", sem)
          .set("backend", l.placement == RCA_PLACEMENT_COMPUTED ? "rca" : "system")
          .set("objects", per_thread);
      r.set("object_bytes", ctx.opt.object_bytes)
          .set("working_set_bytes", per_thread * ctx.opt.object_bytes);
      r.set("threads", 1)
          .param("objects_per_thread", static_cast<double>(per_thread))
          .param("passes", static_cast<double>(passes));
      emit_sim(ctx.out, "threads", r, it->second,
               2.0 * static_cast<double>(per_thread) * static_cast<double>(passes));
    }
  }
}

}  // namespace

int run_threads(context &ctx) {
  const options &opt = ctx.opt;
  std::vector<unsigned> threads = opt.threads;
  if (threads.empty()) {
    unsigned cores = std::max(2u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
    for (unsigned t = 1; t <= cores; t = t < 4 ? t + 1 : t * 2) threads.push_back(t);
  }
  std::vector<std::string> sems =
      opt.semantics.empty() ? std::vector<std::string>{"plain", "atomic", "biased"} : opt.semantics;
  const std::size_t per_thread =
      opt.objects.empty() ? (opt.quick ? 4096 : 16384) : opt.objects.front();
  const std::size_t ops_per_rep =
      ops_target(opt, 8u << 20, 32u << 20);  // per thread and repetition
  const std::size_t passes = std::max<std::size_t>(1, ops_per_rep / (2 * per_thread));
  options lopt = opt;
  if (lopt.handle_kinds.empty()) lopt.handle_kinds = {RCA_HANDLE_KIND_POINTER};
  const auto layouts =
      select_layouts(lopt, {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_SHARED, RCA_PLACEMENT_THREAD,
                            RCA_PLACEMENT_PADDED, RCA_PLACEMENT_COMPUTED});

  progress bar("threads", threads.size() * (layouts.size() + 1));
  // ---- Part 1: each thread on its own objects ------------------------------------------------
  for (unsigned T : threads) {
    for (const layout &l : layouts) {
      for (const auto &sem : sems) {
        if (sem == "biased") continue;  // part 2
        rca::heap heap(make_config(l, per_thread * T));
        std::vector<std::vector<void *>> mine(T);
        std::atomic<std::size_t> turn{0};
        auto setup = [&](unsigned t) {
          auto &v = mine[t];
          v.reserve(per_thread);
          for (std::size_t k = 0; k < per_thread; ++k) {
            const std::size_t my = k * T + t;
            while (turn.load(std::memory_order_acquire) != my) std::this_thread::yield();
            void *o = heap.alloc(opt.object_bytes);
            if (!o) std::abort();
            v.push_back(o);
            turn.store(my + 1, std::memory_order_release);
          }
        };
        void *base = count_base(heap, l);
        // One thread: the same work under callgrind's simulated caches (simulate_threads below).
        const std::string label = T == 1 ? l.name() + "|" + sem : "";
        auto work = [&](unsigned t) {
          sim_region region(label);
          with_layout(l, [&]<class Slot, class Handle>() {
            std::uint64_t z = 0;
            for (std::size_t p = 0; p < passes; ++p)
              z += sem == "atomic" ? pass<Slot, Handle, atomic_rc<Slot>>(mine[t].data(), per_thread,
                                                                         static_cast<Slot *>(base))
                                   : pass<Slot, Handle, plain_rc<Slot>>(mine[t].data(), per_thread,
                                                                        static_cast<Slot *>(base));
            asm volatile("" ::"r"(z));
            return 0;
          });
        };
        rounds rr = run_rounds(ctx, T, setup, work);
        for (auto &v : mine)  // rca_heap_destroy frees only objects it tracks
          for (void *o : v) heap.free(o);
        const double ops = 2.0 * static_cast<double>(per_thread) * static_cast<double>(passes);
        for (auto &s : rr.wall) s.value /= ops;
        row r = ctx.base("threads", "C3");
        r.set("variant", "own_objects")
            .set("placement", rca_placement_name(l.placement))
            .set("handle", l.handle_kind_name());
        r.set("slot_bits", l.slot_bits)
            .set("semantics", sem)
            .set("backend", rca_backend_name(heap.cfg().backend))
            .set("objects", per_thread * T);
        r.set("object_bytes", opt.object_bytes)
            .set("working_set_bytes", per_thread * T * opt.object_bytes)
            .set("threads", T);
        r.set("method", "wall_clock")
            .param("objects_per_thread", static_cast<double>(per_thread))
            .param("passes", static_cast<double>(passes));
        r.param("allocation", "interleaved").param("pinned", opt.pin ? "yes" : "no");
        emit_series(ctx.out, "threads", r, "ns_per_op", "ns", rr.wall);
      }
      bar.step("own " + l.name());
    }

    // ---- Part 2: all threads on the same objects: atomic vs biased -------------------------
    const std::size_t shared_n = per_thread;
    for (const auto &sem : sems) {
      if (sem == "plain") continue;  // a data race by definition
      layout il{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32};
      population pop(
          il, shared_n,
          std::max<std::size_t>(opt.object_bytes,
                                kPayloadOffset + sizeof(rca::rc::biased_count<std::uint32_t>)));
      auto setup = [&](unsigned t) {
        if (t != 0 || sem != "biased") return;
        for (void *o : pop.objs)  // worker 0 owns every object
          rca::rc::biased<std::uint32_t>::init(
              reinterpret_cast<rca::rc::biased_count<std::uint32_t> *>(static_cast<char *>(o) +
                                                                       kPayloadOffset));
      };
      auto work = [&](unsigned t) {
        std::uint64_t z = 0;
        const std::size_t start = shared_n * t / T;
        for (std::size_t p = 0; p < passes; ++p)
          z += sem == "biased" ? biased_pass(pop.objs.data(), shared_n, start)
                               : atomic_pass(pop.objs.data(), shared_n, start);
        asm volatile("" ::"r"(z));
      };
      rounds rr = run_rounds(ctx, T, setup, work);
      const double ops = 2.0 * static_cast<double>(shared_n) * static_cast<double>(passes);
      for (auto &s : rr.wall) s.value /= ops;
      for (auto &s : rr.owner) s.value /= ops;
      row r = ctx.base("threads", "C3");
      r.set("variant", "shared_objects")
          .set("placement", sem == "biased" ? "inline_biased" : "inline")
          .set("handle", "none");
      r.set("slot_bits", 32)
          .set("semantics", sem)
          .set("backend", "system")
          .set("objects", shared_n);
      r.set("object_bytes", pop.object_bytes)
          .set("working_set_bytes", shared_n * pop.object_bytes)
          .set("threads", T);
      r.set("method", "wall_clock")
          .param("owner", "worker0")
          .param("passes", static_cast<double>(passes));
      emit_series(ctx.out, "threads", r, "ns_per_op", "ns", rr.wall);
      emit_series(ctx.out, "threads", r, "owner_ns_per_op", "ns", rr.owner);
    }
    bar.step("shared objects");
  }

  const bool nested = std::getenv("RCALAB_NESTED") != nullptr;
  const bool no_hw = !ctx.counters.available(event::instructions);
  const bool one_thread = std::find(threads.begin(), threads.end(), 1u) != threads.end();
  if (!nested && one_thread && (opt.callgrind == "on" || (opt.callgrind == "auto" && no_hw)))
    simulate_threads(ctx, layouts, sems, per_thread);
  // Verdicts: experiments/plots/verdicts.py reads these rows (rule table there).
  return 0;
}

}  // namespace rca::lab
