// Linux implementation of prim.h.
#include "prim/prim.h"

#include <cerrno>
#include <cstdlib>
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

namespace rca::prim {

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

int reserve(std::size_t bytes, void **out) noexcept {
  void *p = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return errno;
  *out = p;
  return 0;
}

int commit(void *p, std::size_t bytes) noexcept {
  return mprotect(p, bytes, PROT_READ | PROT_WRITE) == 0 ? 0 : errno;
}

int decommit(void *p, std::size_t bytes) noexcept {
  // MADV_DONTNEED on private anonymous memory drops the pages now; the next touch faults in a
  // zero page. Cheaper than re-mapping and keeps the range writable.
  return madvise(p, bytes, MADV_DONTNEED) == 0 ? 0 : errno;
}

int release(void *p, std::size_t bytes) noexcept { return munmap(p, bytes) == 0 ? 0 : errno; }

int remap(void *p, std::size_t old_bytes, std::size_t new_bytes, void **out) noexcept {
  void *q = mremap(p, old_bytes, new_bytes, MREMAP_MAYMOVE);
  if (q == MAP_FAILED) return errno;
  *out = q;
  return 0;
}

std::size_t system_usable_size(const void *p) noexcept {
  return malloc_usable_size(const_cast<void *>(p));
}

void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

void yield() noexcept { sched_yield(); }

std::size_t peak_rss() noexcept {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

int thread_exit_key(unsigned *key, void (*fn)(void *)) noexcept {
  pthread_key_t k;
  if (int e = pthread_key_create(&k, fn)) return e;
  *key = static_cast<unsigned>(k);
  return 0;
}

void thread_exit_set(unsigned key, void *value) noexcept {
  pthread_setspecific(static_cast<pthread_key_t>(key), value);
}

unsigned long thread_id() noexcept { return static_cast<unsigned long>(pthread_self()); }

int at_exit(void (*fn)()) noexcept { return std::atexit(fn) == 0 ? 0 : ENOMEM; }

int atfork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept {
  return pthread_atfork(prepare, parent, child);
}

const char *env(const char *name) noexcept { return std::getenv(name); }

void write_stderr(const char *msg, std::size_t len) noexcept {
  while (len > 0) {
    const ssize_t n = write(STDERR_FILENO, msg, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    msg += n;
    len -= static_cast<std::size_t>(n);
  }
}

void *library_open(const char *file) noexcept { return dlopen(file, RTLD_NOW | RTLD_LOCAL); }

void *library_symbol(void *library, const char *symbol) noexcept { return dlsym(library, symbol); }

}  // namespace rca::prim
