#include <gtest/gtest.h>

#include "formats/scrape_format.h"

namespace metricsd {
namespace {

TEST(DetectFormat, ByContentType) {
  EXPECT_EQ(DetectFormat("application/openmetrics-text; version=1.0.0; charset=utf-8", "a 1\n"),
            ScrapeFormat::kOpenMetrics);
  EXPECT_EQ(DetectFormat("Application/OpenMetrics-Text", ""), ScrapeFormat::kOpenMetrics);
  EXPECT_EQ(DetectFormat("text/plain; version=0.0.4; charset=utf-8", "a 1\n# EOF\n"),
            ScrapeFormat::kPrometheusText);
  EXPECT_EQ(DetectFormat("application/json", "a 1"), ScrapeFormat::kJson);
  EXPECT_EQ(DetectFormat(" application/json ; charset=utf-8", ""), ScrapeFormat::kJson);
  EXPECT_EQ(DetectFormat("application/vnd.status+json", ""), ScrapeFormat::kJson);
}

TEST(DetectFormat, TextPlainJsonBodyIsJson) {
  EXPECT_EQ(DetectFormat("text/plain", "  {\"a\": 1}"), ScrapeFormat::kJson);
  EXPECT_EQ(DetectFormat("text/plain", "[1]"), ScrapeFormat::kJson);
}

TEST(DetectFormat, SniffsWhenContentTypeIsMissingOrUnknown) {
  EXPECT_EQ(DetectFormat("", "\n\t {\"a\": 1}"), ScrapeFormat::kJson);
  EXPECT_EQ(DetectFormat("", "\xEF\xBB\xBF[1]"), ScrapeFormat::kJson);
  EXPECT_EQ(DetectFormat("application/octet-stream", "a 1\n# EOF\n"), ScrapeFormat::kOpenMetrics);
  EXPECT_EQ(DetectFormat("", "# EOF"), ScrapeFormat::kOpenMetrics);
  EXPECT_EQ(DetectFormat("", "a 1\n# EOF\n\n  "), ScrapeFormat::kOpenMetrics);
  EXPECT_EQ(DetectFormat("", "a 1\nb# EOF\n"), ScrapeFormat::kPrometheusText);
  EXPECT_EQ(DetectFormat("", "# HELP a x\na 1\n"), ScrapeFormat::kPrometheusText);
  EXPECT_EQ(DetectFormat("text/html", "<html></html>"), ScrapeFormat::kPrometheusText);
  EXPECT_EQ(DetectFormat("", ""), ScrapeFormat::kPrometheusText);
}

TEST(DetectFormat, Names) {
  EXPECT_EQ(ScrapeFormatName(ScrapeFormat::kPrometheusText), "prometheus");
  EXPECT_EQ(ScrapeFormatName(ScrapeFormat::kOpenMetrics), "openmetrics");
  EXPECT_EQ(ScrapeFormatName(ScrapeFormat::kJson), "json");
}

TEST(AcceptHeader, PrefersOpenMetricsThenTextThenJson) {
  std::string_view accept = kScrapeAcceptHeader;
  auto om = accept.find("application/openmetrics-text;version=1.0.0");
  auto text = accept.find("text/plain;version=0.0.4");
  auto json = accept.find("application/json");
  ASSERT_NE(om, std::string_view::npos);
  ASSERT_NE(text, std::string_view::npos);
  ASSERT_NE(json, std::string_view::npos);
  EXPECT_LT(om, text);
  EXPECT_LT(text, json);
  EXPECT_EQ(accept.find(' '), std::string_view::npos);
}

}  // namespace
}  // namespace metricsd
