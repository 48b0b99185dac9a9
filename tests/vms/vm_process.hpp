// Runs a VM program as a child process and reads what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace rca::vms::test {

struct result {
  int status = -1;  // exit status, or 128 + signal
  std::string out;  // stdout and stderr together
};

inline result run(const std::string &cmd) {
  result r;
  FILE *p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return r;
}

// The lines that start with prefix, each as key=value pairs.
inline std::vector<std::map<std::string, std::string>> lines(const std::string &out, const std::string &prefix) {
  std::vector<std::map<std::string, std::string>> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::map<std::string, std::string> kv;
    std::istringstream words(line.substr(prefix.size()));
    for (std::string w; words >> w;) {
      const auto eq = w.find('=');
      if (eq != std::string::npos) kv[w.substr(0, eq)] = w.substr(eq + 1);
    }
    v.push_back(kv);
  }
  return v;
}

inline long num(const std::map<std::string, std::string> &kv, const std::string &k) {
  auto it = kv.find(k);
  return it == kv.end() ? -1 : std::stol(it->second);
}

}  // namespace rca::vms::test
