#include "command.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <sstream>

namespace rca::lab {

command_output run_command(const std::string &cmd, bool with_stderr) {
  command_output o;
  FILE *p = popen((with_stderr ? cmd + " 2>&1" : cmd).c_str(), "r");
  if (!p) return o;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) o.out.append(buf, n);
  const int st = pclose(p);
  if (st == -1) return o;
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return o;
}

std::string run_capture(const std::string &cmd) {
  command_output o = run_command(cmd, /*with_stderr=*/false);
  while (!o.out.empty() && (o.out.back() == '\n' || o.out.back() == '\r')) o.out.pop_back();
  return o.out;
}

std::vector<key_values> key_value_lines(const std::string &text, const std::string &prefix) {
  std::vector<key_values> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    key_values kv;
    std::istringstream words(line.substr(prefix.size()));
    for (std::string w; words >> w;) {
      const auto eq = w.find('=');
      if (eq != std::string::npos) kv[w.substr(0, eq)] = w.substr(eq + 1);
    }
    v.push_back(std::move(kv));
  }
  return v;
}

}  // namespace rca::lab
