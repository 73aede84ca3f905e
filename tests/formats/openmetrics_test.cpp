#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "formats/exposition_parser.h"
#include "test_util.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::int64_t kNow = 1'700'000'000'000;

struct Parsed {
  Status status;
  std::vector<MetricFamily> families;
  ParseStats stats;
};

Parsed Om(std::string_view body) {
  Parsed p;
  p.status = ParseOpenMetrics(body, kNow, p.families, p.stats);
  return p;
}

// The overall-structure example of the OpenMetrics 1.0 specification.
TEST(OpenMetrics, SpecOverallExample) {
  Parsed p = Om(R"(# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
acme_http_router_request_seconds_sum{path="/api/v2",method="POST"} 479.3
acme_http_router_request_seconds_count{path="/api/v2",method="POST"} 34.0
acme_http_router_request_seconds_created{path="/api/v2",method="POST"} 1605281325.0
# TYPE go_goroutines gauge
# HELP go_goroutines Number of goroutines that currently exist.
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06
# EOF
)");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.stats.samples, 8u);
  ASSERT_EQ(p.families.size(), 3u);
  EXPECT_EQ(p.families[0].name, "acme_http_router_request_seconds");
  EXPECT_EQ(p.families[0].type, MetricType::kSummary);
  EXPECT_EQ(p.families[0].help, "Latency though all of ACME's HTTP request router.");
  EXPECT_EQ(p.families[0].samples.size(), 6u);
  EXPECT_EQ(p.families[0].samples[2].name, "acme_http_router_request_seconds_created");
  EXPECT_EQ(p.families[0].samples[0].labels, L({{"method", "GET"}, {"path", "/api/v1"}}));
  EXPECT_EQ(p.families[1].type, MetricType::kGauge);
  EXPECT_EQ(p.families[1].samples[0].value, 69);
  EXPECT_EQ(p.families[2].name, "process_cpu_seconds");
  EXPECT_EQ(p.families[2].type, MetricType::kCounter);
  EXPECT_EQ(p.families[2].samples[0].name, "process_cpu_seconds_total");
  EXPECT_DOUBLE_EQ(p.families[2].samples[0].value, 4.20072246e+06);
}

TEST(OpenMetrics, SpecFamilyExamples) {
  Parsed p = Om(R"(# TYPE foo_g gauge
foo_g 17.0
# TYPE foo_u unknown
foo_u 42.23
# TYPE foo counter
foo_total 17.0 1520879607.789
foo_created 1520430000.123 1520879607.789
# TYPE foo_s stateset
foo_s{entity="controller",foo_s="a"} 1.0
foo_s{entity="controller",foo_s="bb"} 0.0
foo_s{entity="replica",foo_s="a"} 1.0
# TYPE foo_i info
foo_i_info{name="pretty name",version="8.2.7"} 1
# TYPE foo_sum summary
foo_sum_count 17.0
foo_sum_sum 324789.3
foo_sum{quantile="0.95"} 123.7
foo_sum{quantile="0.99"} 150.0
foo_sum_created 1520430000.123
# TYPE foo_h histogram
foo_h_bucket{le="0.0"} 0
foo_h_bucket{le="1e-05"} 0
foo_h_bucket{le="0.0001"} 5
foo_h_bucket{le="0.1"} 8
foo_h_bucket{le="1.0"} 10
foo_h_bucket{le="10.0"} 11
foo_h_bucket{le="100000.0"} 11
foo_h_bucket{le="1e+06"} 15
foo_h_bucket{le="1e+23"} 16
foo_h_bucket{le="1.1e+23"} 17
foo_h_bucket{le="+Inf"} 17
foo_h_count 17
foo_h_sum 324789.3
foo_h_created 1520430000.123
# TYPE foo_gh gaugehistogram
foo_gh_bucket{le="0.01"} 20.0
foo_gh_bucket{le="0.1"} 25.0
foo_gh_bucket{le="1"} 34.0
foo_gh_bucket{le="10"} 34.0
foo_gh_bucket{le="+Inf"} 42.0
foo_gh_gcount 42.0
foo_gh_gsum 3289.3
# EOF
)");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  ASSERT_EQ(p.families.size(), 8u);
  EXPECT_EQ(p.families[0].type, MetricType::kGauge);
  EXPECT_EQ(p.families[1].type, MetricType::kUntyped);
  const MetricFamily& counter = p.families[2];
  EXPECT_EQ(counter.name, "foo");
  EXPECT_EQ(counter.type, MetricType::kCounter);
  ASSERT_EQ(counter.samples.size(), 2u);
  EXPECT_EQ(counter.samples[0].timestamp_ms, 1520879607789);
  EXPECT_EQ(counter.samples[1].name, "foo_created");
  EXPECT_DOUBLE_EQ(counter.samples[1].value, 1520430000.123);
  EXPECT_EQ(p.families[3].type, MetricType::kStateSet);
  EXPECT_EQ(p.families[3].samples.size(), 3u);
  EXPECT_EQ(p.families[4].type, MetricType::kInfo);
  EXPECT_EQ(p.families[4].samples[0].name, "foo_i_info");
  EXPECT_EQ(p.families[5].type, MetricType::kSummary);
  EXPECT_EQ(p.families[5].samples.size(), 5u);
  EXPECT_EQ(p.families[6].type, MetricType::kHistogram);
  EXPECT_EQ(p.families[6].samples.size(), 14u);
  EXPECT_EQ(p.families[7].type, MetricType::kGaugeHistogram);
  EXPECT_EQ(p.families[7].samples.size(), 7u);
}

