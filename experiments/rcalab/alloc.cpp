// alloc — what rca's heaps cost as allocators: objects/s and bytes per object over each
// backend, against the bare allocators on the same size mix, with 1 and N threads.
//
// Every allocator runs in its own forked child: mimalloc and jemalloc are loaded privately
// there (dlopen, RTLD_LOCAL), and the RSS growth is the child's own.
#include "../harness/measure.hpp"
#include "../harness/memory.hpp"
#include "../harness/progress.hpp"
#include "../harness/simulate.hpp"
#include "experiment.hpp"
#include "objects.hpp"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

namespace rca::lab {
namespace {

// A Python-like mix of small sizes (bytes, weight %).
constexpr std::pair<std::size_t, int> kMix[] = {{16, 10}, {32, 30}, {48, 20}, {64, 20},
                                                {96, 10}, {128, 5}, {256, 4}, {1024, 1}};

std::vector<std::size_t> size_sequence(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pct(0, 99);
  std::vector<std::size_t> v(n);
  for (auto &s : v) {
    int x = pct(rng), acc = 0;
    for (auto [size, w] : kMix) {
      acc += w;
      if (x < acc) {
        s = size;
        break;
      }
    }
  }
  return v;
}

struct allocator_if {
  std::string name;
  void *(*alloc)(void *ctx, std::size_t) = nullptr;
  void (*free)(void *ctx, void *) = nullptr;
  void *ctx = nullptr;
  std::size_t touch = 0;  ///< first byte the workload may write (rca owns the header before it)
};

struct result_msg {
  int ok;
  char why[200];
  double bytes_per_object;
  int n;
  double ns_per_pair[64];
};

// Runs in the child: the workload on `threads` threads, warmup + reps rounds.
void workload(const allocator_if &a, std::size_t n, unsigned threads, int warmup, int reps,
              std::uint64_t seed, result_msg &out) {
  auto sizes = size_sequence(n, seed);
  auto order = shuffled(n, seed + 1);
  // Bytes per object: RSS growth with n live objects on one thread (first touch included).
  {
    auto before = rss_bytes();
    std::vector<void *> live(n);
    for (std::size_t i = 0; i < n; ++i) {
      live[i] = a.alloc(a.ctx, sizes[i]);
      std::memset(static_cast<char *>(live[i]) + a.touch, 1, 8);
    }
    auto after = rss_bytes();
    out.bytes_per_object =
        before && after ? static_cast<double>(*after - *before) / static_cast<double>(n) : -1;
    for (std::size_t i : order) a.free(a.ctx, live[i]);
  }
  const int total = warmup + reps;
  auto round = [&](std::vector<void *> &live) {
    for (std::size_t i = 0; i < n; ++i) {
      live[i] = a.alloc(a.ctx, sizes[i]);
      static_cast<volatile char *>(live[i])[a.touch] = 1;
    }
    for (std::size_t i : order) a.free(a.ctx, live[i]);
  };
  out.n = 0;
  if (threads == 1) {
    // On the calling thread: no thread is started after fork (ThreadSanitizer refuses that).
    std::vector<void *> live(n);
    for (int r = 0; r < total; ++r) {
      double t0 = now_ns();
      round(live);
      double t1 = now_ns();
      if (r >= warmup && out.n < 64) out.ns_per_pair[out.n++] = (t1 - t0) / static_cast<double>(n);
    }
    out.ok = 1;
    return;
  }
  std::barrier sync(static_cast<std::ptrdiff_t>(threads) + 1);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      std::vector<void *> live(n);
      for (int r = 0; r < total; ++r) {
        sync.arrive_and_wait();
        round(live);
        sync.arrive_and_wait();
      }
    });
  for (int r = 0; r < total; ++r) {
    double t0 = now_ns();
    sync.arrive_and_wait();
    sync.arrive_and_wait();
    double t1 = now_ns();
    if (r >= warmup && out.n < 64) out.ns_per_pair[out.n++] = (t1 - t0) / static_cast<double>(n);
  }
  for (auto &th : pool) th.join();
  out.ok = 1;
}

