#include "pages.hpp"

#include "measure.hpp"  // now_ns

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>

namespace rca::lab {
namespace {

constexpr std::uint64_t kPresent = 1ull << 63;
constexpr std::uint64_t kExclusive = 1ull << 56;
constexpr std::uint64_t kSoftDirty = 1ull << 55;
constexpr std::uintptr_t kMaxScan = 16ull << 30;

// Reads pagemap entries through a caller-owned buffer: the child must not allocate.
struct pagemap_reader {
  int fd;
  std::uint64_t *buf;
  std::size_t cap;  // entries

  // Calls f(entry) for each page in [lo, hi).
  template <class F>
  bool scan(std::uintptr_t lo, std::uintptr_t hi, F &&f) const {
    const std::size_t ps = page_size();
    for (std::uintptr_t a = lo; a < hi;) {
      std::size_t n = std::min<std::size_t>(cap, (hi - a) / ps);
      ssize_t got = pread(fd, buf, n * 8, static_cast<off_t>(a / ps * 8));
      if (got <= 0) return false;
      std::size_t m = static_cast<std::size_t>(got) / 8;
      for (std::size_t i = 0; i < m; ++i) f(buf[i]);
      a += m * ps;
    }
    return true;
  }
  std::uint64_t count(std::uintptr_t lo, std::uintptr_t hi, std::uint64_t mask) const {
    std::uint64_t n = 0;
    scan(lo, hi, [&](std::uint64_t e) { n += (e & (kPresent | mask)) == (kPresent | mask); });
    return n;
  }
  std::uint64_t count(const page_set &s, std::uint64_t mask) const {
    std::uint64_t n = 0;
    for (auto [lo, hi] : s.runs()) n += count(lo, hi, mask);
    return n;
  }
};

// Exclusive pages over every writable private mapping, from /proc/self/maps read into `text`
// (caller-owned); our own scratch [skip_lo, skip_hi) is left out.
std::uint64_t count_all_exclusive(const pagemap_reader &pm, char *text, std::size_t cap,
                                  std::uintptr_t skip_lo, std::uintptr_t skip_hi,
                                  std::uint64_t *skipped) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t len = 0;
  for (ssize_t r; len < cap - 1 && (r = read(fd, text + len, cap - 1 - len)) > 0;)
    len += static_cast<std::size_t>(r);
  close(fd);
  text[len] = 0;
  std::uint64_t n = 0;
  for (char *line = text; *line;) {
    char *end = std::strchr(line, '\n');
    if (end) *end = 0;
    char *p = line;
    std::uintptr_t lo = std::strtoull(p, &p, 16);
    std::uintptr_t hi = std::strtoull(p + 1, &p, 16);
    bool writable = p[1] == 'r' && p[2] == 'w' && p[4] == 'p';
    if (writable && !(lo >= skip_lo && hi <= skip_hi)) {
      if (hi - lo > kMaxScan) ++*skipped;
      else n += pm.count(lo, hi, kExclusive);
    }
    if (!end) break;
    line = end + 1;
  }
  return n;
}

}  // namespace

