// Process memory snapshots from /proc/<pid>/smaps_rollup.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace rca::lab {

/// Fields of /proc/<pid>/smaps_rollup in bytes ("Rss", "Pss", "Private_Dirty", ...); empty when
/// the file cannot be read. pid 0 = this process.
std::map<std::string, std::uint64_t> smaps_rollup(int pid = 0);

/// Memory of a forked family: the parent and `workers` children that each ran `op` and then
/// waited, all alive at once when measured. Summed Pss is the physical memory the family holds
/// (a page shared by k processes counts 1/k in each); summed Rss counts every shared page once
/// per process. Both from smaps_rollup; `available` is false when it cannot be read.
struct family_memory {
  bool available = false;
  std::uint64_t pss_total = 0, rss_total = 0;      ///< parent + workers, bytes
  std::uint64_t pss_workers = 0, rss_workers = 0;  ///< workers only, bytes
  std::uint64_t private_dirty_workers = 0;         ///< workers' Private_Dirty, bytes
};
family_memory measure_family(int workers, const std::function<void()> &op);

/// Rss from smaps_rollup, or nullopt.
std::optional<std::uint64_t> rss_bytes();

}  // namespace rca::lab
