// Process memory snapshots: getrusage and /proc/self/smaps_rollup.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace rca::lab {

struct usage {
  long max_rss_kb = 0, minor_faults = 0, major_faults = 0, vol_switches = 0, invol_switches = 0;
};
usage rusage_self();

/// Fields of /proc/self/smaps_rollup in bytes ("Rss", "Pss", "Private_Dirty", ...); empty when
/// the file cannot be read.
std::map<std::string, std::uint64_t> smaps_rollup();

/// Rss from smaps_rollup, or nullopt.
std::optional<std::uint64_t> rss_bytes();

}  // namespace rca::lab
