#include "cow_probe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rca::vms {
namespace {

constexpr std::uint64_t kPresent = 1ull << 63;
constexpr std::uint64_t kExclusive = 1ull << 56;
constexpr std::size_t kMaxRanges = 4096;
constexpr std::size_t kChunk = 8192;  // pagemap entries read at once
constexpr std::uintptr_t kMaxRangeBytes = std::uintptr_t(16) << 30;

struct range {
  std::uintptr_t lo, hi;
  std::size_t bit0;  // first bit of this range in the bitmap
};

void *map(std::size_t bytes) {
  void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

struct cow_probe {
  cow_range rc, gc;
  cow_range skip[16];
  std::size_t nskip;
  int pagemap;
  std::size_t page;
  std::size_t nranges;
  range ranges[kMaxRanges];
  std::uint64_t *bitmap;  // 1 = present and shared at cow_begin
  std::size_t bitmap_bytes;
  std::uint64_t *entries;  // kChunk pagemap entries
};

namespace {

// Writable private mappings of the process (heap, anonymous memory, library data), without
// the stack and the kernel's special mappings.
bool read_ranges(cow_probe *p) {
  const std::size_t cap = 1u << 22;
  char *buf = static_cast<char *>(map(cap));
  if (!buf) return false;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    munmap(buf, cap);
    return false;
  }
  std::size_t len = 0;
  for (ssize_t n; len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0;)
    len += std::size_t(n);
  close(fd);
  buf[len] = 0;
  std::size_t bits = 0;
  for (char *line = buf; *line && p->nranges < kMaxRanges;) {
    char *end = std::strchr(line, '\n');
    if (end) *end = 0;
    unsigned long lo = 0, hi = 0;
    char perms[8] = {0};
    int path_at = 0;
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path_at) >= 3) {
      const char *path = line + path_at;
      const bool special = std::strncmp(path, "[stack", 6) == 0 || std::strncmp(path, "[v", 2) == 0;
      const bool own = reinterpret_cast<std::uintptr_t>(buf) == lo;
      // Larger than any heap here: a sanitizer's shadow reservation (terabytes, almost nothing
      // present), whose pagemap would take minutes to read.
      const bool huge = hi - lo > kMaxRangeBytes;
      if (perms[1] == 'w' && perms[3] == 'p' && !special && !own && !huge) {
        p->ranges[p->nranges++] = range{lo, hi, bits};
        bits += (hi - lo) / p->page;
      }
    }
    if (!end) break;
    line = end + 1;
  }
  munmap(buf, cap);
  p->bitmap_bytes = ((bits + 63) / 64) * 8 + 8;
  p->bitmap = static_cast<std::uint64_t *>(map(p->bitmap_bytes));
  return p->bitmap != nullptr;
}

// Calls fn(bit, address, entry) for every page of every range.
template <class F>
bool scan(cow_probe *p, F fn) {
  for (std::size_t r = 0; r < p->nranges; ++r) {
    const range &rg = p->ranges[r];
    const std::size_t pages = (rg.hi - rg.lo) / p->page;
    for (std::size_t done = 0; done < pages;) {
      const std::size_t n = pages - done < kChunk ? pages - done : kChunk;
      const off_t off = off_t((rg.lo / p->page + done) * 8);
      const ssize_t got = pread(p->pagemap, p->entries, n * 8, off);
      if (got < 0) return false;
      const std::size_t m = std::size_t(got) / 8;
      if (m == 0) break;  // the mapping went away
      for (std::size_t i = 0; i < m; ++i)
        fn(rg.bit0 + done + i, rg.lo + (done + i) * p->page, p->entries[i]);
      done += m;
    }
  }
  return true;
}

}  // namespace

cow_probe *cow_begin(cow_range rc, cow_range gc, const cow_range *skip, std::size_t nskip) {
  auto *p = static_cast<cow_probe *>(map(sizeof(cow_probe)));
  if (!p) return nullptr;
  p->rc = rc;
  p->gc = gc;
  p->nskip = nskip < 16 ? nskip : 16;
  for (std::size_t i = 0; i < p->nskip; ++i) p->skip[i] = skip[i];
  p->page = std::size_t(sysconf(_SC_PAGESIZE));
  p->entries = static_cast<std::uint64_t *>(map(kChunk * 8));
  p->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (!p->entries || p->pagemap < 0 || !read_ranges(p)) {
    std::fprintf(stderr, "cow_probe: cannot read /proc/self/maps or pagemap: %s\n",
                 std::strerror(errno));
    if (p->pagemap >= 0) close(p->pagemap);
    munmap(p, sizeof(cow_probe));
    return nullptr;
  }
  const bool ok = scan(p, [p](std::size_t bit, std::uintptr_t addr, std::uint64_t e) {
    for (std::size_t i = 0; i < p->nskip; ++i)
      if (addr >= p->skip[i].lo && addr < p->skip[i].hi) return;
    if ((e & kPresent) && !(e & kExclusive)) p->bitmap[bit / 64] |= 1ull << (bit % 64);
  });
  if (!ok) {
    cow_counts ignored;
    cow_end(p, &ignored);
    return nullptr;
  }
  return p;
}

std::size_t list_mappings(cow_range *out, std::size_t cap) {
  const std::size_t bytes = 1u << 22;
  char *buf = static_cast<char *>(map(bytes));
  if (!buf) return 0;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  std::size_t len = 0, n = 0;
  if (fd >= 0) {
    for (ssize_t r; len < bytes - 1 && (r = read(fd, buf + len, bytes - 1 - len)) > 0;)
      len += std::size_t(r);
    close(fd);
  }
  buf[len] = 0;
  for (char *line = buf; *line && n < cap;) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line, "%lx-%lx", &lo, &hi) == 2) out[n++] = cow_range{lo, hi};
    char *end = std::strchr(line, '\n');
    if (!end) break;
    line = end + 1;
  }
  munmap(buf, bytes);
  return n;
}

bool cow_end(cow_probe *p, cow_counts *out) {
  *out = cow_counts{};
  const bool ok = scan(p, [p, out](std::size_t bit, std::uintptr_t addr, std::uint64_t e) {
    const bool gc = addr >= p->gc.lo && addr < p->gc.hi;
    const bool exclusive = (e & kPresent) && (e & kExclusive);
    if (!(p->bitmap[bit / 64] & (1ull << (bit % 64)))) {
      if (gc && exclusive) out->gc_new++;
      return;
    }
    const bool rc = addr >= p->rc.lo && addr < p->rc.hi;
    (rc ? out->rc_shared : gc ? out->gc_shared : out->obj_shared)++;
    if (exclusive) (rc ? out->rc_private : gc ? out->gc_private : out->obj_private)++;
  });
  close(p->pagemap);
  if (p->bitmap) munmap(p->bitmap, p->bitmap_bytes);
  if (p->entries) munmap(p->entries, kChunk * 8);
  munmap(p, sizeof(cow_probe));
  return ok;
}

}  // namespace rca::vms
