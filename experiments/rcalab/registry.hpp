// The subcommand table of rcalab.
#pragma once

#include "experiment.hpp"

#include <vector>

namespace rca::lab {

using run_fn = int (*)(context &);

struct subcommand {
  const char *name;   ///< rcalab <name>
  const char *claim;  ///< C1..C7, or "-"
  const char *tests;  ///< one line: what it measures (shown by list and --help)
  run_fn run;         ///< returns 0, or an exit status
  bool in_all;        ///< part of `rcalab all`
};

const std::vector<subcommand> &subcommands();
const subcommand *find_subcommand(const std::string &name);

}  // namespace rca::lab