TEST(OpenMetrics, SpecExemplars) {
  Parsed p = Om(R"(# TYPE foo histogram
foo_bucket{le="0.01"} 0
foo_bucket{le="0.1"} 8 # {} 0.054
foo_bucket{le="1"} 11 # {trace_id="KOO5S4vxi0o"} 0.67
foo_bucket{le="10"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE bar counter
bar_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
# EOF
)");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].samples.size(), 8u);
  EXPECT_EQ(p.families[0].samples[3].labels, L({{"le", "10"}}));  // exemplar labels dropped
  EXPECT_EQ(p.families[0].samples[3].value, 17);
  EXPECT_EQ(p.families[0].samples[3].timestamp_ms, kNow);
  EXPECT_EQ(p.families[1].samples[0].timestamp_ms, 1520879607789);
}

TEST(OpenMetrics, EscapesInLabelsAndHelp) {
  Parsed p =
      Om("# HELP foo Help with \\\" and \\\\ and \\n.\n"
         "foo{a=\"\\\\\",b=\"\\n\",c=\"\\\"\"} 1\n# EOF\n");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_EQ(p.families[0].help, "Help with \" and \\ and \n.");
  EXPECT_EQ(p.families[0].samples[0].labels, L({{"a", "\\"}, {"b", "\n"}, {"c", "\""}}));
}

// "BS normal-char" is in the grammar: an unknown escape is kept as written (upstream suite
// cases escaping, help_escaping, label_escaping).
TEST(OpenMetrics, UnknownEscapesAreKeptVerbatim) {
  Parsed p = Om("# HELP foo a \\z b\nfoo{a=\"x\\ty\"} 1\n# EOF\n");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.families[0].help, "a \\z b");
  EXPECT_EQ(p.families[0].samples[0].labels, L({{"a", "x\\ty"}}));
}

TEST(OpenMetrics, TimestampsAreSecondsConvertedToMilliseconds) {
  Parsed p =
      Om("a 1 1520879607\nb 1 1520879607.7895\nc 1 1.5e3\nd 1 -1.5\ne 1 0.0001\nf 1 .5\n# EOF\n");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  ASSERT_EQ(p.families.size(), 6u);
  EXPECT_EQ(p.families[0].samples[0].timestamp_ms, 1520879607000);
  EXPECT_EQ(p.families[1].samples[0].timestamp_ms, 1520879607790);
  EXPECT_EQ(p.families[2].samples[0].timestamp_ms, 1500000);
  EXPECT_EQ(p.families[3].samples[0].timestamp_ms, -1500);
  EXPECT_EQ(p.families[4].samples[0].timestamp_ms, 0);
  EXPECT_EQ(p.families[5].samples[0].timestamp_ms, 500);
}

TEST(OpenMetrics, TimestampsBeyondInt64MillisecondsSaturate) {
  Parsed p = Om("a 1 12345678901234567890.5\nb 1 -1e300\n# EOF\n");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.families[0].samples[0].timestamp_ms, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(p.families[1].samples[0].timestamp_ms, std::numeric_limits<std::int64_t>::min());
}

