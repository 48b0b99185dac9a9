// Helpers for rcalab's tests: a strict CSV reader, a flat JSON-object reader, and running a
// command with its stdout, stderr and exit status.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rca::lab::test {

/// The index of column `name` in a CSV header; throws (the test fails with the name) when it is
/// missing, instead of an index one past the end.
inline std::size_t column_of(const std::vector<std::string> &header, const std::string &name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  throw std::out_of_range("csv: no column '" + name + "'");
}

/// RFC 4180 records (quoted fields may hold commas, quotes and newlines). Throws on malformed
/// input.
inline std::vector<std::vector<std::string>> parse_csv(const std::string &text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
        else quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty() || was_quoted) throw std::runtime_error("csv: quote inside a field");
      quoted = was_quoted = true;
    } else if (c == ',') {
      row.push_back(field), field.clear(), was_quoted = false;
    } else if (c == '\n') {
      row.push_back(field), field.clear(), was_quoted = false;
      rows.push_back(row), row.clear();
    } else {
      if (was_quoted) throw std::runtime_error("csv: text after a closing quote");
      field += c;
    }
  }
  if (quoted) throw std::runtime_error("csv: unterminated quote");
  if (!field.empty() || !row.empty()) row.push_back(field), rows.push_back(row);
  return rows;
}

/// A JSON value of a flat object: null, number or string.
struct json_value {
  enum class kind { null, number, string } k = kind::null;
  double num = 0;
  std::string str;
};

/// Parses one flat JSON object ({"k": null|number|"string", ...}), keys in order. Throws on
/// anything else (nested values, trailing text, bad escapes).
inline std::vector<std::pair<std::string, json_value>> parse_json_object(const std::string &s) {
  std::size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  auto expect = [&](char c) {
    ws();
    if (i >= s.size() || s[i] != c)
      throw std::runtime_error(std::string("json: expected ") + c + " at " + std::to_string(i));
    ++i;
  };
  auto string = [&] {
    expect('"');
    std::string out;
    while (true) {
      if (i >= s.size()) throw std::runtime_error("json: unterminated string");
      char c = s[i++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20)
        throw std::runtime_error("json: control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = s.at(i++);
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': out += static_cast<char>(std::stoi(s.substr(i, 4), nullptr, 16)), i += 4; break;
        default: throw std::runtime_error("json: bad escape");
      }
    }
    return out;
  };
  std::vector<std::pair<std::string, json_value>> out;
  expect('{');
  ws();
  if (i < s.size() && s[i] == '}') return ++i, out;
  while (true) {
    std::string key = string();
    expect(':');
    ws();
    json_value v;
    if (s.compare(i, 4, "null") == 0) {
      i += 4;
    } else if (s.at(i) == '"') {
      v.k = json_value::kind::string;
      v.str = string();
    } else {
      std::size_t used = 0;
      v.num = std::stod(s.substr(i), &used);
      if (used == 0) throw std::runtime_error("json: bad number");
      v.k = json_value::kind::number;
      i += used;
    }
    out.emplace_back(key, v);
    ws();
    if (s.at(i) == ',') {
      ++i;
      continue;
    }
    expect('}');
    break;
  }
  ws();
  if (i != s.size()) throw std::runtime_error("json: trailing text");
  return out;
}

struct run_result {
  int status = -1;  ///< exit status, or -1 when killed
  std::string out, err;
};

/// Runs a shell command; stdout and stderr are captured through temporary files.
inline run_result run(const std::string &cmd) {
  char out_tmpl[] = "/tmp/rcalab-test-out-XXXXXX", err_tmpl[] = "/tmp/rcalab-test-err-XXXXXX";
  int fo = mkstemp(out_tmpl), fe = mkstemp(err_tmpl);
  close(fo);
  close(fe);
  int st = std::system((cmd + " >" + out_tmpl + " 2>" + err_tmpl).c_str());
  run_result r;
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  auto slurp = [](const char *p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  r.out = slurp(out_tmpl);
  r.err = slurp(err_tmpl);
  std::remove(out_tmpl);
  std::remove(err_tmpl);
  return r;
}

}  // namespace rca::lab::test
