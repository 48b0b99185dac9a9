// rcalab vm's parts in more than one file: vm.cpp (Duktape, rca-python) and cpython.cpp (CPython
// 3.11 built per count variant, and Debian's stock python3.11).
#pragma once

#include "rcalab/experiment.hpp"

#include <map>
#include <string>

namespace rca::lab {

/// The summary lines cachegrind prints (`==PID== I refs: 1,234`): key without spaces -> value.
std::map<std::string, double> cachegrind_summary(const std::string &text);

/// The cachegrind command prefix rcalab vm uses (explicit I1/D1/LL geometry), writing its
/// output file to `out_file`, and the `method` text of its rows.
std::string cachegrind_command(const std::string &out_file);
extern const char *const kCachegrindMethod;

/// The CPython parts: py7 (C7, time), py7s (C7 under cachegrind), py5 (C5 prefork and the
/// freeze sweep), py8 (C8, a legacy extension). Returns 0, or nonzero when a part could not run
/// at all; interpreters that are not built are reported as unavailable rows, not as failures.
int run_cpython_part(context &ctx, const std::string &part);

}  // namespace rca::lab
