// The environment every row carries: machine, kernel, toolchain, build, revision, memory
// settings, and which measurement methods work here (probed at run time, not assumed).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rca::lab {

class row;

struct environment {
  std::vector<std::pair<std::string, std::string>> fields;  ///< environment_columns() order
  const std::string &get(const std::string &key) const;
  void apply(row &r) const;  ///< sets every environment column of r
};

/// Gathers the environment once. `label` names the results folder; `pinned` says whether
/// --pin was given. Probes soft-dirty (which clears the process's soft-dirty bits once).
environment collect_environment(const std::string &label, bool pinned);

/// A default results label: the short host name, made safe for a folder name.
std::string default_label();

/// Runs a shell command and returns its stdout with the trailing newline removed ("" on error).
std::string run_capture(const std::string &cmd);

}  // namespace rca::lab