// Builds the allocator in the child; returns false with a reason when it cannot run here.
bool make_allocator(const std::string &which, const layout *l, rca_backend_t backend, std::size_t n,
                    allocator_if &a, std::unique_ptr<rca::heap> &heap, std::string &why) {
  if (which == "rca") {
    if (!rca_backend_available(backend)) {
      why = rca_last_error();
      return false;
    }
    heap = std::make_unique<rca::heap>(make_config(*l, n * 8, backend));
    a.ctx = heap->get();
    if (l->placement == RCA_PLACEMENT_COMPUTED) {
      // No header: the object is the size the mix asks for, all of it the caller's.
      a.touch = 0;
      a.alloc = [](void *h, std::size_t s) {
        return rca_obj_alloc(static_cast<rca_heap_t *>(h), s);
      };
      a.free = [](void *h, void *p) { rca_obj_free(static_cast<rca_heap_t *>(h), p); };
      return true;
    }
    a.touch = kPayloadOffset;
    a.alloc = [](void *h, std::size_t s) {
      return rca_obj_alloc(static_cast<rca_heap_t *>(h),
                           std::max<std::size_t>(s, kPayloadOffset + 8));
    };
    a.free = [](void *h, void *p) { rca_obj_free(static_cast<rca_heap_t *>(h), p); };
    return true;
  }
  if (which == "malloc") {
    a.alloc = [](void *, std::size_t s) { return std::malloc(s); };
    a.free = [](void *, void *p) { std::free(p); };
    return true;
  }
  // Bare mimalloc / jemalloc, loaded privately so they do not replace this process's malloc.
  const char *lib = which == "mimalloc" ? "libmimalloc.so.2" : "libjemalloc.so.2";
  void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    why = dlerror();
    return false;
  }
  using alloc_fn = void *(*)(std::size_t);
  using free_fn = void (*)(void *);
  static alloc_fn af;
  static free_fn ff;
  af = reinterpret_cast<alloc_fn>(dlsym(dl, which == "mimalloc" ? "mi_malloc" : "malloc"));
  ff = reinterpret_cast<free_fn>(dlsym(dl, which == "mimalloc" ? "mi_free" : "free"));
  if (!af || !ff) {
    why = "symbols not found in " + std::string(lib);
    return false;
  }
  a.alloc = [](void *, std::size_t s) { return af(s); };
  a.free = [](void *, void *p) { ff(p); };
  return true;
}

// jemalloc uses initial-exec TLS: dlopen fails ("cannot allocate memory in static TLS block")
// unless the process starts with more static TLS surplus. So the bare jemalloc run is a fresh
// rcalab process started with that glibc tunable, which reports through a pipe.
bool exec_worker(const std::string &which, std::size_t n, unsigned threads, const options &opt,
                 result_msg &out) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=65536", 1);
    setenv("RCALAB_NESTED", "1", 1);
    std::string ns = std::to_string(n), ts = std::to_string(threads), rs = std::to_string(opt.reps),
                ws = std::to_string(opt.warmup), ss = std::to_string(opt.seed);
    execl("/proc/self/exe", "rcalab", "alloc", "--alloc-worker", which.c_str(), "--objects",
          ns.c_str(), "--threads", ts.c_str(), "--reps", rs.c_str(), "--warmup", ws.c_str(),
          "--seed", ss.c_str(), "--out", "-", "--format", "csv", static_cast<char *>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::size_t got = 0;
  auto *p = reinterpret_cast<char *>(&out);
  for (ssize_t r; got < sizeof out && (r = read(fds[0], p + got, sizeof out - got)) > 0;)
    got += static_cast<std::size_t>(r);
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return got == sizeof out;
}

