#include "options.hpp"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

namespace rca::lab {
namespace {

std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// "64", "16K", "1G" (bytes, 1024-based) or "1m", "100k" (counts, 1000-based).
bool parse_size(const std::string &s, bool bytes, std::size_t &out) {
  if (s.empty()) return false;
  errno = 0;
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno || end == s.c_str() || v < 0) return false;
  std::string suf(end);
  double mul = 1;
  const double k = bytes ? 1024.0 : 1000.0;
  if (suf == "k" || suf == "K" || suf == "KiB") mul = k;
  else if (suf == "m" || suf == "M" || suf == "MiB") mul = k * k;
  else if (suf == "g" || suf == "G" || suf == "GiB") mul = k * k * k;
  else if (!suf.empty()) return false;
  out = static_cast<std::size_t>(v * mul);
  return true;
}

bool parse_int(const std::string &s, long lo, long hi, long &out) {
  if (s.empty()) return false;
  errno = 0;
  char *end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  out = v;
  return true;
}

}  // namespace

const char *options_help() {
  return "Flags (lists are comma-separated; every subcommand accepts every flag, and ignores\n"
         "those it has no use for):\n"
         "  --placement LIST   inline,embedded,shared,thread,padded,computed (default: all that "
         "apply)\n"
         "  --handle-kind LIST pointer,index (default: both where the placement allows)\n"
         "  --slot-bits LIST   32,64 (default: 32; cow: 32,64)\n"
         "  --semantics LIST   plain,atomic,biased (default: per experiment)\n"
         "  --backend LIST     system,mimalloc,jemalloc (alloc; default: all available);\n"
         "                     malloc: system,mimalloc,jemalloc,rca as the process's malloc\n"
         "  --objects LIST     object counts, k/m suffixes (1000-based)\n"
         "  --working-set LIST bytes, K/M/G suffixes (1024-based; indirection)\n"
         "  --object-bytes N   object size including rca's header (default 64)\n"
         "  --threads LIST     thread counts (default: 1..cores, at least 1,2)\n"
         "  --children K       cow: fork children per configuration\n"
         "  --stride K         cow: sparse traversal touches every K-th object\n"
         "  --workloads LIST   malloc: workloads to run (default: all; rcalab malloc --help)\n"
         "  --malloc-lib LIST  malloc: NAME=PATH, the library preloaded for allocator NAME "
         "(mimalloc, jemalloc, rca) instead of the default\n"
         "  --callgrind MODE   aliasing, indirection, threads, alloc: auto|on|off (simulated "
         "counts when hardware counters are absent)\n"
         "  --ops N            operations per repetition, k/m suffixes (default: per experiment, "
         "larger without --quick)\n"
         "  --reps N           measured repetitions (default 5, at least 1)\n"
         "  --warmup N         unmeasured warm-up runs (default 1)\n"
         "  --quick            small configuration (rcalab all --quick: < 5 minutes on 2 cores)\n"
         "  --pin              pin measured threads to CPUs\n"
         "  --scratch          allow rows under papers/results/ from an uncommitted revision\n"
         "                     (refused otherwise; the rows' git_rev then ends in -dirty)\n"
         "  --seed N           random seed (default 42)\n"
         "  --out DIR|-        results folder (default papers/results/<label>); '-' = rows on "
         "stdout\n"
         "  --format F         csv|json|both (default both; stdout: csv unless json)\n"
         "  --label L          results label (default: short host name)\n"
         "  --help             this text\n";
}

std::string placement_list_name(const std::vector<rca_placement_t> &v) {
  std::string s;
  for (auto p : v) s += (s.empty() ? "" : ",") + std::string(rca_placement_name(p));
  return s;
}

