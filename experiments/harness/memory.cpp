#include "memory.hpp"

#include <sys/resource.h>

#include <fstream>
#include <sstream>

namespace rca::lab {

usage rusage_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw};
}

std::map<std::string, std::uint64_t> smaps_rollup() {
  std::map<std::string, std::uint64_t> out;
  std::ifstream f("/proc/self/smaps_rollup");
  for (std::string line; std::getline(f, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos || line.find(" kB") == std::string::npos) continue;
    std::istringstream v(line.substr(colon + 1));
    std::uint64_t kb = 0;
    if (v >> kb) out[line.substr(0, colon)] = kb * 1024;
  }
  return out;
}

std::optional<std::uint64_t> rss_bytes() {
  auto m = smaps_rollup();
  auto it = m.find("Rss");
  if (it == m.end()) return std::nullopt;
  return it->second;
}

}  // namespace rca::lab
