// What every experiment gets (flags, a row sink, the environment, counters) and gives back: rows.
// Verdicts are not decided here: experiments/plots/verdicts.py judges the rows (one rule table).
#pragma once

#include "../harness/counters.hpp"
#include "../harness/environment.hpp"
#include "../harness/measure.hpp"
#include "../harness/rows.hpp"
#include "options.hpp"

#include <string>
#include <vector>

namespace rca::lab {

struct context {
  const options &opt;
  sink &out;
  const environment &env;
  counter_group &counters;

  /// A row with the schema version, the environment, experiment and claim filled in.
  row base(const char *experiment, const char *claim) const;
  /// One human-readable line on stderr (rows go to the sink, never here).
  void note(const char *fmt, ...) const __attribute__((format(printf, 2, 3)));
};

/// True when the min..max ranges of a's and b's repetitions do not overlap: a difference inside
/// the repetitions' own scatter is not called a difference.
bool beyond_noise(const summary &a, const summary &b);

}  // namespace rca::lab
