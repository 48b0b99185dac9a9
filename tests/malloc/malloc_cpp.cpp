// The C++ operators of rca malloc (plain, sized, aligned, nothrow, arrays) and the standard
// library's containers on it, across threads; run under LD_PRELOAD of librca_malloc.so or linked
// with librca_malloc.a. Semantics only.
//   malloc_cpp preload|static
#include <dlfcn.h>
#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;
#define CHECK(cond, what)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, what);      \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

bool aligned(const void *p, std::size_t a) {
  return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

template <std::size_t A>
struct alignas(A) over_aligned {
  unsigned char bytes[A];
};

template <std::size_t A>
void check_aligned_new() {
  auto *one = new over_aligned<A>;
  CHECK(aligned(one, A), "new of an over-aligned type");
  std::memset(one, 1, sizeof *one);
  delete one;
  auto *many = new over_aligned<A>[3];
  CHECK(aligned(many, A), "new[] of an over-aligned type");
  delete[] many;
  auto *nt = new (std::nothrow) over_aligned<A>;
  CHECK(nt && aligned(nt, A), "nothrow new of an over-aligned type");
  ::operator delete(nt, sizeof *nt, std::align_val_t(A));  // sized aligned delete
  void *raw = ::operator new(100, std::align_val_t(A));
  CHECK(aligned(raw, A), "operator new(size, align)");
  CHECK(malloc_usable_size(raw) >= 100, "usable size of an aligned new");
  ::operator delete(raw, std::align_val_t(A));
  raw = ::operator new[](5000, std::align_val_t(A), std::nothrow);
  CHECK(raw && aligned(raw, A), "operator new[](size, align, nothrow)");
  ::operator delete[](raw, std::align_val_t(A), std::nothrow);
}

void check_operators() {
  int *i = new int(42);
  CHECK(*i == 42, "new int");
  delete i;
  char *a = new char[1000];
  std::memset(a, 7, 1000);
  delete[] a;
  void *p = ::operator new(333);
  CHECK(malloc_usable_size(p) >= 333, "usable size of operator new");
  ::operator delete(p, 333);  // sized
  p = ::operator new[](777);
  ::operator delete[](p, 777);
  p = ::operator new(10, std::nothrow);
  ::operator delete(p, std::nothrow);
  p = ::operator new[](10, std::nothrow);
  ::operator delete[](p, std::nothrow);
  check_aligned_new<32>();
  check_aligned_new<64>();
  check_aligned_new<256>();
  check_aligned_new<4096>();
  check_aligned_new<65536>();
  check_aligned_new<(1 << 20)>();
  // Impossible sizes: nothrow gives null, the throwing form throws.
  void *huge = ::operator new(SIZE_MAX / 2, std::nothrow);
  CHECK(huge == nullptr, "nothrow new of SIZE_MAX / 2 gave a block");
  bool threw = false;
  try {
    void *q = ::operator new(SIZE_MAX / 2);
    ::operator delete(q);
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  CHECK(threw, "new of SIZE_MAX / 2 did not throw bad_alloc");
  // The new-handler is called, then new retries.
  static int handler_calls;
  handler_calls = 0;
  std::set_new_handler([] {
    ++handler_calls;
    std::set_new_handler(nullptr);
  });
  threw = false;
  try {
    void *q = ::operator new(SIZE_MAX / 2);
    ::operator delete(q);
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  CHECK(threw && handler_calls == 1, "new-handler not called once before bad_alloc");
}

// Containers built on one thread, destroyed on another (cross-thread frees through delete).
void check_threads() {
  std::mutex m;
  std::vector<std::unique_ptr<std::map<int, std::string>>> handoff;
  std::atomic<bool> done{false};
  std::thread builder([&] {
    for (int round = 0; round < 400; ++round) {
      auto map = std::make_unique<std::map<int, std::string>>();
      for (int k = 0; k < 100; ++k) (*map)[k] = std::string(static_cast<std::size_t>(k % 60), 'x');
      std::lock_guard<std::mutex> g(m);
      handoff.push_back(std::move(map));
    }
    done = true;
  });
  std::size_t destroyed = 0;
  for (;;) {
    std::vector<std::unique_ptr<std::map<int, std::string>>> mine;
    {
      std::lock_guard<std::mutex> g(m);
      mine.swap(handoff);
    }
    for (auto &map : mine) {
      CHECK(map->size() == 100 && (*map)[59].size() == 59, "a map built on another thread");
      ++destroyed;
    }
    mine.clear();
    if (done && destroyed == 400) break;
    std::this_thread::yield();
  }
  builder.join();
  // Many short threads, each exiting with its cache in use.
  std::vector<std::thread> ts;
  std::vector<std::vector<std::string>> kept(8);
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([t, &kept] {
      for (int k = 0; k < 2000; ++k)
        kept[t].push_back(std::string(static_cast<std::size_t>(k % 300), 'y'));
    });
  for (auto &t : ts) t.join();
  for (auto &v : kept)
    CHECK(v.size() == 2000 && v[299].size() == 299, "strings of an exited thread");
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2 || (std::strcmp(argv[1], "preload") != 0 && std::strcmp(argv[1], "static") != 0)) {
    std::fprintf(stderr, "usage: %s preload|static\n", argv[0]);
    return 2;
  }
  Dl_info info{};
  void *(*newp)(std::size_t) = &::operator new;
  CHECK(dladdr(reinterpret_cast<void *>(newp), &info) != 0, "dladdr(operator new)");
  const std::string file = info.dli_fname ? info.dli_fname : "";
  if (std::strcmp(argv[1], "preload") == 0)
    CHECK(file.find("librca_malloc.so") != std::string::npos,
          ("operator new from " + file).c_str());
  else
    CHECK(file.find("libstdc++") == std::string::npos &&
              file.find("librca_malloc.so") == std::string::npos,
          ("operator new from " + file).c_str());
  check_operators();
  check_threads();
  if (failures) {
    std::fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  std::printf("rca malloc C++ operators: all checks held (%s)\n", argv[1]);
  return 0;
}
