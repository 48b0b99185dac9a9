// A progress bar on stderr for long runs; silent when stderr is not a terminal, so logs and
// pipes get no control characters.
#pragma once

#include <cstddef>
#include <string>

namespace rca::lab {

class progress {
 public:
  progress(std::string label, std::size_t total);
  ~progress();
  void step(const std::string &what = {});  ///< one unit done

 private:
  std::string label_;
  std::size_t total_, done_ = 0;
  bool enabled_;
};

}  // namespace rca::lab