bool parse_options(const std::vector<std::string> &args, options &opt, std::string &err) {
  using setter = std::function<bool(const std::string &)>;
  auto list_of = [&](auto parse_one) {
    return [parse_one](const std::string &v) {
      auto items = split(v);
      if (items.empty()) return false;
      for (const auto &i : items)
        if (!parse_one(i)) return false;
      return true;
    };
  };
  std::map<std::string, setter> with_value = {
      {"--placement", list_of([&](const std::string &s) {
         rca_placement_t p;
         if (rca_placement_parse(s.c_str(), &p) != 0) return false;
         opt.placements.push_back(p);
         return true;
       })},
      {"--handle-kind", list_of([&](const std::string &s) {
         rca_handle_kind_t h;
         if (rca_handle_kind_parse(s.c_str(), &h) != 0) return false;
         opt.handle_kinds.push_back(h);
         return true;
       })},
      {"--backend", list_of([&](const std::string &s) {
         rca_backend_t b;
         if (rca_backend_parse(s.c_str(), &b) != 0) return false;
         opt.backends.push_back(b);
         return true;
       })},
      {"--semantics", list_of([&](const std::string &s) {
         if (s != "plain" && s != "atomic" && s != "biased") return false;
         opt.semantics.push_back(s);
         return true;
       })},
      {"--slot-bits", list_of([&](const std::string &s) {
         if (s != "32" && s != "64") return false;
         opt.slot_bits.push_back(static_cast<unsigned>(std::stoul(s)));
         return true;
       })},
      {"--objects", list_of([&](const std::string &s) {
         std::size_t n;
         if (!parse_size(s, false, n) || n == 0) return false;
         opt.objects.push_back(n);
         return true;
       })},
      {"--working-set", list_of([&](const std::string &s) {
         std::size_t n;
         if (!parse_size(s, true, n) || n == 0) return false;
         opt.working_sets.push_back(n);
         return true;
       })},
      {"--threads", list_of([&](const std::string &s) {
         long n;
         if (!parse_int(s, 1, 1024, n)) return false;
         opt.threads.push_back(static_cast<unsigned>(n));
         return true;
       })},
      {"--object-bytes",
       [&](const std::string &s) {
         std::size_t n;
         if (!parse_size(s, true, n) || n < 32 || n > (1u << 20)) return false;
         opt.object_bytes = n;
         return true;
       }},
      {"--children",
       [&](const std::string &s) {
         long n;
         if (!parse_int(s, 1, 1000, n)) return false;
         opt.children = static_cast<int>(n);
         return true;
       }},
      {"--stride",
       [&](const std::string &s) {
         long n;
         if (!parse_int(s, 1, 1L << 30, n)) return false;
         opt.stride = static_cast<std::size_t>(n);
         return true;
       }},
      {"--workloads", list_of([&](const std::string &s) {
         opt.workloads.push_back(s);
         return true;
       })},
      {"--malloc-lib", list_of([&](const std::string &s) {
         const auto eq = s.find('=');
         if (eq == 0 || eq == std::string::npos || eq + 1 == s.size()) return false;
         opt.malloc_libs.emplace_back(s.substr(0, eq), s.substr(eq + 1));
         return true;
       })},
      {"--callgrind",
       [&](const std::string &s) {
         if (s != "auto" && s != "on" && s != "off") return false;
         opt.callgrind = s;
         return true;
       }},
      {"--alloc-worker",
       [&](const std::string &s) {  // internal, see alloc.cpp
         if (s != "jemalloc" && s != "mimalloc") return false;
         opt.alloc_worker = s;
         return true;
       }},
      {"--ops",
       [&](const std::string &s) {
         std::size_t n;
         if (!parse_size(s, false, n) || n == 0) return false;
         opt.ops = n;
         return true;
       }},
      {"--reps",
       [&](const std::string &s) {
         long n;
         if (!parse_int(s, 1, 100000, n)) return false;
         opt.reps = static_cast<int>(n);
         return true;
       }},
      {"--warmup",
       [&](const std::string &s) {
         long n;
         if (!parse_int(s, 0, 1000, n)) return false;
         opt.warmup = static_cast<int>(n);
         return true;
       }},
      {"--seed",
       [&](const std::string &s) {
         long n;
         if (!parse_int(s, 0, 1L << 62, n)) return false;
         opt.seed = static_cast<std::uint64_t>(n);
         return true;
       }},
      {"--out",
       [&](const std::string &s) {
         if (s.empty()) return false;
         opt.out = s;
         return true;
       }},
      {"--format",
       [&](const std::string &s) {
         if (s == "csv") opt.fmt = format::csv;
         else if (s == "json") opt.fmt = format::json;
         else if (s == "both") opt.fmt = format::both;
         else return false;
         return true;
       }},
      {"--label",
       [&](const std::string &s) {
         if (s.empty() || s.find('/') != std::string::npos) return false;
         opt.label = s;
         return true;
       }},
  };
  std::map<std::string, bool *> switches = {{"--quick", &opt.quick},
                                            {"--pin", &opt.pin},
                                            {"--scratch", &opt.scratch},
                                            {"--help", &opt.help},
                                            {"-h", &opt.help}};

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    bool has_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    if (auto s = switches.find(a); s != switches.end()) {
      if (has_value) {
        err = "flag " + a + " takes no value";
        return false;
      }
      *s->second = true;
      continue;
    }
    auto w = with_value.find(a);
    if (w == with_value.end()) {
      err = a.rfind("-", 0) == 0 ? "unknown flag '" + a + "'" : "unexpected argument '" + a + "'";
      return false;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        err = "flag " + a + " needs a value";
        return false;
      }
      value = args[++i];
    }
    if (!w->second(value)) {
      err = "bad value '" + value + "' for " + a;
      return false;
    }
  }
  return true;
}

}  // namespace rca::lab
