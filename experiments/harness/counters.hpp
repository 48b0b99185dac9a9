// Counters around a measured region: perf_event_open groups (hardware and software), read as
// one set. An event the kernel refuses stays unavailable (std::nullopt, written as NA), never 0.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

namespace rca::lab {

/// The events rcalab asks for, in row-schema order.
enum class event : unsigned {
  cycles,
  instructions,
  branch_misses,
  l1d_read_misses,
  llc_misses,
  dtlb_misses,
  page_faults,
  minor_faults,
  major_faults,
  context_switches,
  task_clock_ns,
  count
};
inline constexpr std::size_t kEventCount = static_cast<std::size_t>(event::count);

/// Column name of an event (as in the row schema).
const char *event_name(event e);

/// One reading: a value per event, or nullopt where the event is unavailable.
struct counter_values {
  std::array<std::optional<double>, kEventCount> v{};
  std::optional<double> &operator[](event e) { return v[static_cast<std::size_t>(e)]; }
  const std::optional<double> &operator[](event e) const { return v[static_cast<std::size_t>(e)]; }
};

/// Opens every event once (hardware events as one group, software events as another, so each
/// group is scheduled together); `inherit` also counts threads created after construction.
/// Regions may be measured any number of times; not thread-safe.
class counter_group {
 public:
  explicit counter_group(bool inherit = true);
  ~counter_group();
  counter_group(const counter_group &) = delete;
  counter_group &operator=(const counter_group &) = delete;

  /// Reset and enable every open event, and remember where it stands. Regions are measured as
  /// differences from that point: a reset does not clear what exited child threads and
  /// processes (inherit) have added, so after the first fork or thread exit the reset alone
  /// would read wrong. (The reset makes the kernel's enabled/running times start afresh.)
  void start();
  counter_values stop();  ///< read and disable; unopened or never-scheduled events are nullopt

  bool available(event e) const { return fd_[static_cast<std::size_t>(e)] >= 0; }
  /// Why an event is unavailable ("" when it is available), e.g. "ENOENT (not supported)".
  const std::string &why(event e) const { return why_[static_cast<std::size_t>(e)]; }
  /// "cycles instructions ..." (space-separated) of the events that opened, or "none".
  std::string available_list(bool hardware) const;

 private:
  std::array<int, kEventCount> fd_{};
  std::array<std::array<unsigned long long, 3>, kEventCount>
      at_start_{};  // value, enabled, running
  std::array<std::string, kEventCount> why_{};
  int hw_leader_ = -1, sw_leader_ = -1;
};

}  // namespace rca::lab