// ---- What the checks cost ------------------------------------------------------------------
// rca_obj_alloc + rca_obj_free pairs on one heap: a window of kWindow live objects, each freed
// kWindow allocations after it was made (FIFO, the way a VM's short-lived objects reuse slots),
// sizes from kMix. Three settings: the release defaults (checks off; the free path still checks
// the slot's bitmap bit and object tag against double and foreign frees, and every entry point
// the heap's magic: no option turns those off), checks on (RCA_CHECKS=1: the registry of live
// objects on top), and, when RCALAB_UNCHECKED_LIB names a librca.so built without the
// release-default checks (experiments/bench/unchecked_lib.sh), the release defaults of that
// library, loaded privately. Instructions per pair from callgrind (deterministic), time per pair
// with its repetitions' range.
constexpr std::size_t kWindow = 4096;

// The C API of one rca library: this process's own, or another build's.
struct rca_api {
  decltype(&rca_heap_new) heap_new = rca_heap_new;
  decltype(&rca_heap_destroy) heap_destroy = rca_heap_destroy;
  decltype(&rca_obj_alloc) obj_alloc = rca_obj_alloc;
  decltype(&rca_obj_free) obj_free = rca_obj_free;
  decltype(&rca_last_error) last_error = rca_last_error;
};

// The library RCALAB_UNCHECKED_LIB names, or null with `why`.
const rca_api *unchecked_api(std::string &why) {
  static rca_api api;
  static std::string failed;
  static bool tried = false;
  if (!tried) {
    tried = true;
    const char *path = std::getenv("RCALAB_UNCHECKED_LIB");
    void *dl = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : nullptr;
    if (!path) failed = "RCALAB_UNCHECKED_LIB not set (experiments/bench/unchecked_lib.sh)";
    else if (!dl) failed = dlerror();
    else {
      auto sym = [&](auto &fn, const char *name) {
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(dl, name));
        if (!fn && failed.empty()) failed = std::string(name) + " not found in " + path;
      };
      sym(api.heap_new, "rca_heap_new");
      sym(api.heap_destroy, "rca_heap_destroy");
      sym(api.obj_alloc, "rca_obj_alloc");
      sym(api.obj_free, "rca_obj_free");
      sym(api.last_error, "rca_last_error");
    }
  }
  why = failed;
  return failed.empty() ? &api : nullptr;
}

struct check_setting {
  const char *variant;  // row variant
  bool checks;
  bool unchecked_lib;
};
constexpr check_setting kCheckSettings[] = {{"checks_release_defaults", false, false},
                                            {"checks_on", true, false},
                                            {"release_checks_compiled_out", false, true}};

class fifo_heap {
 public:
  fifo_heap(const rca_api &api, const layout &l, bool checks, std::size_t pairs)
      : api_(api),
        live_(kWindow),
        min_size_(l.placement == RCA_PLACEMENT_COMPUTED ? 1 : kPayloadOffset + 8) {
    rca::config c =
        make_config(l, kWindow + pairs,
                    l.placement == RCA_PLACEMENT_COMPUTED ? RCA_BACKEND_RCA : RCA_BACKEND_SYSTEM);
    c.checks(checks);
    c.raw().track_objects = -1;  // as the defaults have it: per placement, and with checks
    heap_ = api_.heap_new(&c.raw());
    if (!heap_) throw std::runtime_error(std::string("alloc: rca_heap_new: ") + api_.last_error());
    for (auto &p : live_) p = alloc_one(0);  // the window full before anything is measured
  }
  ~fifo_heap() {
    for (void *p : live_) api_.obj_free(heap_, p);
    api_.heap_destroy(heap_);
  }
  fifo_heap(const fifo_heap &) = delete;
  fifo_heap &operator=(const fifo_heap &) = delete;
  // `pairs` frees, each followed by an allocation.
  void run(const std::vector<std::size_t> &sizes, std::size_t pairs) {
    for (std::size_t i = 0; i < pairs; ++i, ++next_) {
      void *&slot = live_[next_ % kWindow];
      api_.obj_free(heap_, slot);
      slot = alloc_one(sizes[next_ % sizes.size()]);
    }
  }

