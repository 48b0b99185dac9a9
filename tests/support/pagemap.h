// Which pages a fork child wrote: in a child, /proc/self/pagemap bit 56 ("exclusively mapped")
// turns on for an inherited private page once the child writes it (copy-on-write happened) and
// stays off for pages it only read. Soft-dirty bits are compiled out of these kernels. Reading
// uses only open/pread/close: no malloc in the child, which could itself dirty object pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <unistd.h>

namespace rca_test {

inline constexpr std::uint64_t kPagemapPresent = std::uint64_t(1) << 63;
inline constexpr std::uint64_t kPagemapExclusive = std::uint64_t(1) << 56;

/// Counts pages in `pages[0..n)` (page-aligned addresses) that are present and exclusive.
/// -1 when pagemap cannot be read.
inline long count_exclusive(const std::uintptr_t *pages, std::size_t n) {
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return -1;
  long count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t e = 0;
    if (pread(fd, &e, sizeof e, static_cast<off_t>(pages[i] / 4096 * sizeof e)) != sizeof e) {
      close(fd);
      return -1;
    }
    if ((e & kPagemapPresent) && (e & kPagemapExclusive)) ++count;
  }
  close(fd);
  return count;
}

}  // namespace rca_test
