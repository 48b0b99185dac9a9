#include "memory.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fstream>
#include <sstream>

namespace rca::lab {

std::map<std::string, std::uint64_t> smaps_rollup(int pid) {
  std::map<std::string, std::uint64_t> out;
  std::ifstream f(pid ? "/proc/" + std::to_string(pid) + "/smaps_rollup"
                      : std::string("/proc/self/smaps_rollup"));
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

family_memory measure_family(int workers, const std::function<void()> &op) {
  // ready: each worker writes one byte after its op; go: the parent closes it to let them exit.
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) throw std::runtime_error("measure_family: pipe failed");
  std::vector<pid_t> pids;
  // Nothing buffered may be written twice: a child leaves by _exit, but TSan's _exit flushes
  // every stdio stream (rows on stdout came out twice, torn, in the tsan preset).
  std::fflush(nullptr);
  for (int w = 0; w < workers; ++w) {
    pid_t pid = fork();
    if (pid < 0) {
      for (pid_t p : pids) kill(p, SIGKILL);
      for (pid_t p : pids) waitpid(p, nullptr, 0);
      throw std::runtime_error(std::string("measure_family: fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      close(ready[0]);
      close(go[1]);
      op();
      char c = 1;
      ssize_t n = write(ready[1], &c, 1);
      (void)n;
      while (read(go[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  close(ready[1]);
  close(go[0]);
  for (int w = 0; w < workers; ++w) {
    char c;
    ssize_t n;
    while ((n = read(ready[0], &c, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) break;  // a worker died: measured below as unavailable
  }
  family_memory m;
  m.available = true;
  auto add = [&](int pid, bool worker) {
    auto f = smaps_rollup(pid);
    if (!f.count("Pss") || !f.count("Rss")) {
      m.available = false;
      return;
    }
    m.pss_total += f["Pss"];
    m.rss_total += f["Rss"];
    if (worker) {
      m.pss_workers += f["Pss"];
      m.rss_workers += f["Rss"];
      m.private_dirty_workers += f["Private_Dirty"];
    }
  };
  add(0, false);
  for (pid_t p : pids) add(p, true);
  close(go[1]);
  close(ready[0]);
  for (pid_t p : pids) {
    int st = 0;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) m.available = false;
  }
  return m;
}

}  // namespace rca::lab
