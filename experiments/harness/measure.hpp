// Repetitions: warm-up runs kept apart, then `reps` measured runs, each with its counters;
// medians with min/max; rows for every raw value and one summary row per series.
#pragma once

#include "counters.hpp"
#include "rows.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace rca::lab {

double now_ns();

/// One measured repetition: the value of the metric and the counters of its region.
struct sample {
  double value = 0;
  counter_values counters;
};

struct summary {
  double median = 0, min = 0, max = 0;
  double spread() const { return median != 0 ? (max - min) / median : 0; }
};
summary summarize(std::vector<double> v);  ///< v must not be empty

/// Repetitions of one configuration beside those of the configuration it is compared with.
struct compared_series {
  std::vector<double> a, b;
};
struct interval {
  double lo = 0, hi = 0;
};
/// 95 % percentile-bootstrap interval of the geometric mean over `series` of median(a)/median(b)
/// (one series: the ratio of medians). Paired: a[i] and b[i] ran back to back (interleaved), so one
/// index is drawn for both and noise shared by a repetition cancels; otherwise each is resampled
/// alone. Fixed seed, so the same rows give the same interval (the rule is experiments/plots/
/// verdicts.py's bootstrap_ratio). NaN bounds when a series is empty.
interval bootstrap_ratio(const std::vector<compared_series> &series, bool paired,
                         int resamples = 2000);

/// Runs `body` warmup times unmeasured, then reps times between counters.start/stop.
/// body returns the metric's value for that run (e.g. ns per op).
std::vector<sample> repeat(counter_group &counters, int warmup, int reps,
                           const std::function<double()> &body);

/// Like repeat() for several bodies whose results will be compared: repetition i of every body
/// runs before repetition i+1 of any, so a burst of noise from elsewhere on the machine lands on
/// all of them instead of on one series. Returns one series per body.
std::vector<std::vector<sample>> repeat_interleaved(
    counter_group &counters, int warmup, int reps,
    const std::vector<std::function<double()>> &bodies);

/// Writes one raw row per sample (stat=raw, rep=i) and a summary row (stat=median, with min,
/// max, n, spread; counters are medians of the available values, NA when any rep lacked them).
/// Returns the summary.
class sink;
summary emit_series(sink &out, const std::string &experiment, const row &base,
                    const std::string &metric, const std::string &unit,
                    const std::vector<sample> &samples);

/// The same repetitions as CPU time per operation: task-clock / ops_per_rep, or an empty series
/// when the task clock was not available in every repetition. On a shared machine wall time also
/// counts the time other jobs held the CPU; task-clock counts only this process's running time.
std::vector<sample> cpu_per_op(const std::vector<sample> &samples, double ops_per_rep);

/// Pins the calling thread to cpu (mod the online count). False when refused.
bool pin_thread(unsigned cpu);

}  // namespace rca::lab