TEST(OpenMetrics, NumbersFollowTheGrammar) {
  Parsed p = Om("a NaN\nb +Inf\nc -inf\nd Infinity\ne 1.5E-3\nf -7\n# EOF");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  ASSERT_EQ(p.families.size(), 6u);
  EXPECT_TRUE(std::isnan(p.families[0].samples[0].value));
  EXPECT_EQ(p.families[1].samples[0].value, INFINITY);
  EXPECT_EQ(p.families[2].samples[0].value, -INFINITY);
  EXPECT_EQ(p.families[3].samples[0].value, INFINITY);
  EXPECT_DOUBLE_EQ(p.families[4].samples[0].value, 1.5e-3);
  EXPECT_EQ(p.families[5].samples[0].value, -7);
}

// Short decimals take a fast path; it must give exactly the double from_chars gives.
TEST(OpenMetrics, ShortDecimalsAreExact) {
  for (const char* text : {"0.1", "0.3", "1234.571429", "999999999999999", "99999999999999.9",
                           "0.000000000000001", "123456789.012345", "7", "0.0", "1.5"}) {
    Parsed p = Om(std::string("a ") + text + "\n# EOF\n");
    ASSERT_TRUE(p.status.ok()) << text;
    double expected = 0;
    std::string_view view(text);
    std::from_chars(view.data(), view.data() + view.size(), expected);
    EXPECT_EQ(p.families[0].samples[0].value, expected) << text;
  }
}

TEST(OpenMetrics, EofWithoutTrailingNewlineIsAccepted) {
  Parsed p = Om("a 1\n# EOF");
  EXPECT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.stats.samples, 1u);
}

TEST(OpenMetrics, EmptyExpositionIsJustEof) {
  Parsed p = Om("# EOF\n");
  EXPECT_TRUE(p.status.ok());
  EXPECT_THAT(p.families, IsEmpty());
  p = Om("# TYPE a gauge\n# HELP a Only metadata.\n# EOF\n");
  EXPECT_TRUE(p.status.ok());
  EXPECT_THAT(p.families, IsEmpty());
}

// Every one of these must reject the whole exposition and leave the output untouched.
class OpenMetricsInvalid : public ::testing::TestWithParam<const char*> {};

