// alloc — what rca's heaps cost as allocators: objects/s and bytes per object over each
// backend, against the bare allocators on the same size mix, with 1 and N threads.
//
// Every allocator runs in its own forked child: mimalloc and jemalloc are loaded privately
// there (dlopen, RTLD_LOCAL), and the RSS growth is the child's own.
#include "../harness/measure.hpp"
#include "../harness/memory.hpp"
#include "../harness/progress.hpp"
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
  return 0;
}

}  // namespace rca::lab
