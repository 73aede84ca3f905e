#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/json_app.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::int64_t kNow = 1'700'000'000'000;

struct Parsed {
  Status status;
  std::vector<MetricFamily> families;
  ParseStats stats;

  // name → value, for compact assertions.
  std::vector<std::pair<std::string, double>> Values() const {
    std::vector<std::pair<std::string, double>> v;
    for (const auto& f : families) {
      for (const auto& s : f.samples) {
        v.emplace_back(s.name, s.value);
      }
    }
    return v;
  }
};

Parsed Json(std::string_view body, std::string_view prefix = "app_", JsonAppLimits limits = {}) {
  Parsed p;
  p.status = ParseJsonApp(body, prefix, kNow, p.families, p.stats, limits);
  return p;
}

using V = std::vector<std::pair<std::string, double>>;

TEST(JsonApp, SeedBehaviourTopLevelNumbers) {
  Parsed p = Json(R"({"requests": 10, "latency_ms": 1.5, "name": "svc", "n": null})");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.Values(), (V{{"app_requests", 10}, {"app_latency_ms", 1.5}}));
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].name, "app_requests");
  EXPECT_EQ(p.families[0].type, MetricType::kGauge);
  EXPECT_THAT(p.families[0].samples[0].labels, IsEmpty());
  EXPECT_EQ(p.families[0].samples[0].timestamp_ms, kNow);
  EXPECT_EQ(p.stats.samples, 2u);
}

TEST(JsonApp, NestedObjectsBooleansAndArrays) {
  Parsed p = Json(R"({
    "db": {"up": true, "down": false, "pool": {"idle": 3, "busy": 2}},
    "shards": [4, 5],
    "workers": [{"load": 0.5}, {"load": 0.25, "tags": ["x"]}],
    "matrix": [[1, 2], [3]],
    "empty": {}, "none": []
  })");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.Values(), (V{{"app_db_up", 1},
                           {"app_db_down", 0},
                           {"app_db_pool_idle", 3},
                           {"app_db_pool_busy", 2},
                           {"app_shards_0", 4},
                           {"app_shards_1", 5},
                           {"app_workers_0_load", 0.5},
                           {"app_workers_1_load", 0.25},
                           {"app_matrix_0_0", 1},
                           {"app_matrix_0_1", 2},
                           {"app_matrix_1_0", 3}}));
}

TEST(JsonApp, NumericStringsAreNotConverted) {
  Parsed p = Json(R"({"a": "42", "b": "1.5", "c": 7})");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.Values(), (V{{"app_c", 7}}));
}

TEST(JsonApp, NamesAreSanitised) {
  Parsed p = Json(R"({"req.rate-1": 1, "héllo": 2, "a b": {"c/d": 3}, "": 4})");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.Values(),
            (V{{"app_req_rate_1", 1}, {"app_h__llo", 2}, {"app_a_b_c_d", 3}, {"app_", 4}}));
  for (const auto& f : p.families) {
    EXPECT_TRUE(IsValidMetricName(f.name)) << f.name;
  }
}

TEST(JsonApp, PrefixIsAParameter) {
  Parsed p = Json(R"({"9lives": 1, "x": {"y": 2}})", "");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.Values(), (V{{"_9lives", 1}, {"x_y", 2}}));
  p = Json(R"({"x": 1})", "svc:");
  EXPECT_EQ(p.Values(), (V{{"svc:x", 1}}));
}

TEST(JsonApp, DuplicateNamesLastWins) {
  Parsed p = Json(R"({"a": 1, "a": 2, "b_c": 3, "b": {"c": 4}})");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.Values(), (V{{"app_a", 2}, {"app_b_c", 4}}));
  EXPECT_EQ(p.stats.samples, 2u);
}

TEST(JsonApp, TopLevelArrayAndScalars) {
  Parsed p = Json("[1, {\"x\": 2}]");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.Values(), (V{{"app_0", 1}, {"app_1_x", 2}}));
  for (std::string_view body : {"null", "42", "\"text\"", "true", "{}", "[]"}) {
    p = Json(body);
    EXPECT_TRUE(p.status.ok()) << body;
    EXPECT_THAT(p.families, IsEmpty()) << body;
  }
}

TEST(JsonApp, BigNumbers) {
  Parsed p = Json(R"({"u": 18446744073709551615, "i": -9223372036854775808, "f": 1e300})");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(
      p.Values(),
      (V{{"app_u", 18446744073709551615.0}, {"app_i", -9223372036854775808.0}, {"app_f", 1e300}}));
}

TEST(JsonApp, InvalidDocumentsAreRejectedAsAWhole) {
  for (std::string_view body :
       {"", "{", R"({"a": 1,})", R"({"a": 1} trailing)", "{\"a\": \"\xff\"}", R"({"a": 1e999})",
        "<html>not json</html>", R"({"a": NaN})", R"({'a': 1})"}) {
    std::vector<MetricFamily> out;
    out.push_back(MetricFamily{"kept", "", MetricType::kGauge, {}});
    ParseStats stats;
    Status status = ParseJsonApp(body, "app_", kNow, out, stats);
    EXPECT_FALSE(status.ok()) << body;
    EXPECT_THAT(status.error(), HasSubstr("invalid JSON")) << body;
    ASSERT_EQ(out.size(), 1u) << body;
    EXPECT_EQ(stats.samples, 0u);
    EXPECT_EQ(stats.invalid_lines, 1u);
  }
}

TEST(JsonApp, DeepNestingIsBoundedAndCounted) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) {
    deep += "{\"a\":";
  }
  deep += "1";
  for (int i = 0; i < 100000; ++i) {
    deep += "}";
  }
  Parsed p = Json("{\"ok\": 1, \"deep\": " + deep + ", \"after\": 2}");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.Values(), (V{{"app_ok", 1}, {"app_after", 2}}));
  EXPECT_EQ(p.stats.invalid_lines, 1u);

  JsonAppLimits limits;
  limits.max_depth = 2;
  p = Json(R"({"a": {"b": 1, "c": {"d": 2}}, "e": [[3], 4]})", "app_", limits);
  EXPECT_EQ(p.Values(), (V{{"app_a_b", 1}, {"app_e_1", 4}}));
  EXPECT_EQ(p.stats.invalid_lines, 2u);
}

TEST(JsonApp, LongNamesAndTooManySamplesAreSkipped) {
  std::string long_key(10000, 'k');
  Parsed p = Json("{\"" + long_key + "\": {\"x\": 1, \"y\": 2}, \"short\": 3}");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.Values(), (V{{"app_short", 3}}));
  EXPECT_EQ(p.stats.invalid_lines, 2u);

  JsonAppLimits limits;
  limits.max_samples = 2;
  p = Json(R"({"a": 1, "b": 2, "c": 3, "a": 4})", "app_", limits);
  EXPECT_EQ(p.Values(), (V{{"app_a", 4}, {"app_b", 2}}));
  EXPECT_EQ(p.stats.invalid_lines, 1u);
}

TEST(JsonApp, LargeFlatArrayIsLinear) {
  std::string body = "{\"v\": [";
  for (int i = 0; i < 50000; ++i) {
    body += i == 0 ? "1" : ",1";
  }
  body += "]}";
  Parsed p = Json(body);
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.stats.samples, 50000u);
  EXPECT_EQ(p.families.back().name, "app_v_49999");
}

}  // namespace
}  // namespace metricsd