 private:
  void *alloc_one(std::size_t size) {
    void *p = api_.obj_alloc(heap_, std::max(size, min_size_));
    if (!p) throw std::runtime_error(std::string("alloc: rca_obj_alloc: ") + api_.last_error());
    return p;
  }
  const rca_api &api_;
  rca_heap_t *heap_ = nullptr;
  std::vector<void *> live_;
  std::size_t next_ = 0, min_size_;
};

// The API a setting runs on, or null with `why`.
const rca_api *api_for(const check_setting &s, std::string &why) {
  static const rca_api own;
  return s.unchecked_lib ? unchecked_api(why) : &own;
}

std::string check_label(const layout &l, const check_setting &s) {
  return "alloc|" + l.name() + "|" + s.variant;
}

row check_row(context &ctx, const layout &l, const check_setting &s, std::size_t pairs) {
  row r = ctx.base("alloc", "-");
  r.set("variant", s.variant)
      .set("backend", l.placement == RCA_PLACEMENT_COMPUTED ? "rca" : "system")
      .set("placement", rca_placement_name(l.placement))
      .set("handle", l.handle_kind_name());
  r.set("slot_bits", l.slot_bits).set("semantics", "none").set("objects", kWindow);
  r.set("threads", 1);
  r.param("workload", "fifo_window")
      .param("pairs", static_cast<double>(pairs))
      .param("checks", s.checks ? "on" : "off")
      .param("size_mix", "16:10,32:30,48:20,64:20,96:10,128:5,256:4,1024:1");
  if (s.unchecked_lib) r.param("library", "RCALAB_UNCHECKED_LIB");
  return r;
}

void write_unavailable(context &ctx, row r, const std::string &why, const char *method,
                       const char *metric, const char *unit) {
  r.param("unavailable", why)
      .set("method", method)
      .set("stat", "unavailable")
      .set("metric", metric)
      .set("unit", unit)
      .na("value");
  ctx.out.write("alloc", r);
}

// In the nested run under callgrind: each setting's pairs in a region of its own.
void check_cost_regions(const std::vector<layout> &layouts, std::size_t pairs, std::uint64_t seed) {
  const auto sizes = size_sequence(1u << 16, seed);
  for (const layout &l : layouts)
    for (const auto &s : kCheckSettings) {
      std::string why;
      const rca_api *api = api_for(s, why);
      if (!api) continue;
      fifo_heap h(*api, l, s.checks, pairs);
      h.run(sizes, kWindow);  // warm: every slot page and size class in use once
      sim_region region(check_label(l, s));
      h.run(sizes, pairs);
    }
}

