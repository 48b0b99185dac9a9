// Runs a VM program as a child process and reads what it printed (rcalab's own helpers, the ones
// `rcalab vm` reads the same programs with).
#pragma once

#include "harness/command.hpp"

#include <map>
#include <string>
#include <vector>

namespace rca::vms::test {

using result = rca::lab::command_output;  // status: exit status or 128 + signal; out: all output

inline result run(const std::string &cmd) { return rca::lab::run_command(cmd); }

// The lines that start with prefix, each as key=value pairs.
inline std::vector<rca::lab::key_values> lines(const std::string &out, const std::string &prefix) {
  return rca::lab::key_value_lines(out, prefix);
}

inline long num(const rca::lab::key_values &kv, const std::string &k) {
  auto it = kv.find(k);
  return it == kv.end() ? -1 : std::stol(it->second);
}

}  // namespace rca::vms::test
