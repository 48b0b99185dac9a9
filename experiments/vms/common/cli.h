// The command line the VM programs share: options first (`--name value` or `--flag`), then the
// script or scripts, then the scripts' own arguments. Every error goes to the program's usage()
// with a one-line message (which prints it and exits 2).
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

namespace rca::vms {

class command_line {
 public:
  using usage_fn = void (*)(const char *message);  // [[noreturn]]: prints and exits 2

  command_line(int argc, char **argv, usage_fn usage) : argc_(argc), argv_(argv), usage_(usage) {}

  /// The next option, or "" at the first argument that is not one. --help and -h call usage.
  std::string next_option() {
    if (++i_ >= argc_) return current_ = "";
    current_ = argv_[i_];
    if (current_ == "--help" || current_ == "-h") fail(nullptr);
    if (current_.rfind("--", 0) != 0) {
      --i_;  // a script: left for take()
      return current_ = "";
    }
    return current_;
  }
  /// The current option's value.
  const char *value() {
    if (i_ + 1 >= argc_) fail((current_ + " needs a value").c_str());
    return argv_[++i_];
  }
  /// The current option's value as a whole number in [lo, hi].
  int count(long lo, long hi) {
    const char *v = value();
    char *end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (end == v || *end || n < lo || n > hi)
      fail((current_ + " needs a count from " + std::to_string(lo) + " to " + std::to_string(hi) +
            ", not '" + v + "'")
               .c_str());
    return static_cast<int>(n);
  }
  /// The current option is not one the program knows.
  [[noreturn]] void unknown() { fail(("unknown option " + current_).c_str()); }
  /// The next n arguments (the scripts); `missing` is the message when there are fewer.
  std::vector<std::string> take(int n, const char *missing) {
    std::vector<std::string> v;
    for (int k = 0; k < n; ++k) {
      if (i_ + 1 >= argc_) fail(missing);
      v.push_back(argv_[++i_]);
    }
    return v;
  }
  /// Every argument left (the scripts' arguments).
  std::vector<std::string> rest() { return take(argc_ - 1 - i_, ""); }
  [[noreturn]] void fail(const char *message) {
    usage_(message);
    std::abort();  // usage does not return
  }

 private:
  int argc_;
  char **argv_;
  usage_fn usage_;
  int i_ = 0;
  std::string current_;
};

}  // namespace rca::vms
