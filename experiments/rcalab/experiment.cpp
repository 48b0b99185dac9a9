#include "experiment.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace rca::lab {

row context::base(const char *experiment, const char *claim) const {
  row r;
  env.apply(r);
  r.set("experiment", experiment).set("claim", claim);
  return r;
}

void context::note(const char *fmt, ...) const {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

bool beyond_noise(const summary &a, const summary &b) { return a.min > b.max || b.min > a.max; }

}  // namespace rca::lab
