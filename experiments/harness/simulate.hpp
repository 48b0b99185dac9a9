// Deterministic counts of measured regions: rcalab runs itself again under callgrind with cache
// simulation and an explicit cache geometry, and every region bracketed by a sim_region there is
// dumped under its label. Instructions and simulated misses do not move with the machine's load,
// so they decide where time cannot (the timing noise here is 5-18 % between identical runs).
#pragma once

#include <map>
#include <string>

namespace rca::lab {

/// The simulated machine: 32 KiB 8-way L1 (I and D), 32 MiB 16-way last level, 64-byte lines.
inline constexpr const char *kSimGeometry = "--I1=32768,8,64 --D1=32768,8,64 --LL=33554432,16,64";
inline constexpr const char *kSimMethod = "callgrind cache-sim I1=32K/8 D1=32K/8 LL=32M/16 line 64";

/// Counts of one region (data misses: reads + writes).
struct sim_counts {
  double instructions = 0, d1_misses = 0, ll_misses = 0;
  /// Callgrind's cycle estimate (KCachegrind's default formula, one weight per level):
  /// Ir + 10 x L1 misses + 100 x LL misses.
  double cycles_estimate() const { return instructions + 10 * d1_misses + 100 * ll_misses; }
};

class row;
class sink;

/// Writes the four per-operation rows of one simulated region (sim_instructions_per_op,
/// sim_d1_misses_per_op, sim_ll_misses_per_op, sim_cycles_per_op; stat raw, rep 0, method
/// kSimMethod) from `base`, which names the configuration.
void emit_sim(sink &out, const std::string &experiment, const row &base, const sim_counts &c,
              double ops);

/// True in the nested run (under valgrind, started by simulate_self).
bool simulating();

/// Brackets one measured region in the nested run: counts from construction to destruction are
/// dumped under `label` (the last dump of a label wins, so warm-up runs may dump too). Does
/// nothing outside the nested run, or with an empty label.
class sim_region {
 public:
  explicit sim_region(const std::string &label);
  ~sim_region();
  sim_region(const sim_region &) = delete;
  sim_region &operator=(const sim_region &) = delete;

 private:
  std::string label_;
  bool on_;
};

/// Runs `/proc/self/exe <args>` under callgrind (collection off outside sim_regions) and returns
/// the counts per label. Empty with `why` set when valgrind is missing or the run failed.
std::map<std::string, sim_counts> simulate_self(const std::string &args, std::string &why);

}  // namespace rca::lab
