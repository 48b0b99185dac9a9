#include "simulate.hpp"

#include "environment.hpp"
#include "rows.hpp"

#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace rca::lab {

bool simulating() { return RUNNING_ON_VALGRIND && std::getenv("RCALAB_SIM") != nullptr; }

sim_region::sim_region(const std::string &label)
    : label_(label), on_(!label.empty() && simulating()) {
  if (!on_) return;
  CALLGRIND_ZERO_STATS;
  CALLGRIND_TOGGLE_COLLECT;
}

sim_region::~sim_region() {
  if (!on_) return;
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT(label_.c_str());
}

void emit_sim(sink &out, const std::string &experiment, const row &base, const sim_counts &c,
              double ops) {
  const struct {
    const char *metric, *unit;
    double value;
  } metrics[] = {{"sim_instructions_per_op", "instructions", c.instructions / ops},
                 {"sim_d1_misses_per_op", "misses", c.d1_misses / ops},
                 {"sim_ll_misses_per_op", "misses", c.ll_misses / ops},
                 {"sim_cycles_per_op", "cycles", c.cycles_estimate() / ops}};
  for (const auto &m : metrics) {
    row r = base;
    r.set("method", kSimMethod)
        .set("rep", 0)
        .set("stat", "raw")
        .set("metric", m.metric)
        .set("unit", m.unit);
    r.set("value", m.value).param("cycles_estimate", "Ir+10*D1m+100*LLm");
    out.write(experiment, r);
  }
}

namespace {

// One dump file: "desc: Trigger: Client Request: <label>", "events: Ir ...", "totals: n n ...".
bool parse_dump(const std::string &path, std::string &label, sim_counts &c) {
  std::ifstream in(path);
  std::vector<std::string> events;
  std::vector<double> totals, summary;
  const std::string trigger = "desc: Trigger: Client Request: ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(trigger, 0) == 0) label = line.substr(trigger.size());
    auto words = [&](std::size_t from) {
      std::istringstream ws(line.substr(from));
      std::vector<std::string> out;
      for (std::string w; ws >> w;) out.push_back(w);
      return out;
    };
    if (line.rfind("events:", 0) == 0) events = words(7);
    // "summary:" (and "totals:" when present) list the events' counts, trailing zeros omitted.
    const bool is_totals = line.rfind("totals:", 0) == 0,
               is_summary = line.rfind("summary:", 0) == 0;
    if (is_totals || is_summary)
      for (const auto &w : words(line.find(':') + 1))
        (is_totals ? totals : summary).push_back(std::strtod(w.c_str(), nullptr));
  }
  if (totals.empty()) totals = summary;
  if (label.empty() || events.empty() || totals.empty() || totals.size() > events.size())
    return false;
  totals.resize(events.size(), 0.0);
  c = {};
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i] == "Ir") c.instructions = totals[i];
    if (events[i] == "D1mr" || events[i] == "D1mw") c.d1_misses += totals[i];
    if (events[i] == "DLmr" || events[i] == "DLmw") c.ll_misses += totals[i];
  }
  return true;
}

}  // namespace

std::map<std::string, sim_counts> simulate_self(const std::string &args, std::string &why) {
  std::map<std::string, sim_counts> out;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  why = "a sanitizer build cannot run under valgrind";
  return out;
#endif
  if (run_capture("command -v valgrind").empty()) {
    why = "valgrind not found";
    return out;
  }
  char tmpl[] = "/tmp/rcalab-sim-XXXXXX";
  if (!mkdtemp(tmpl)) {
    why = "mkdtemp failed";
    return out;
  }
  const std::string dir = tmpl;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string cmd =
      "RCALAB_SIM=1 RCALAB_NESTED=1 valgrind --tool=callgrind --cache-sim=yes " +
      std::string(kSimGeometry) + " --collect-atstart=no --callgrind-out-file='" + dir +
      "/cg.out' '" + self + "' " + args + " >/dev/null 2>'" + dir + "/err'; echo $?";
  const std::string status = run_capture(cmd);
  std::error_code ec;
  std::map<std::string, long> dump_of;  // label -> number of the dump kept
  for (const auto &e : std::filesystem::directory_iterator(dir, ec)) {
    std::string label;
    sim_counts c;
    if (e.path().filename().string().rfind("cg.out", 0) == 0 &&
        parse_dump(e.path().string(), label, c)) {
      // Dumps are numbered in order (cg.out.1, .2, ...): keep the last one of each label.
      auto name = e.path().filename().string();
      long seq = std::strtol(name.substr(name.rfind('.') + 1).c_str(), nullptr, 10);
      if (!out.count(label) || dump_of[label] < seq) {
        out[label] = c;
        dump_of[label] = seq;
      }
    }
  }
  if (out.empty()) {
    std::ifstream err(dir + "/err");
    std::string first;
    std::getline(err, first);
    why = "callgrind run failed (exit " + status + "): " + first;
  }
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace rca::lab
