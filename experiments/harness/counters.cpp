#include "counters.hpp"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace rca::lab {
namespace {

struct event_spec {
  const char *name;
  std::uint32_t type;
  std::uint64_t config;
};

constexpr std::uint64_t cache_event(std::uint64_t cache, std::uint64_t op, std::uint64_t result) {
  return cache | (op << 8) | (result << 16);
}

// Order matches enum event.
constexpr event_spec kSpecs[kEventCount] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"branch_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    {"l1d_read_misses", PERF_TYPE_HW_CACHE,
     cache_event(PERF_COUNT_HW_CACHE_L1D, PERF_COUNT_HW_CACHE_OP_READ,
                 PERF_COUNT_HW_CACHE_RESULT_MISS)},
    {"llc_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"dtlb_misses", PERF_TYPE_HW_CACHE,
     cache_event(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ,
                 PERF_COUNT_HW_CACHE_RESULT_MISS)},
    {"page_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"minor_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
    {"major_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
    {"context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"task_clock_ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
};

int open_event(const event_spec &s, int group_fd, bool inherit, bool exclude_kernel) {
  perf_event_attr a;
  std::memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = s.type;
  a.config = s.config;
  a.disabled = group_fd < 0 ? 1 : 0;  // members follow their leader
  a.inherit = inherit ? 1 : 0;
  a.exclude_kernel = exclude_kernel ? 1 : 0;
  a.exclude_hv = 1;
  // No PERF_FORMAT_GROUP: the kernel refuses it together with inherit; members are read one by
  // one, which still gives values from the same scheduling windows.
  a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  return static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC));
}

bool is_hardware(std::size_t i) { return kSpecs[i].type != PERF_TYPE_SOFTWARE; }

}  // namespace

const char *event_name(event e) { return kSpecs[static_cast<std::size_t>(e)].name; }

counter_group::counter_group(bool inherit) {
  fd_.fill(-1);
  for (std::size_t i = 0; i < kEventCount; ++i) {
    // Software events open alone: they are never multiplexed, and as members of a group their
    // enabled/running times did not advance between regions (task-clock then read as unknown
    // for every repetition after the first). Hardware events share a group to be scheduled
    // together.
    int no_group = -1;
    int &leader = is_hardware(i) ? hw_leader_ : no_group;
    int fd = -1, err = 0;
    // Count user and kernel time where allowed (faults are taken in the kernel); fall back to
    // user-only under a strict perf_event_paranoid.
    for (bool excl : {false, true}) {
      fd = open_event(kSpecs[i], leader, inherit, excl);
      if (fd < 0 && leader >= 0) fd = open_event(kSpecs[i], -1, inherit, excl);  // alone
      if (fd >= 0) break;
      err = errno;
      if (err != EACCES && err != EPERM) break;
    }
    if (fd < 0) {
      why_[i] = std::string(strerrorname_np(err) ? strerrorname_np(err) : "error") + " (" +
                std::strerror(err) + ")";
      continue;
    }
    fd_[i] = fd;
    if (leader < 0) leader = fd;
  }
}

counter_group::~counter_group() {
  for (int fd : fd_)
    if (fd >= 0) close(fd);
}

namespace {
bool read_event(int fd, std::array<unsigned long long, 3> &out) {
  std::uint64_t buf[3] = {0, 0, 0};  // value, time enabled, time running
  if (read(fd, buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) return false;
  out = {buf[0], buf[1], buf[2]};
  return true;
}
}  // namespace

void counter_group::start() {
  // Reset (the kernel then reports fresh times for the region), enable, and read the baseline:
  // what exited children added survives the reset and is subtracted in stop().
  for (std::size_t i = 0; i < kEventCount; ++i)
    if (fd_[i] >= 0) ioctl(fd_[i], PERF_EVENT_IOC_RESET, 0);
  for (std::size_t i = 0; i < kEventCount; ++i)
    if (fd_[i] >= 0) ioctl(fd_[i], PERF_EVENT_IOC_ENABLE, 0);
  for (std::size_t i = 0; i < kEventCount; ++i)
    if (fd_[i] >= 0 && !read_event(fd_[i], at_start_[i])) at_start_[i] = {0, 0, 0};
}

counter_values counter_group::stop() {
  std::array<std::array<unsigned long long, 3>, kEventCount> now{};
  std::array<bool, kEventCount> ok{};
  for (std::size_t i = 0; i < kEventCount; ++i)
    if (fd_[i] >= 0) ok[i] = read_event(fd_[i], now[i]);
  for (int fd : fd_)
    if (fd >= 0) ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  counter_values out;
  for (std::size_t i = 0; i < kEventCount; ++i) {
    if (fd_[i] < 0 || !ok[i]) continue;
    const double value = static_cast<double>(now[i][0] - at_start_[i][0]);
    const double enabled = static_cast<double>(now[i][1] - at_start_[i][1]);
    const double running = static_cast<double>(now[i][2] - at_start_[i][2]);
    if (running <= 0) continue;  // never scheduled: unknown, not zero
    out.v[i] = running < enabled ? value * enabled / running : value;  // multiplexed: scaled
  }
  return out;
}

std::string counter_group::available_list(bool hardware) const {
  std::string s;
  for (std::size_t i = 0; i < kEventCount; ++i) {
    if (is_hardware(i) != hardware || fd_[i] < 0) continue;
    if (!s.empty()) s += ' ';
    s += kSpecs[i].name;
  }
  return s.empty() ? "none" : s;
}

}  // namespace rca::lab
