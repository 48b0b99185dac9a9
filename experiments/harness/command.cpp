#include "command.hpp"

#include <sys/resource.h>
#include <sys/wait.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>

extern char **environ;

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

namespace {
double monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}
}  // namespace

process_output run_process(const std::vector<std::string> &argv,
                           const std::vector<std::pair<std::string, std::string>> &env) {
  process_output o;
  if (argv.empty()) return o;
  std::vector<std::string> vars;
  for (char **e = environ; *e; ++e) {
    bool replaced = false;
    for (const auto &[name, value] : env)
      replaced |= std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=';
    if (!replaced) vars.emplace_back(*e);
  }
  for (const auto &[name, value] : env)
    if (!value.empty()) vars.push_back(name + "=" + value);
  std::vector<char *> cargv, cenv;
  for (const auto &a : argv) cargv.push_back(const_cast<char *>(a.c_str()));
  cargv.push_back(nullptr);
  for (auto &v : vars) cenv.push_back(v.data());
  cenv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return o;
  std::fflush(nullptr);  // nothing buffered here may be written twice by the child
  const double t0 = monotonic_ms();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return o;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execve(cargv[0], cargv.data(), cenv.data());
    const char *why = std::strerror(errno);
    (void)!write(2, "exec failed: ", 13);
    (void)!write(2, why, std::strlen(why));
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    o.out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int st = 0;
  rusage ru{};
  while (wait4(pid, &st, 0, &ru) < 0)
    if (errno != EINTR) return o;
  o.wall_ms = monotonic_ms() - t0;
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  auto ms = [](const timeval &tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  o.cpu_ms = ms(ru.ru_utime) + ms(ru.ru_stime);
  o.max_rss_kib = static_cast<double>(ru.ru_maxrss);
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
