// The environment every row carries: machine, kernel, toolchain, build, revision, memory
// settings, and which measurement methods work here (probed at run time, not assumed).
#pragma once

#include "command.hpp"  // run_capture

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

/// The source tree's revision now: 12 hex digits, "-dirty" appended when tracked files differ
/// from it (the configure-time revision when git cannot answer).
std::string git_revision();

/// Rows written under <source_dir>/papers/results/ are the ones the paper cites: from a dirty
/// revision they are refused unless `scratch` (their git_rev column then says -dirty). Returns
/// the one-line reason for a refusal, or "" when out_dir may be written.
std::string paper_rows_refusal(const std::string &out_dir, const std::string &source_dir,
                               const std::string &git_rev, bool scratch);

}  // namespace rca::lab
