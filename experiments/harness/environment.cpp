#include "environment.hpp"

#include "counters.hpp"
#include "pages.hpp"
#include "rows.hpp"

#include <rca/rca.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef RCALAB_CXX_FLAGS
#define RCALAB_CXX_FLAGS "unknown"
#endif
#ifndef RCALAB_BUILD_TYPE
#define RCALAB_BUILD_TYPE "unknown"
#endif
#ifndef RCALAB_SOURCE_DIR
#define RCALAB_SOURCE_DIR "."
#endif
#ifndef RCALAB_GIT_REV
#define RCALAB_GIT_REV "unknown"
#endif
#ifndef RCALAB_BENCH_BINARY
#define RCALAB_BENCH_BINARY ""
#endif

namespace rca::lab {

const std::string &environment::get(const std::string &key) const {
  for (const auto &[k, v] : fields)
    if (k == key) return v;
  throw std::out_of_range("environment: no field " + key);
}

void environment::apply(row &r) const {
  for (const auto &[k, v] : fields) r.set(k, v);
}

namespace {

std::string read_first_line(const char *path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      std::string m = p == std::string::npos ? line : line.substr(p + 2);
      return m;
    }
  }
  return "unknown";
}

std::string thp_mode() {
  std::string s = read_first_line("/sys/kernel/mm/transparent_hugepage/enabled");
  auto a = s.find('['), b = s.find(']');
  return a != std::string::npos && b != std::string::npos ? s.substr(a + 1, b - a - 1) : "unknown";
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

std::string git_revision() {
  // The tree may have moved on since the build: ask git now, fall back to the configure-time rev.
  std::string rev =
      run_capture("git -C '" RCALAB_SOURCE_DIR "' rev-parse --short=12 HEAD 2>/dev/null");
  if (rev.empty()) return RCALAB_GIT_REV;
  std::string dirty =
      run_capture("git -C '" RCALAB_SOURCE_DIR
                  "' status --porcelain --untracked-files=no 2>/dev/null | head -1");
  return dirty.empty() ? rev : rev + "-dirty";
}

std::string paper_rows_refusal(const std::string &out_dir, const std::string &source_dir,
                               const std::string &git_rev, bool scratch) {
  namespace fs = std::filesystem;
  const bool dirty = git_rev.size() > 6 && git_rev.compare(git_rev.size() - 6, 6, "-dirty") == 0;
  if (!dirty || scratch) return "";
  std::error_code ec;
  const fs::path results = fs::weakly_canonical(fs::path(source_dir) / "papers" / "results", ec);
  const fs::path out = fs::weakly_canonical(fs::absolute(out_dir, ec), ec);
  auto r = results.begin(), o = out.begin();
  for (; r != results.end() && o != out.end() && *r == *o; ++r, ++o) {
  }
  if (r != results.end()) return "";  // not under papers/results/
  return "refusing to write rows for the paper (" + out_dir + ") from the uncommitted revision " +
         git_rev + ": commit first, or pass --scratch (the rows then carry the -dirty revision)";
}

namespace {

std::string date_utc() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Google Benchmark as Debian ships it: ask the library itself (its JSON context says how it was
// built) and the linker (whether libpfm is linked), so the row says it rather than assumes it.
std::string benchmark_lib() {
  std::string ver = run_capture("dpkg-query -W -f='${Version}' libbenchmark1debian 2>/dev/null");
  std::string bin = RCALAB_BENCH_BINARY;
  std::string build = "unknown", pfm = "unknown";
  if (!bin.empty() && access(bin.c_str(), X_OK) == 0) {
    std::string ctx = run_capture("'" + bin +
                                  "' --benchmark_filter=^probe$ --benchmark_min_time=0.001 "
                                  "--benchmark_format=json 2>/dev/null | grep library_build_type");
    auto q = ctx.find(": \"");
    if (q != std::string::npos) build = ctx.substr(q + 3, ctx.rfind('"') - q - 3);
    std::string libs = run_capture("ldd '" + bin + "' 2>/dev/null");
    pfm = libs.find("libpfm") != std::string::npos ? "yes" : "no";
  }
  return "libbenchmark " + (ver.empty() ? std::string("unknown") : ver) +
         "; library_build_type=" + build + "; libpfm=" + pfm;
}

}  // namespace

std::string default_label() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::string s;
  for (char *c = host; *c && *c != '.'; ++c) {
    char ch = *c;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_';
    s += ok ? ch : '_';
  }
  return s.empty() ? "local" : s;
}

environment collect_environment(const std::string &label, bool pinned) {
  environment env;
  utsname u{};
  uname(&u);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  counter_group probe(false);
  // A nested run (aliasing under callgrind, alloc workers) needs no probes: they fork and run
  // tools.
  const bool nested = std::getenv("RCALAB_NESTED") != nullptr;
  auto probe_or_skip = [nested](std::string (*f)()) {
    return nested ? std::string("skipped (nested run)") : f();
  };
  std::ostringstream rv;
  rv << RCA_VERSION_MAJOR << '.' << RCA_VERSION_MINOR << '.' << RCA_VERSION_PATCH;
  std::string cores = std::to_string(sysconf(_SC_NPROCESSORS_ONLN));
  env.fields = {
      {"label", label},
      {"host", host},
      {"cpu_model", cpu_model()},
      {"cores", cores},
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"compiler", compiler()},
      {"cxx_flags", RCALAB_CXX_FLAGS},
      {"build_type", RCALAB_BUILD_TYPE},
      {"git_rev", git_revision()},
      {"thp", thp_mode()},
      {"date", date_utc()},
      {"pinned", pinned ? "yes" : "no"},
      {"perf_paranoid", read_first_line("/proc/sys/kernel/perf_event_paranoid")},
      {"hw_counters", probe.available_list(true)},
      {"sw_counters", probe.available_list(false)},
      {"soft_dirty", probe_or_skip(probe_soft_dirty)},
      {"pagemap_exclusive", probe_or_skip(probe_pagemap_exclusive)},
      {"pagemap_scan", probe_or_skip(probe_pagemap_scan)},
      {"benchmark_lib", probe_or_skip(benchmark_lib)},
      {"rca_version", rv.str()},
  };
  // Keep the order of environment_columns(), whatever order the list above is written in.
  std::vector<std::pair<std::string, std::string>> ordered;
  for (const auto &c : environment_columns())
    for (auto &f : env.fields)
      if (f.first == c) ordered.push_back(f);
  env.fields = std::move(ordered);
  return env;
}

}  // namespace rca::lab
