#include "measure.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <random>
#include <stdexcept>

namespace rca::lab {

double now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

summary summarize(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("summarize: no values");
  std::sort(v.begin(), v.end());
  summary s;
  std::size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

interval bootstrap_ratio(const std::vector<compared_series> &series, bool paired, int resamples) {
  constexpr double kConfidence = 0.95;
  constexpr std::uint64_t kSeed = 20151021;
  if (series.empty()) return {NAN, NAN};
  for (const auto &s : series)
    if (s.a.empty() || s.b.empty()) return {NAN, NAN};
  std::mt19937_64 rng(kSeed);
  auto draw = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto median_of = [](std::vector<double> &v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  std::vector<double> geomeans, ra, rb;
  geomeans.reserve(static_cast<std::size_t>(resamples));
  for (int r = 0; r < resamples; ++r) {
    double logsum = 0;
    bool ok = true;
    for (const auto &s : series) {
      const bool pair = paired && s.a.size() == s.b.size();
      ra.clear();
      rb.clear();
      for (std::size_t i = 0; i < s.a.size(); ++i) {
        const std::size_t k = draw(s.a.size());
        ra.push_back(s.a[k]);
        if (pair) rb.push_back(s.b[k]);
      }
      if (!pair)
        for (std::size_t i = 0; i < s.b.size(); ++i) rb.push_back(s.b[draw(s.b.size())]);
      const double ma = median_of(ra), mb = median_of(rb);
      if (!(ma > 0 && mb > 0)) {
        ok = false;
        break;
      }
      logsum += std::log(ma / mb);
    }
    if (ok) geomeans.push_back(std::exp(logsum / static_cast<double>(series.size())));
  }
  if (geomeans.empty()) return {NAN, NAN};
  std::sort(geomeans.begin(), geomeans.end());
  const double tail = (1 - kConfidence) / 2, n = static_cast<double>(geomeans.size());
  const auto lo = static_cast<std::size_t>(std::floor(tail * n));
  const auto hi =
      std::min(geomeans.size(), static_cast<std::size_t>(std::ceil((1 - tail) * n))) - 1;
  return {geomeans[lo], geomeans[hi]};
}

std::vector<sample> repeat(counter_group &counters, int warmup, int reps,
                           const std::function<double()> &body) {
  for (int i = 0; i < warmup; ++i) body();
  std::vector<sample> out;
  out.reserve(static_cast<std::size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    counters.start();
    double v = body();
    sample s;
    s.counters = counters.stop();
    s.value = v;
    out.push_back(s);
  }
  return out;
}

std::vector<std::vector<sample>> repeat_interleaved(
    counter_group &counters, int warmup, int reps,
    const std::vector<std::function<double()>> &bodies) {
  for (int i = 0; i < warmup; ++i)
    for (const auto &b : bodies) b();
  std::vector<std::vector<sample>> out(bodies.size());
  for (int i = 0; i < reps; ++i) {
    for (std::size_t k = 0; k < bodies.size(); ++k) {
      counters.start();
      double v = bodies[k]();
      sample s;
      s.counters = counters.stop();
      s.value = v;
      out[k].push_back(s);
    }
  }
  return out;
}

summary emit_series(sink &out, const std::string &experiment, const row &base,
                    const std::string &metric, const std::string &unit,
                    const std::vector<sample> &samples) {
  std::vector<double> values;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    row r = base;
    r.set("rep", static_cast<int>(i))
        .set("stat", "raw")
        .set("metric", metric)
        .set("value", samples[i].value)
        .set("unit", unit);
    for (std::size_t e = 0; e < kEventCount; ++e)
      r.set(event_name(static_cast<event>(e)), samples[i].counters.v[e]);
    out.write(experiment, r);
    values.push_back(samples[i].value);
  }
  summary s = summarize(values);
  row r = base;
  r.na("rep")
      .set("stat", "median")
      .set("n", static_cast<int>(samples.size()))
      .set("metric", metric);
  r.set("value", s.median)
      .set("unit", unit)
      .set("min", s.min)
      .set("max", s.max)
      .set("spread", s.spread());
  for (std::size_t e = 0; e < kEventCount; ++e) {
    std::vector<double> cv;
    for (const auto &x : samples)
      if (x.counters.v[e]) cv.push_back(*x.counters.v[e]);
    const char *col = event_name(static_cast<event>(e));
    if (cv.size() == samples.size() && !cv.empty()) r.set(col, summarize(cv).median);
    else r.na(col);
  }
  out.write(experiment, r);
  return s;
}

std::vector<sample> cpu_per_op(const std::vector<sample> &samples, double ops_per_rep) {
  std::vector<sample> out;
  for (const auto &s : samples) {
    const auto &tc = s.counters[event::task_clock_ns];
    if (!tc || ops_per_rep <= 0) return {};
    out.push_back(sample{*tc / ops_per_rep, s.counters});
  }
  return out;
}

bool pin_thread(unsigned cpu) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % static_cast<unsigned>(n), &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace rca::lab
