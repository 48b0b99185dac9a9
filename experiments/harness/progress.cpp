#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace rca::lab {

progress::progress(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total ? total : 1), enabled_(isatty(STDERR_FILENO) == 1) {}

progress::~progress() {
  if (enabled_) std::fprintf(stderr, "\r\033[K");
}

void progress::step(const std::string &what) {
  ++done_;
  if (!enabled_) return;
  constexpr int kWidth = 30;
  int fill = static_cast<int>(kWidth * done_ / total_);
  if (fill > kWidth) fill = kWidth;
  std::fprintf(stderr, "\r\033[K%-12s [%.*s%*s] %zu/%zu %s", label_.c_str(), fill,
               "##############################", kWidth - fill, "", done_, total_, what.c_str());
  std::fflush(stderr);
}

}  // namespace rca::lab