void check_cost(context &ctx, const std::vector<layout> &layouts, bool simulate) {
  const options &opt = ctx.opt;
  const std::size_t pairs = ops_target(opt, 200000, 1000000);
  const auto sizes = size_sequence(1u << 16, opt.seed);
  struct series {
    const layout *l;
    const check_setting *s;
    std::unique_ptr<fifo_heap> heap;
    std::vector<sample> ns;
    std::string why;
  };
  std::vector<series> all;
  for (const layout &l : layouts)
    for (const auto &s : kCheckSettings) {
      series x{&l, &s, nullptr, {}, {}};
      if (const rca_api *api = api_for(s, x.why))
        x.heap = std::make_unique<fifo_heap>(*api, l, s.checks, pairs);
      all.push_back(std::move(x));
    }
  // Time: the settings interleaved, repetition i of each before repetition i+1 of any.
  for (int r = 0; r < opt.warmup + opt.reps; ++r)
    for (series &x : all) {
      if (!x.heap) continue;
      const double t0 = now_ns();
      x.heap->run(sizes, pairs);
      const double t1 = now_ns();
      if (r >= opt.warmup) x.ns.push_back(sample{(t1 - t0) / static_cast<double>(pairs), {}});
    }
  for (series &x : all) {
    x.heap.reset();
    row r = check_row(ctx, *x.l, *x.s, pairs);
    if (!x.why.empty()) {
      write_unavailable(ctx, r, x.why, "wall_clock", "ns_per_alloc_free", "ns");
      continue;
    }
    r.set("method", "wall_clock");
    emit_series(ctx.out, "alloc", r, "ns_per_alloc_free", "ns", x.ns);
  }
  if (!simulate) return;
  // Instructions: rcalab again under callgrind, fewer pairs (the counts are per pair).
  const std::size_t sim_pairs = std::min<std::size_t>(pairs, 100000);
  const std::string args = "alloc --out - --ops " + std::to_string(sim_pairs) + " --seed " +
                           std::to_string(opt.seed) + " " + layout_flags(layouts);
  ctx.note("alloc: the checks' cost under callgrind");
  std::string why;
  const auto counts = simulate_self(args, why);
  for (const series &x : all) {
    row r = check_row(ctx, *x.l, *x.s, sim_pairs);
    auto it = counts.find(check_label(*x.l, *x.s));
    if (it == counts.end()) {
      write_unavailable(ctx, r,
                        !x.why.empty()   ? x.why
                        : counts.empty() ? why
                                         : "no region counted",
                        kSimMethod, "sim_instructions_per_op", "instructions");
      continue;
    }
    r.param("op", "alloc+free");
    emit_sim(ctx.out, "alloc", r, it->second, static_cast<double>(sim_pairs));
  }
}

}  // namespace

