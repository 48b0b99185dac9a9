#include "rows.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace rca::lab {

const std::vector<std::string> &environment_columns() {
  static const std::vector<std::string> cols = {"label",
                                                "host",
                                                "cpu_model",
                                                "cores",
                                                "kernel",
                                                "compiler",
                                                "cxx_flags",
                                                "build_type",
                                                "git_rev",
                                                "thp",
                                                "date",
                                                "pinned",
                                                "perf_paranoid",
                                                "hw_counters",
                                                "sw_counters",
                                                "soft_dirty",
                                                "pagemap_exclusive",
                                                "pagemap_scan",
                                                "benchmark_lib",
                                                "rca_version"};
  return cols;
}

const std::vector<std::string> &schema_columns() {
  static const std::vector<std::string> cols = [] {
    std::vector<std::string> c = {
        // what was run
        "schema", "experiment", "claim", "variant", "placement", "handle", "slot_bits", "semantics",
        "backend", "objects", "object_bytes", "working_set_bytes", "threads", "params", "method",
        // what was measured
        "rep", "stat", "n", "metric", "value", "unit", "min", "max", "spread", "ci_lo", "ci_hi",
        // counters of the measured region (NA when unavailable)
        "cycles", "instructions", "branch_misses", "l1d_read_misses", "llc_misses", "dtlb_misses",
        "page_faults", "minor_faults", "major_faults", "context_switches", "task_clock_ns"};
    for (const auto &e : environment_columns()) c.push_back(e);
    return c;
  }();
  return cols;
}

row::row() : cells_(schema_columns().size()) { set("schema", kSchemaVersion); }

std::size_t row::index(std::string_view col) const {
  const auto &cols = schema_columns();
  for (std::size_t i = 0; i < cols.size(); ++i)
    if (cols[i] == col) return i;
  throw std::logic_error("row: column '" + std::string(col) + "' is not in the schema");
}

row &row::set(std::string_view col, std::string_view text) {
  cell &c = cells_[index(col)];
  c.k = cell::kind::text;
  c.str = std::string(text);
  return *this;
}

row &row::set(std::string_view col, double v) {
  cell &c = cells_[index(col)];
  if (std::isnan(v)) {
    c.k = cell::kind::na;
    return *this;
  }
  c.k = cell::kind::number;
  c.num = v;
  return *this;
}

row &row::set(std::string_view col, std::optional<double> v) { return v ? set(col, *v) : na(col); }

row &row::na(std::string_view col) {
  cells_[index(col)] = cell{};
  return *this;
}

row &row::param(std::string_view key, std::string_view value) {
  cell &c = cells_[index("params")];
  std::string s = c.k == cell::kind::text ? c.str : "";
  if (!s.empty()) s += ';';
  s += std::string(key) + "=" + std::string(value);
  return set("params", s);
}

row &row::param(std::string_view key, double value) { return param(key, format_number(value)); }

const cell &row::get(std::string_view col) const { return cells_[index(col)]; }

std::string format_number(double v) {
  char buf[64];
  if (std::fabs(v) < 9e15 && v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

namespace {

std::string csv_field(const std::string &s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string json_string(const std::string &s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (ch < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string csv_header() {
  std::string s;
  for (const auto &c : schema_columns()) {
    if (!s.empty()) s += ',';
    s += c;
  }
  return s;
}

std::string to_csv(const row &r) {
  std::string s;
  bool first = true;
  for (const cell &c : r.cells()) {
    if (!first) s += ',';
    first = false;
    if (c.k == cell::kind::number) s += format_number(c.num);
    else if (c.k == cell::kind::text) s += csv_field(c.str);
  }
  return s;
}

std::string to_json(const row &r) {
  std::string s = "{";
  const auto &cols = schema_columns();
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) s += ',';
    s += json_string(cols[i]) + ':';
    const cell &c = r.cells()[i];
    if (c.k == cell::kind::number) s += format_number(c.num);
    else if (c.k == cell::kind::text) s += json_string(c.str);
    else s += "null";
  }
  return s + "}";
}

sink::sink(std::ostream &os, format fmt)
    : os_(&os), fmt_(fmt == format::both ? format::csv : fmt) {}

sink::sink(std::string dir, format fmt) : dir_(std::move(dir)), fmt_(fmt) {
  std::filesystem::create_directories(dir_);
}

void sink::write(const std::string &experiment, const row &r) {
  ++count_;
  if (os_) {
    if (fmt_ == format::csv) {
      if (!header_done_) *os_ << csv_header() << '\n';
      header_done_ = true;
      *os_ << to_csv(r) << '\n';
    } else {
      *os_ << to_json(r) << '\n';
    }
    return;
  }
  files *f = nullptr;
  for (auto &x : files_)
    if (x.experiment == experiment) f = &x;
  if (!f) {
    files_.push_back({experiment, nullptr, nullptr});
    f = &files_.back();
    if (fmt_ != format::json) {
      f->csv = std::make_unique<std::ofstream>(dir_ + "/" + experiment + ".csv", std::ios::trunc);
      *f->csv << csv_header() << '\n';
    }
    if (fmt_ != format::csv)
      f->json =
          std::make_unique<std::ofstream>(dir_ + "/" + experiment + ".jsonl", std::ios::trunc);
  }
  if (f->csv) *f->csv << to_csv(r) << '\n' << std::flush;
  if (f->json) *f->json << to_json(r) << '\n' << std::flush;
}

}  // namespace rca::lab
