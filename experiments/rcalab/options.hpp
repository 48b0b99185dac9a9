// rcalab's flags: one set, the same meaning in every subcommand. Lists are comma-separated;
// an empty list means "the experiment's default". Byte sizes take K/M/G (1024-based), counts
// take k/m (1000-based).
#pragma once

#include "../harness/rows.hpp"

#include <rca/rca.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rca::lab {

struct options {
  std::vector<rca_placement_t> placements;
  std::vector<rca_handle_kind_t> handle_kinds;
  std::vector<rca_backend_t> backends;
  std::vector<std::string> semantics;     ///< plain | atomic | biased (validated per experiment)
  std::vector<unsigned> slot_bits;        ///< 32 | 64
  std::vector<std::size_t> objects;       ///< object counts
  std::vector<std::size_t> working_sets;  ///< bytes
  std::vector<unsigned> threads;
  std::size_t object_bytes = 64;  ///< object size including rca's header
  std::size_t ops = 0;            ///< operations per repetition (0 = the experiment's default)
  int reps = 5;
  int warmup = 1;
  int children = 0;                ///< cow: fork children per configuration (0 = default)
  std::size_t stride = 0;          ///< cow: sparse traversal touches every stride-th object
  std::string callgrind = "auto";  ///< aliasing: auto | on | off
  std::string
      alloc_worker;  ///< internal: alloc runs one bare allocator and writes its result to stdout
  std::vector<std::string> workloads;  ///< malloc: workloads to run (validated there)
  /// malloc: NAME=PATH, the library to preload for allocator NAME instead of the default
  std::vector<std::pair<std::string, std::string>> malloc_libs;
  std::string out;  ///< results folder; "-" = stdout; "" = default folder
  format fmt = format::both;
  std::string label;
  bool quick = false;
  bool pin = false;
  bool scratch = false;  ///< rows for papers/results/ from a dirty revision
  bool help = false;
  std::uint64_t seed = 42;
};

/// Operations per repetition: --ops when given, else quick_default or full_default.
inline std::size_t ops_target(const options &o, std::size_t quick_default,
                              std::size_t full_default) {
  return o.ops ? o.ops : o.quick ? quick_default : full_default;
}

/// Parses args (after the subcommand name). On error returns false with a message in err.
bool parse_options(const std::vector<std::string> &args, options &opt, std::string &err);

/// The flag reference printed by --help.
const char *options_help();

std::string placement_list_name(const std::vector<rca_placement_t> &v);

}  // namespace rca::lab
