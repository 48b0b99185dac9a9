// Rows: the schema, CSV and JSON encodings, and the environment in every row.
#include "harness/environment.hpp"
#include "harness/rows.hpp"
#include "lab_support.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace rca::lab {
namespace {

TEST(LabRows, UnknownColumnIsRefused) {
  row r;
  EXPECT_THROW(r.set("no_such_column", 1.0), std::logic_error);
}

TEST(LabRows, EnvironmentColumnsArePartOfTheSchema) {
  const auto &s = schema_columns();
  for (const auto &c : environment_columns())
    EXPECT_NE(std::find(s.begin(), s.end(), c), s.end()) << c;
  for (const char *c : {"experiment", "placement", "semantics", "backend", "rep", "value", "unit",
                        "params", "method"})
    EXPECT_NE(std::find(s.begin(), s.end(), c), s.end()) << c;
}

TEST(LabRows, CsvAndJsonRoundTripWithEveryEnvironmentField) {
  environment env = collect_environment("unit-test", false);
  for (const auto &[k, v] : env.fields)
    EXPECT_FALSE(v.empty()) << "environment field " << k << " is empty";
  ASSERT_EQ(env.fields.size(), environment_columns().size());

  row r;
  env.apply(r);
  r.set("experiment", "unit")
      .set("variant", "a,b \"quoted\"\nnext")
      .set("value", 2.5)
      .set("objects", 1000000);
  r.param("k", "v").param("n", 3.0);
  std::ostringstream csv, json;
  sink cs(csv, format::csv), js(json, format::json);
  cs.write("unit", r);
  cs.write("unit", r);
  js.write("unit", r);

  auto rows = test::parse_csv(csv.str());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], schema_columns());
  const auto &cols = rows[0];
  auto at = [&](const std::string &c) { return rows[1][test::column_of(cols, c)]; };
  ASSERT_EQ(rows[1].size(), cols.size());
  EXPECT_EQ(at("variant"), "a,b \"quoted\"\nnext");
  EXPECT_EQ(at("value"), "2.5");
  EXPECT_EQ(at("objects"), "1000000");
  EXPECT_EQ(at("params"), "k=v;n=3");
  EXPECT_EQ(at("schema"), std::to_string(kSchemaVersion));
  EXPECT_EQ(at("rep"), "");  // unset: NA
  for (const auto &[k, v] : env.fields) EXPECT_EQ(at(k), v) << k;

  auto obj = test::parse_json_object(json.str().substr(0, json.str().size() - 1));
  ASSERT_EQ(obj.size(), schema_columns().size());
  for (std::size_t i = 0; i < obj.size(); ++i) EXPECT_EQ(obj[i].first, schema_columns()[i]);
  for (auto &[k, v] : obj) {
    if (k == "variant") EXPECT_EQ(v.str, "a,b \"quoted\"\nnext");
    if (k == "value") EXPECT_EQ(v.num, 2.5);
    if (k == "rep") EXPECT_EQ(v.k, test::json_value::kind::null);
    for (const auto &[ek, ev] : env.fields)
      if (k == ek) EXPECT_EQ(v.str, ev) << k;
  }
}

TEST(LabRows, NumbersKeepTheirPrecision) {
  EXPECT_EQ(format_number(3.0), "3");
  EXPECT_EQ(format_number(0.000123456789), "0.000123457");
  EXPECT_EQ(format_number(1e20), "1e+20");
}

}  // namespace
}  // namespace rca::lab

namespace rca::lab {
namespace {

// Rows under papers/results/ are what the paper cites: a dirty revision is refused there unless
// --scratch; anywhere else, and from a clean revision, rows are written.
TEST(PaperRows, DirtyRevisionIsRefusedUnderPapersResultsOnly) {
  const std::string src = "/tmp/rca-src";
  const std::string why =
      paper_rows_refusal(src + "/papers/results/box", src, "0123456789ab-dirty", false);
  EXPECT_NE(why.find("refusing to write rows for the paper"), std::string::npos) << why;
  EXPECT_NE(why.find("0123456789ab-dirty"), std::string::npos) << why;
  EXPECT_NE(why.find("--scratch"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos) << "one line";
  EXPECT_FALSE(paper_rows_refusal(src + "/papers/results/a/../b", src, "x-dirty", false).empty());
  EXPECT_EQ(paper_rows_refusal(src + "/papers/results/box", src, "0123456789ab-dirty", true), "");
  EXPECT_EQ(paper_rows_refusal(src + "/papers/results/box", src, "0123456789ab", false), "");
  EXPECT_EQ(paper_rows_refusal("/tmp/elsewhere", src, "0123456789ab-dirty", false), "");
  EXPECT_EQ(paper_rows_refusal(src + "/papers/resultsX", src, "0123456789ab-dirty", false), "");
}

}  // namespace
}  // namespace rca::lab