int run_alloc(context &ctx) {
  const options &opt = ctx.opt;
  const std::size_t n = opt.objects.empty() ? (opt.quick ? 100000 : 1000000) : opt.objects.front();
  std::vector<unsigned> threads = opt.threads;
  if (threads.empty())
    threads = {1, std::max(2u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)))};
  if (!opt.alloc_worker.empty()) {
    // Worker (started by exec_worker below): one bare allocator, result as bytes on stdout.
    result_msg msg{};
    allocator_if a;
    std::unique_ptr<rca::heap> heap;
    std::string why;
    if (make_allocator(opt.alloc_worker, nullptr, RCA_BACKEND_SYSTEM, n, a, heap, why))
      workload(a, n, threads.front(), opt.warmup, opt.reps, opt.seed, msg);
    else std::snprintf(msg.why, sizeof msg.why, "%s", why.c_str());
    std::fflush(stdout);
    return write(STDOUT_FILENO, &msg, sizeof msg) == static_cast<ssize_t>(sizeof msg) ? 0 : 1;
  }
  std::vector<rca_backend_t> backends =
      opt.backends.empty() ? std::vector<rca_backend_t>{RCA_BACKEND_SYSTEM, RCA_BACKEND_MIMALLOC,
                                                        RCA_BACKEND_JEMALLOC}
                           : opt.backends;
  options lopt = opt;
  if (lopt.handle_kinds.empty()) lopt.handle_kinds = {RCA_HANDLE_KIND_POINTER};
  const auto layouts =
      select_layouts(lopt, {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_SHARED, RCA_PLACEMENT_COMPUTED});
  if (simulating()) {  // the nested run of check_cost: only the regions callgrind counts
    check_cost_regions(layouts, ops_target(opt, 200000, 1000000), opt.seed);
    return 0;
  }

  struct config {
    std::string which;
    const layout *l;
    rca_backend_t backend;
  };
  std::vector<config> configs;
  // The bare counterpart of each selected backend: system -> malloc, mimalloc, jemalloc.
  for (auto b : backends)
    configs.push_back({b == RCA_BACKEND_SYSTEM ? "malloc" : rca_backend_name(b), nullptr, b});
  for (auto b : backends)
    for (const auto &l : layouts)
      if (l.placement != RCA_PLACEMENT_COMPUTED) configs.push_back({"rca", &l, b});
  // Computed heaps always take their objects from rca's span allocator: once each.
  for (const auto &l : layouts)
    if (l.placement == RCA_PLACEMENT_COMPUTED) configs.push_back({"rca", &l, RCA_BACKEND_RCA});

  progress bar("alloc", configs.size() * threads.size());
  for (unsigned T : threads) {
    for (const auto &c : configs) {
      auto *msg = static_cast<result_msg *>(mmap(
          nullptr, sizeof(result_msg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
      if (msg == MAP_FAILED) throw std::runtime_error("alloc: mmap");
      std::memset(msg, 0, sizeof *msg);
      std::fflush(nullptr);
      int st = 0;
      if (c.which == "jemalloc") {
        if (!exec_worker(c.which, n, T, opt, *msg))
          std::snprintf(msg->why, sizeof msg->why, "worker process failed");
      } else {
        pid_t pid = fork();
        if (pid == 0) {
          // glibc would hand freed memory back after every round and fault it in again (costly
          // in this VM); keep it, as mimalloc and jemalloc do by default.
          mallopt(M_TRIM_THRESHOLD, 1 << 30);
          allocator_if a;
          std::unique_ptr<rca::heap> heap;
          std::string why;
          if (!make_allocator(c.which, c.l, c.backend, n * T, a, heap, why)) {
            std::snprintf(msg->why, sizeof msg->why, "%s", why.c_str());
            _exit(0);
          }
          workload(a, n, T, opt.warmup, opt.reps, opt.seed, *msg);
          _exit(0);
        }
        waitpid(pid, &st, 0);
      }
      row r = ctx.base("alloc", "-");
      const bool is_rca = c.which == "rca";
      r.set("variant", is_rca ? "rca_heap" : "bare")
          .set("backend", is_rca ? rca_backend_name(c.backend) : c.which.c_str());
      r.set("placement", is_rca ? rca_placement_name(c.l->placement) : "none")
          .set("handle", is_rca ? c.l->handle_kind_name() : "none");
      if (is_rca) r.set("slot_bits", c.l->slot_bits);
      r.set("semantics", "none")
          .set("objects", n)
          .set("threads", T)
          .set("method", "wall_clock+smaps_rollup");
      r.param("size_mix", "16:10,32:30,48:20,64:20,96:10,128:5,256:4,1024:1")
          .param("process", c.which == "jemalloc" ? "fresh_process(GLIBC_TUNABLES static TLS)"
                                                  : "forked_child")
          .param("glibc_trim", "off");
      if (!msg->ok) {
        // Unavailable here: one row that says why, with the value NA.
        std::string why =
            msg->why[0] ? msg->why : ("child exited with status " + std::to_string(st));
        r.param("unavailable", why)
            .set("stat", "unavailable")
            .set("metric", "ns_per_alloc_free")
            .set("unit", "ns")
            .na("value");
        ctx.out.write("alloc", r);
        ctx.note("alloc: %s unavailable: %s", c.which.c_str(), why.c_str());
      } else {
        std::vector<sample> ns, ops;
        for (int i = 0; i < msg->n; ++i) {
          ns.push_back(sample{msg->ns_per_pair[i], {}});
          ops.push_back(sample{1e9 / msg->ns_per_pair[i] * T, {}});
        }
        emit_series(ctx.out, "alloc", r, "ns_per_alloc_free", "ns", ns);
        emit_series(ctx.out, "alloc", r, "objects_per_s", "objects/s", ops);
        row b = r;
        b.set("rep", 0).set("stat", "raw").set("metric", "bytes_per_object").set("unit", "bytes");
        b.set("value", msg->bytes_per_object >= 0 ? std::optional<double>(msg->bytes_per_object)
                                                  : std::nullopt);
        ctx.out.write("alloc", b);
      }
      munmap(msg, sizeof *msg);
      bar.step(c.which);
    }
  }
  const bool nested = std::getenv("RCALAB_NESTED") != nullptr;
  const bool no_hw = !ctx.counters.available(event::instructions);
  check_cost(ctx, layouts,
             !nested && (opt.callgrind == "on" || (opt.callgrind == "auto" && no_hw)));
  return 0;
}

}  // namespace rca::lab