std::size_t page_size() {
  static const std::size_t ps = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

void page_set::add(const void *p, std::size_t bytes) {
  if (bytes == 0) return;
  const std::uintptr_t ps = page_size();
  auto a = reinterpret_cast<std::uintptr_t>(p);
  add_range(a / ps * ps, (a + bytes + ps - 1) / ps * ps);
}

void page_set::add_range(std::uintptr_t lo, std::uintptr_t hi) {
  if (lo < hi) runs_.emplace_back(lo, hi);
}

void page_set::finish() {
  std::sort(runs_.begin(), runs_.end());
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> merged;
  for (auto r : runs_) {
    if (!merged.empty() && r.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, r.second);
    else merged.push_back(r);
  }
  runs_ = std::move(merged);
}

page_report account_writes(const page_set &objects, const page_set &refcounts,
                           const std::function<void()> &op) {
  // Scratch for the child, mapped and touched before fork: [result page | pagemap buffer | maps
  // text].
  const std::size_t ps = page_size();
  const std::size_t pm_bytes = 64 * 1024, maps_bytes = 1 << 20;
  const std::size_t scratch_bytes = pm_bytes + maps_bytes;
  auto *result = static_cast<page_report *>(
      mmap(nullptr, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  auto *scratch = static_cast<char *>(
      mmap(nullptr, scratch_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (result == MAP_FAILED || scratch == MAP_FAILED)
    throw std::runtime_error("account_writes: mmap failed");
  new (result) page_report();
  int pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm_fd < 0) {
    munmap(result, ps);
    munmap(scratch, scratch_bytes);
    throw std::runtime_error(std::string("account_writes: /proc/self/pagemap: ") +
                             std::strerror(errno));
  }
  std::fflush(nullptr);  // nothing buffered may be written twice

  pid_t pid = fork();
  if (pid < 0) {
    close(pm_fd);
    throw std::runtime_error(std::string("account_writes: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child. The parent's fd reads the parent's pagemap (/proc/self resolved at open time):
    // open our own. Nothing below allocates; the scratch was mapped and touched before fork.
    close(pm_fd);
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) _exit(3);
    pagemap_reader pm{fd, reinterpret_cast<std::uint64_t *>(scratch), pm_bytes / 8};
    char *maps_text = scratch + pm_bytes;
    const auto skip_lo = reinterpret_cast<std::uintptr_t>(scratch),
               skip_hi = skip_lo + scratch_bytes;
    page_report r;
    r.object_pages = pm.count(objects, 0);
    r.refcount_pages = pm.count(refcounts, 0);
    const std::uint64_t obj_b = pm.count(objects, kExclusive),
                        rc_b = pm.count(refcounts, kExclusive);
    std::uint64_t skipped = 0;
    const std::uint64_t all_b =
        count_all_exclusive(pm, maps_text, maps_bytes, skip_lo, skip_hi, &skipped);
    rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    const double t0 = now_ns();
    op();
    const double t1 = now_ns();
    getrusage(RUSAGE_SELF, &ru1);
    r.op_ns = t1 - t0;
    r.minor_faults = ru1.ru_minflt - ru0.ru_minflt;
    const std::uint64_t obj_a = pm.count(objects, kExclusive),
                        rc_a = pm.count(refcounts, kExclusive);
    skipped = 0;
    const std::uint64_t all_a =
        count_all_exclusive(pm, maps_text, maps_bytes, skip_lo, skip_hi, &skipped);
    // Right after fork nothing inherited is exclusive; exclusive_before reports it if that ever
    // fails, and the differences below stay conservative.
    auto diff = [](std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; };
    r.exclusive_before = obj_b + rc_b;
    r.object_private = diff(obj_a, obj_b);
    r.refcount_private = diff(rc_a, rc_b);
    r.other_private = diff(diff(all_a, obj_a + rc_a), diff(all_b, obj_b + rc_b));
    r.skipped_mappings = skipped;
    *result = r;
    _exit(0);
  }
  close(pm_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  page_report out = *result;
  munmap(result, ps);
  munmap(scratch, scratch_bytes);
  if (status != 0)
    throw std::runtime_error("account_writes: child failed, wait status " + std::to_string(status));
  return out;
}

namespace {
std::uint64_t pagemap_entry(const void *p) {
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::uint64_t e = 0;
  if (pread(fd, &e, 8, static_cast<off_t>(reinterpret_cast<std::uintptr_t>(p) / page_size() * 8)) !=
      8)
    e = 0;
  close(fd);
  return e;
}
}  // namespace

std::string probe_soft_dirty() {
  const std::size_t ps = page_size();
  auto *p = static_cast<volatile char *>(
      mmap(nullptr, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) return "unsupported: mmap failed";
  p[0] = 1;
  std::string verdict;
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "4", 1) != 1) {
    verdict = std::string("unsupported: clear_refs: ") + std::strerror(errno);
  } else {
    bool cleared = (pagemap_entry(const_cast<char *>(p)) & kSoftDirty) == 0;
    p[0] = 2;
    bool marked = (pagemap_entry(const_cast<char *>(p)) & kSoftDirty) != 0;
    verdict = cleared && marked
                  ? "works"
                  : std::string("unsupported: bit 55 ") +
                        (cleared ? "never set after a write" : "not cleared by clear_refs 4");
  }
  if (fd >= 0) close(fd);
  munmap(const_cast<char *>(p), ps);
  return verdict;
}

std::string probe_pagemap_exclusive() {
  const std::size_t ps = page_size();
  auto *p = static_cast<char *>(
      mmap(nullptr, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) return "unsupported: mmap failed";
  p[0] = 1;
  p[ps] = 1;
  page_set obj, none;
  obj.add(p, ps);
  obj.finish();
  none.finish();
  std::string verdict;
  try {
    page_report r = account_writes(obj, none, [p] { *static_cast<volatile char *>(p) = 2; });
    verdict =
        r.object_private == 1 ? "works" : "unsupported: a written page did not turn exclusive";
  } catch (const std::exception &e) {
    verdict = std::string("unsupported: ") + e.what();
  }
  munmap(p, 2 * ps);
  return verdict;
}

std::string probe_pagemap_scan() {
  // PAGEMAP_SCAN (Linux 6.7) is newer than Debian 12's kernel headers: declare it here.
  struct pm_scan_arg {
    std::uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted,
        category_mask, category_anyof_mask, return_mask;
  };
  const unsigned long kPagemapScan = _IOWR('f', 16, pm_scan_arg);
  const std::size_t ps = page_size();
  void *p = mmap(nullptr, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return "unsupported: mmap failed";
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  std::string verdict;
  if (fd < 0) {
    verdict = "unsupported: pagemap not readable";
  } else {
    pm_scan_arg a{};
    a.size = sizeof a;
    a.start = reinterpret_cast<std::uintptr_t>(p);
    a.end = a.start + ps;
    long r = ioctl(fd, kPagemapScan, &a);
    verdict = r >= 0 ? "available (unused)" : std::string("unsupported: ") + std::strerror(errno);
    close(fd);
  }
  long ufd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1 /* UFFD_USER_MODE_ONLY */);
  if (ufd >= 0) {
    close(static_cast<int>(ufd));
    verdict += "; userfaultfd ok";
  } else {
    verdict += std::string("; userfaultfd: ") + std::strerror(errno);
  }
  munmap(p, ps);
  return verdict;
}

}  // namespace rca::lab
