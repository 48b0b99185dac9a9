// Result rows: one fixed schema (documented in experiments/README.md), written as CSV or as JSON
// lines. A cell is a number, a text, or NA (empty in CSV, null in JSON) — never a made-up 0.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rca::lab {

inline constexpr int kSchemaVersion = 2;  // 2: ci_lo, ci_hi

/// Every column, in output order. Adding a column bumps kSchemaVersion.
const std::vector<std::string> &schema_columns();
/// The environment columns (a subset of schema_columns()).
const std::vector<std::string> &environment_columns();

struct cell {
  enum class kind { na, number, text } k = kind::na;
  double num = 0;
  std::string str;
};

/// One row. Setting a column that is not in the schema throws std::logic_error, so the schema
/// stays what README.md says.
class row {
 public:
  row();
  row &set(std::string_view col, std::string_view text);
  row &set(std::string_view col, const char *text) { return set(col, std::string_view(text)); }
  row &set(std::string_view col, double v);
  template <class T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, double> &&
           !std::is_same_v<T, bool>) row &set(std::string_view col, T v) {
    return set(col, static_cast<double>(v));
  }
  row &set(std::string_view col, std::optional<double> v);
  row &na(std::string_view col);
  /// Appends k=v to the `params` column (the full parameter set of the run).
  row &param(std::string_view key, std::string_view value);
  row &param(std::string_view key, double value);
  const cell &get(std::string_view col) const;
  const std::vector<cell> &cells() const { return cells_; }

 private:
  std::size_t index(std::string_view col) const;
  std::vector<cell> cells_;
};

std::string csv_header();
std::string to_csv(const row &r);
std::string to_json(const row &r);
/// Formats a number the way rows do (integers without a fraction, others with %.6g).
std::string format_number(double v);

enum class format { csv, json, both };

/// Where rows go: a directory (<dir>/<experiment>.csv and .jsonl) or a stream (one format).
class sink {
 public:
  /// Rows to `os` in `fmt` (both = CSV).
  sink(std::ostream &os, format fmt);
  /// Rows to files under `dir` (created), replaced at the first row of each experiment.
  sink(std::string dir, format fmt);
  void write(const std::string &experiment, const row &r);
  std::size_t rows_written() const { return count_; }

 private:
  struct files {
    std::string experiment;
    std::unique_ptr<std::ofstream> csv, json;
  };
  std::ostream *os_ = nullptr;
  std::string dir_;
  format fmt_;
  bool header_done_ = false;
  std::vector<files> files_;
  std::size_t count_ = 0;
};

}  // namespace rca::lab
