// Hoard's cache-scratch and cache-thrash (Berger et al., "Hoard: A Scalable Memory Allocator for
// Multithreaded Applications", ASPLOS 2000): small objects that threads write again and again.
// An allocator that puts two threads' objects in one cache line makes every write a miss on the
// other core (false sharing). thrash: each thread allocates its own objects (active false
// sharing, the allocator's own doing); scratch: the main thread allocates one object per
// thread side by side and each thread frees its object first, so an allocator that hands a
// freed block back to the thread that freed it keeps the sharing going (passive).
// Work figure: bytes written.
#pragma once

#include "workload.hpp"

#include <thread>
#include <vector>

namespace mbench {

// Writes every byte of `obj` `reps` times (volatile: each write reaches memory) and checks it.
inline void hammer(const char *name, char *obj, std::size_t size, std::size_t reps) {
  std::memset(obj, 0, size);
  volatile char *v = obj;
  for (std::size_t r = 0; r < reps; ++r)
    for (std::size_t k = 0; k < size; ++k) v[k] = static_cast<char>(v[k] + 1);
  for (std::size_t k = 0; k < size; ++k)
    if (static_cast<unsigned char>(obj[k]) != static_cast<unsigned char>(reps & 0xff))
      fail(name, "an object lost a write (shared with another live object?)");
}

inline int run_cache(int argc, char **argv, const char *name, bool scratch) {
  const args a = parse(argc, argv, name);
  const std::size_t size = 8;  // bytes per object: eight threads' objects fit one 64 B line
  const std::size_t rounds = scaled(a, 40000, a.threads) / a.threads;  // per thread
  const std::size_t reps = 2000;  // writes of each byte per object
  std::vector<char *> first(a.threads, nullptr);
  if (scratch)
    for (auto &p : first) p = static_cast<char *>(take(name, size));
  const double t0 = now_ms();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < a.threads; ++t)
    pool.emplace_back([&, t] {
      if (first[t]) give(name, first[t], size);
      for (std::size_t i = 0; i < rounds; ++i) {
        char *obj = static_cast<char *>(std::malloc(size));
        if (!obj) fail(name, "malloc returned NULL");
        hammer(name, obj, size, reps);
        std::free(obj);
      }
    });
  for (auto &th : pool) th.join();
  const double ms = now_ms() - t0;
  report(name, a, ms, static_cast<std::uint64_t>(rounds) * reps * size * a.threads,
         static_cast<std::uint64_t>(rounds) * size * a.threads);
  return 0;
}

}  // namespace mbench
