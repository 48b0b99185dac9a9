// Running a shell command and reading what it printed, and the `key=value` lines that rca's VM
// programs print (rcalab vm and the VM tests read them the same way).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rca::lab {

struct command_output {
  int status = -1;  ///< exit status, 128 + the signal that ended it, or -1 when it did not start
  std::string out;  ///< what it printed (stdout, and stderr when asked)
};

/// Runs `cmd` through /bin/sh and waits for it; stderr joins stdout when `with_stderr`.
command_output run_command(const std::string &cmd, bool with_stderr = true);

/// Runs a shell command and returns its stdout with the trailing newline removed ("" on error).
std::string run_capture(const std::string &cmd);

/// A child process run without a shell, and what wait4 says about it.
struct process_output {
  int status = -1;         ///< exit status, 128 + the signal that ended it, or -1 (did not start)
  std::string out;         ///< stdout and stderr together
  double wall_ms = 0;      ///< fork to exit
  double cpu_ms = 0;       ///< user + system time of the child (all its threads)
  double max_rss_kib = 0;  ///< the child's peak resident set (ru_maxrss)
};

/// Runs argv[0] (a path, not searched) with argv, in this process's environment changed by `env`
/// (NAME, value; an empty value removes NAME), and waits for it with wait4. The environment is
/// built before fork, so the child only execs.
process_output run_process(const std::vector<std::string> &argv,
                           const std::vector<std::pair<std::string, std::string>> &env = {});

using key_values = std::map<std::string, std::string>;
/// The lines of `text` that start with `prefix`, each read as space-separated key=value words
/// (words without '=' are skipped).
std::vector<key_values> key_value_lines(const std::string &text, const std::string &prefix);

}  // namespace rca::lab