TEST_P(OpenMetricsInvalid, RejectedAsAWhole) {
  std::vector<MetricFamily> out;
  out.push_back(MetricFamily{"kept", "", MetricType::kGauge, {Sample{"kept", {}, 1, 1}}});
  ParseStats stats;
  Status status = ParseOpenMetrics(GetParam(), kNow, out, stats);
  EXPECT_FALSE(status.ok()) << GetParam();
  EXPECT_THAT(status.error(), HasSubstr("invalid OpenMetrics exposition"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "kept");
  EXPECT_EQ(stats.samples, 0u);
  EXPECT_EQ(stats.invalid_lines, 1u);
  EXPECT_FALSE(stats.first_error.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OpenMetricsInvalid,
    ::testing::Values(
        "",                                                      // no EOF at all
        "a 1\n",                                                 // missing EOF
        "a 1\n# EOF\n\n",                                        // something after EOF
        "# EOF\na 1\n",                                          // sample after EOF
        "a 1\n\n# EOF\n",                                        // blank line
        "a 1\r\n# EOF\n",                                        // CR line ending
        "# a comment\n# EOF\n",                                  // plain comments do not exist
        "a  1\n# EOF\n",                                         // two spaces
        "a 1 \n# EOF\n",                                         // trailing space
        " a 1\n# EOF\n",                                         // leading space
        "a{b=\"c\",} 1\n# EOF\n",                                // trailing comma
        "a{b = \"c\"} 1\n# EOF\n",                               // spaces in labels
        "a 0x10\n# EOF\n",                                       // hex value
        "a 1_000\n# EOF\n",                                      // underscore
        "a -NaN\n# EOF\n",                                       // signed NaN
        "a 1 NaN\n# EOF\n",                                      // NaN timestamp
        "a 1 1e999\n# EOF\n",                                    // timestamp out of range
        "a{b=\"\xff\"} 1\n# EOF\n",                              // invalid UTF-8
        "a{b=\"1\",b=\"2\"} 1\n# EOF\n",                         // duplicate label
        "# TYPE a gauge\n# TYPE a gauge\na 1\n# EOF\n",          // duplicate TYPE
        "# HELP a x\n# HELP a y\na 1\n# EOF\n",                  // duplicate HELP
        "# TYPE a gauge\na 1\n# HELP a late\n# EOF\n",           // metadata after samples
        "# TYPE a untyped\na 1\n# EOF\n",                        // text-format type word
        "# TYPE a counter\na 1\n# EOF\n",                        // counter needs _total
        "# TYPE a histogram\na_bucket 1\n# EOF\n",               // bucket without le
        "# TYPE a summary\na 1\n# EOF\n",                        // quantile line without quantile
        "a 1\nb 1\na 2\n# EOF\n",                                // interleaved families
        "# TYPE a counter\na_total 1\nb 1\na_total 2\n# EOF\n",  // interleaved counter
        "# TYPE a counter\na_total 1\n# TYPE a_total gauge\na_total 1\n# EOF\n",      // name clash
        "# TYPE a_created gauge\na_created 1\n# TYPE a counter\na_total 1\n# EOF\n",  // clash
        "# TYPE a_seconds gauge\n# UNIT a_seconds bytes\na_seconds 1\n# EOF\n",       // bad unit
        "# UNIT a_seconds se-conds\n# EOF\n",  // bad unit chars
        "a 1 # {x=\"y\"}\n# EOF\n",            // exemplar without value
        "a_total 1 #{x=\"y\"} 1\n# EOF\n",     // exemplar without space
        "# EOF \n",                            // not exactly EOF
        "a{b=\"c\"}1\n# EOF\n",                // no space before value
        "a\n# EOF\n"));                        // no value

// The rules between samples and on values that need the family's type (spec "Metric types"
// and "MetricPoint"); each body breaks exactly one.
INSTANTIATE_TEST_SUITE_P(
    TypeRules, OpenMetricsInvalid,
    ::testing::Values(
        "# TYPE a counter\na_total -1\n# EOF\n",                       // negative total
        "# TYPE a counter\na_total NaN\n# EOF\n",                      // NaN total
        "# TYPE a gauge\na 1 # {x=\"y\"} 1\n# EOF\n",                  // exemplar on a gauge
        "# TYPE a counter\na_created 1 # {x=\"y\"} 1\n# EOF\n",        // exemplar on _created
        "# TYPE a histogram\na_bucket{le=\"1\"} 0\n# EOF\n",            // no +Inf bucket
        "# TYPE a histogram\na_bucket{le=\"+INF\"} 0\n# EOF\n",         // +Inf spelt otherwise
        "# TYPE a histogram\na_bucket{le=\"2\"} 0\na_bucket{le=\"1\"} 0\n"  // buckets out of order
        "a_bucket{le=\"+Inf\"} 0\n# EOF\n",
        "# TYPE a histogram\na_bucket{le=\"1\"} 2\na_bucket{le=\"+Inf\"} 1\n# EOF\n",  // not cumulative
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 2\na_sum 1\n# EOF\n",  // count != +Inf
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_sum 1\n# EOF\n",  // sum without count
        "# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 1\na_count 1\n"
        "a_sum 1\n# EOF\n",  // negative bucket and a sum
        "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum -1\n# EOF\n",
        "# TYPE a summary\na{quantile=\"1.5\"} 1\n# EOF\n",     // quantile above 1
        "# TYPE a summary\na{quantile=\"0.5\"} -1\n# EOF\n",    // negative quantile value
        "# TYPE a summary\na_count NaN\n# EOF\n",               // NaN count
        "# TYPE a stateset\na{a=\"x\"} 2\n# EOF\n",             // state neither 0 nor 1
        "# TYPE a stateset\na 1\n# EOF\n",                      // no label named after the family
        "# TYPE a info\na_info 2\n# EOF\n",                     // info value not 1
        "# TYPE a_s info\n# UNIT a_s s\n# EOF\n",               // unit on an info family
        "# UNIT a_s s\n# TYPE a_s stateset\n# EOF\n",           // unit on a stateset family
        "# HELP a\n# EOF\n",                                     // HELP without its space
        "# UNIT a\n# EOF\n",                                     // UNIT without its space
        "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 1\n# EOF\n",  // Metrics interleaved
        "# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na 1\na{y=\"2\",x=\"1\"} 1\n# EOF\n",  // same, reordered
        "# TYPE a histogram\na_bucket{x=\"1\",le=\"+Inf\"} 0\na_bucket{x=\"2\",le=\"+Inf\"} 0\n"
        "a_bucket{x=\"1\",le=\"+Inf\"} 0\n# EOF\n",  // MetricPoints interleaved
        "# TYPE a gauge\na 1 2\na 1 1\n# EOF\n",       // timestamps go backwards
        "# TYPE a gauge\na 1\na 1 1\n# EOF\n",         // timestamp on one sample only
        "# TYPE a gauge\na 1 1\na 1\n# EOF\n"));       // and the other way round

TEST(OpenMetrics, TypeRulesAcceptWhatTheSpecAllows) {
  // Several Metrics per family, several MetricPoints per Metric (rising timestamps), label
  // order and empty labels not mattering, negative buckets without a sum, a negative gsum next
  // to negative buckets, NaN summary quantiles, a state set and an info metric.
  Parsed p = Om(R"(# TYPE h histogram
h_bucket{x="1",le="1"} 1 10
h_bucket{x="1",le="+Inf"} 2 10
h_count{x="1"} 2 10
h_sum{x="1"} 3 10
h_created{x="1"} 1 10
h_bucket{x="1",le="1"} 2 20
h_bucket{x="1",le="+Inf"} 3 20
h_count{x="1"} 3 20
h_sum{x="1"} 4 20
h_created{x="1"} 1 20
h_bucket{le="-1",x="2"} 0
h_bucket{le="+Inf",x="2"} 0
# TYPE g gaugehistogram
g_bucket{le="-1"} 1
g_bucket{le="+Inf"} 2
g_gcount 2
g_gsum -5
# TYPE s summary
s{quantile="0.5"} NaN
s{quantile="1"} 0
s_sum 0
s_count 0
# TYPE st stateset
st{st="a",y="1"} 1
st{st="b",y="1"} 0
st{st="a",y="2"} 0
# TYPE i info
i_info{version="1"} 1
# TYPE c counter
c_total{a="1",b="2"} 1 1
c_total{b="2",a="1",z=""} 2 1
c_total{a="1",b="3"} 2 0
# EOF
)");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.stats.samples, 27u);
}

TEST(OpenMetrics, ExemplarLabelSetIsLimitedTo128Characters) {
  std::string ok = "# TYPE a counter\na_total 1 # {t=\"" + std::string(127, 'x') + "\"} 1\n# EOF\n";
  EXPECT_TRUE(Om(ok).status.ok());
  std::string too_long =
      "# TYPE a counter\na_total 1 # {t=\"" + std::string(128, 'x') + "\"} 1\n# EOF\n";
  EXPECT_FALSE(Om(too_long).status.ok());
}

TEST(OpenMetrics, UnitMustBeASuffix) {
  EXPECT_TRUE(
      Om("# TYPE a_seconds gauge\n# UNIT a_seconds seconds\na_seconds 1\n# EOF\n").status.ok());
  EXPECT_TRUE(Om("# UNIT a \n# EOF\n").status.ok());  // empty unit
}

TEST(OpenMetrics, ErrorKeepsEarlierStatsAndReportsItsOwnMessage) {
  std::vector<MetricFamily> out;
  ParseStats stats;
  stats.first_error = "earlier";
  stats.samples = 5;
  Status status = ParseOpenMetrics("a 1\nb 2 x\n# EOF\n", kNow, out, stats);
  EXPECT_THAT(status.error(), HasSubstr("line 2"));
  EXPECT_EQ(stats.first_error, "earlier");
  EXPECT_EQ(stats.samples, 5u);
  EXPECT_THAT(out, IsEmpty());
}

TEST(OpenMetrics, UntypedSamplesFormTheirOwnFamilies) {
  Parsed p = Om("a 1\na{x=\"1\"} 2\nb_total 3\n# EOF\n");
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].samples.size(), 2u);
  EXPECT_EQ(p.families[1].name, "b_total");
  EXPECT_EQ(p.families[1].type, MetricType::kUntyped);
}

TEST(OpenMetrics, HugeLabelValue) {
  std::string body = "a{x=\"" + std::string(100 * 1024, 'v') + "\"} 1\n# EOF\n";
  Parsed p = Om(body);
  ASSERT_TRUE(p.status.ok()) << p.status.error();
  EXPECT_EQ(p.families[0].samples[0].labels[0].value.size(), 100u * 1024);
}

}  // namespace
}  // namespace metricsd
