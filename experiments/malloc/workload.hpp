// What every program of the allocator suite shares: its command line, the clock around the
// measured region, the byte patterns that check each block, and the one result line it prints.
//
// The programs call only malloc/free/realloc and new/delete, so whichever allocator the process
// was started with (LD_PRELOAD) serves every block. Each one checks its own data (a block that
// lost its pattern, a count that does not add up) and exits 1 with one line on stderr when a
// check fails; the result line names the library whose malloc served the process, so the driver
// can refuse a run where a preload silently did not take.
//
//   <program> [--threads N] [--scale X] [--seed N]
//   -> malloc-bench result workload=<name> threads=N ms=<measured region> ops=<work done>
//      bytes=<bytes allocated> check=ok malloc_lib=<path>
#pragma once

#include <dlfcn.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace mbench {

struct args {
  unsigned threads = 1;
  double scale = 1.0;  ///< multiplies the work; 1 is the suite's full size
  std::uint64_t seed = 42;
};

[[noreturn]] inline void fail(const char *workload, const char *what) {
  std::fprintf(stderr, "malloc-bench %s: %s\n", workload, what);
  std::exit(1);
}

inline args parse(int argc, char **argv, const char *workload) {
  args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) fail(workload, ("flag " + k + " needs a value").c_str());
    const char *v = argv[++i];
    char *end = nullptr;
    if (k == "--threads") {
      const long n = std::strtol(v, &end, 10);
      if (*end || n < 1 || n > 1024) fail(workload, "--threads wants 1..1024");
      a.threads = static_cast<unsigned>(n);
    } else if (k == "--scale") {
      a.scale = std::strtod(v, &end);
      if (*end || !(a.scale > 0) || a.scale > 1000) fail(workload, "--scale wants a number > 0");
    } else if (k == "--seed") {
      a.seed = std::strtoull(v, &end, 10);
      if (*end) fail(workload, "--seed wants an integer");
    } else {
      fail(workload, ("unknown flag '" + k + "' (--threads N --scale X --seed N)").c_str());
    }
  }
  return a;
}

/// n scaled, at least `floor`.
inline std::size_t scaled(const args &a, double n, std::size_t floor = 1) {
  const double v = n * a.scale;
  return v < static_cast<double>(floor) ? floor : static_cast<std::size_t>(v);
}

inline double now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

/// xorshift64*: cheap, deterministic per seed, and no allocation (std::mt19937 is fine too, but
/// this keeps the per-operation cost of the workload small beside the allocator's).
struct rng {
  std::uint64_t s;
  explicit rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  /// Uniform in [lo, hi].
  std::size_t range(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
};

/// The tag a block of `size` bytes carries: written at both ends, so an allocator that hands
/// out overlapping blocks, or one block twice, breaks a check.
inline std::uint64_t tag_of(const void *p, std::size_t size) {
  return (reinterpret_cast<std::uintptr_t>(p) * 0x100000001B3ull) ^ size;
}
inline void stamp(void *p, std::size_t size) {
  const std::uint64_t t = tag_of(p, size);
  if (size >= 16) {
    std::memcpy(p, &t, 8);
    std::memcpy(static_cast<char *>(p) + size - 8, &t, 8);
  } else {
    std::memset(p, static_cast<int>(t & 0xff), size);
  }
}
inline bool stamped(const void *p, std::size_t size) {
  const std::uint64_t t = tag_of(p, size);
  if (size >= 16) {
    std::uint64_t a, b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, static_cast<const char *>(p) + size - 8, 8);
    return a == t && b == t;
  }
  for (std::size_t i = 0; i < size; ++i)
    if (static_cast<const unsigned char *>(p)[i] != static_cast<unsigned char>(t & 0xff))
      return false;
  return true;
}

/// malloc that stamps the block (and fails the run when the allocator returns NULL).
inline void *take(const char *workload, std::size_t size) {
  void *p = std::malloc(size);
  if (!p) fail(workload, "malloc returned NULL");
  stamp(p, size);
  return p;
}
/// free after checking the stamp.
inline void give(const char *workload, void *p, std::size_t size) {
  if (!stamped(p, size)) fail(workload, "a block lost its pattern before it was freed");
  std::free(p);
}

/// The file that defines the malloc this process calls: the preloaded library, or libc.
inline std::string malloc_lib() {
  Dl_info info{};
  void *sym = dlsym(RTLD_DEFAULT, "malloc");
  if (!sym || !dladdr(sym, &info) || !info.dli_fname) return "unknown";
  return info.dli_fname;
}

inline void report(const char *workload, const args &a, double ms, std::uint64_t ops,
                   std::uint64_t bytes) {
  std::printf(
      "malloc-bench result workload=%s threads=%u ms=%.3f ops=%llu bytes=%llu check=ok "
      "malloc_lib=%s\n",
      workload, a.threads, ms, static_cast<unsigned long long>(ops),
      static_cast<unsigned long long>(bytes), malloc_lib().c_str());
}

}  // namespace mbench
