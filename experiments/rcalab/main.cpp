// rcalab: one driver for the experiments behind claims C1-C6 (docs/DESIGN.md section 1).
#include "registry.hpp"

#include "../harness/environment.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#ifndef RCALAB_SOURCE_DIR
#define RCALAB_SOURCE_DIR "."
#endif

namespace rca::lab {
namespace {

constexpr int kUsageError = 2;

void print_usage(FILE *f) {
  std::fprintf(f,
               "usage: rcalab <subcommand> [flags]\n"
               "       rcalab list | all [--quick] [flags] | help\n\n"
               "Subcommands (what each tests):\n");
  for (const auto &s : subcommands())
    std::fprintf(f, "  %-12s %-3s %s\n", s.name, s.claim, s.tests);
  std::fprintf(f, "  %-12s %-3s %s\n\n", "all", "",
               "every experiment above, then the claim table (C1-C6)");
  std::fprintf(f, "%s", options_help());
  std::fprintf(f,
               "\nRows: experiments/README.md (schema). Exit status: 0 ok, 1 an experiment failed, "
               "2 usage.\n");
}

int usage_error(const std::string &sub, const std::string &msg) {
  std::fprintf(stderr, "rcalab%s%s: %s\nTry 'rcalab%s%s --help'.\n", sub.empty() ? "" : " ",
               sub.c_str(), msg.c_str(), sub.empty() ? "" : " ", sub.c_str());
  return kUsageError;
}

// The claim table comes from the one verdict engine (experiments/plots/verdicts.py, the rule
// table the paper uses too), run on the results folder; it also writes <dir>/claims.csv.
// rcalab malloc judges issue 14's targets instead, with the same outcome rule
// (experiments/plots/malloc_table.py, which imports the engine).
void print_claims(const std::string &dir, bool malloc_table) {
  const std::string engine = std::string(RCALAB_SOURCE_DIR) + "/experiments/plots/" +
                             (malloc_table ? "malloc_table.py" : "verdicts.py");
  const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  if (access(engine.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "rcalab: no claim table: %s is missing\n", engine.c_str());
    return;
  }
  std::fflush(nullptr);
  const std::string cmd = std::string(python) + " '" + engine + "' '" + dir + "'" +
                          (malloc_table ? "" : " --csv '" + dir + "/claims.csv'");
  if (std::system(cmd.c_str()) != 0)
    std::fprintf(stderr, "rcalab: no claim table: %s failed (python3 missing?)\n", cmd.c_str());
}

void save_environment(const std::string &dir, const environment &env) {
  std::ofstream f(dir + "/environment.json", std::ios::trunc);
  row r;
  env.apply(r);
  f << to_json(r) << '\n';
}

int run(int argc, char **argv) {
  if (argc < 2) {
    print_usage(stderr);
    return kUsageError;
  }
  const std::string sub = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_usage(stdout);
    return 0;
  }
  if (sub == "list") {
    if (!args.empty()) return usage_error(sub, "takes no arguments");
    for (const auto &s : subcommands()) std::printf("%s\t%s\t%s\n", s.name, s.claim, s.tests);
    return 0;
  }
  std::vector<const subcommand *> todo;
  if (sub == "all") {
    for (const auto &s : subcommands())
      if (s.in_all) todo.push_back(&s);
  } else if (const subcommand *s = find_subcommand(sub)) {
    todo.push_back(s);
  } else {
    return usage_error("", "unknown subcommand '" + sub + "'");
  }

  options opt;
  std::string err;
  if (!parse_options(args, opt, err)) return usage_error(sub, err);
  if (opt.help) {
    if (sub == "all") print_usage(stdout);
    else
      std::printf("rcalab %s (%s): %s\n\n%s", todo[0]->name, todo[0]->claim, todo[0]->tests,
                  options_help());
    return 0;
  }
  if (opt.label.empty()) opt.label = default_label();
  if (opt.out.empty()) opt.out = std::string(RCALAB_SOURCE_DIR) + "/papers/results/" + opt.label;
  if (opt.out != "-") {
    const std::string why =
        paper_rows_refusal(opt.out, RCALAB_SOURCE_DIR, git_revision(), opt.scratch);
    if (!why.empty()) return usage_error(sub, why);
  }

  // --pin: the measuring thread stays on CPU 0 (threads pins its workers to CPUs 0..T-1).
  if (opt.pin && !pin_thread(0)) std::fprintf(stderr, "rcalab: --pin: could not pin to CPU 0\n");
  environment env = collect_environment(opt.label, opt.pin);
  std::unique_ptr<sink> out;
  if (opt.out == "-") out = std::make_unique<sink>(std::cout, opt.fmt);
  else out = std::make_unique<sink>(opt.out, opt.fmt);
  if (opt.out != "-") save_environment(opt.out, env);

  // Counters are opened before any experiment starts threads, so `inherit` covers them.
  counter_group counters(true);
  context ctx{opt, *out, env, counters};
  int status = 0;
  for (const subcommand *s : todo) {
    double t0 = now_ns();
    try {
      int rc = s->run(ctx);
      if (rc != 0) status = rc;
    } catch (const std::exception &e) {
      std::fprintf(stderr, "rcalab %s: failed: %s\n", s->name, e.what());
      status = 1;
    }
    ctx.note("rcalab %s: done in %.1f s", s->name, (now_ns() - t0) / 1e9);
  }
  // The claim table of the results folder (rows on stdout have no folder to judge).
  if (opt.out != "-") {
    print_claims(opt.out, sub == "malloc");
    std::printf("\nrows: %zu, in %s\n", out->rows_written(), opt.out.c_str());
  } else if (sub == "all") {
    std::fprintf(
        stderr,
        "rcalab: rows went to stdout; the claim table needs a results folder (--out DIR)\n");
  }
  return status;
}

}  // namespace
}  // namespace rca::lab

int main(int argc, char **argv) { return rca::lab::run(argc, argv); }
