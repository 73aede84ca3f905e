#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "formats/exposition_parser.h"
#include "test_util.h"

namespace metricsd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::int64_t kNow = 1'700'000'000'000;

struct Parsed {
  std::vector<MetricFamily> families;
  ParseStats stats;

  const MetricFamily* Family(std::string_view name) const {
    for (const auto& f : families) {
      if (f.name == name) {
        return &f;
      }
    }
    return nullptr;
  }
};

Parsed Text(std::string_view body) {
  Parsed p;
  ParsePrometheusText(body, kNow, p.families, p.stats);
  return p;
}

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(METRICSD_FIXTURES_DIR) + "/scrape/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The example of the exposition-formats document, section "Text format example".
constexpr std::string_view kSpecExample =
    R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.05"} 3272
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.9"} 9001
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
)";

TEST(PrometheusText, SpecExample) {
  Parsed p = Text(kSpecExample);
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  EXPECT_EQ(p.stats.samples, 20u);
  ASSERT_EQ(p.families.size(), 6u);

  const MetricFamily& requests = p.families[0];
  EXPECT_EQ(requests.name, "http_requests_total");
  EXPECT_EQ(requests.help, "The total number of HTTP requests.");
  EXPECT_EQ(requests.type, MetricType::kCounter);
  ASSERT_EQ(requests.samples.size(), 2u);
  EXPECT_EQ(requests.samples[0],
            (Sample{"http_requests_total", L({{"code", "200"}, {"method", "post"}}), 1027,
                    1395066363000}));
  EXPECT_EQ(requests.samples[1].value, 3);

  const MetricFamily& msdos = p.families[1];
  EXPECT_EQ(msdos.type, MetricType::kUntyped);
  EXPECT_EQ(msdos.samples[0].labels,
            L({{"error", "Cannot find file:\n\"FILE.TXT\""}, {"path", "C:\\DIR\\FILE.TXT"}}));
  EXPECT_DOUBLE_EQ(msdos.samples[0].value, 1.458255915e9);
  EXPECT_EQ(msdos.samples[0].timestamp_ms, kNow);

  EXPECT_EQ(p.families[2].samples[0],
            (Sample{"metric_without_timestamp_and_labels", {}, 12.47, kNow}));

  const MetricFamily& weird = p.families[3];
  EXPECT_TRUE(std::isinf(weird.samples[0].value));
  EXPECT_GT(weird.samples[0].value, 0);
  EXPECT_EQ(weird.samples[0].timestamp_ms, -3982045);

  const MetricFamily& hist = p.families[4];
  EXPECT_EQ(hist.name, "http_request_duration_seconds");
  EXPECT_EQ(hist.type, MetricType::kHistogram);
  EXPECT_EQ(hist.help, "A histogram of the request duration.");
  ASSERT_EQ(hist.samples.size(), 8u);
  EXPECT_EQ(hist.samples[5].name, "http_request_duration_seconds_bucket");
  EXPECT_EQ(hist.samples[5].labels, L({{"le", "+Inf"}}));
  EXPECT_EQ(hist.samples[6].name, "http_request_duration_seconds_sum");
  EXPECT_EQ(hist.samples[7].name, "http_request_duration_seconds_count");
  EXPECT_EQ(hist.samples[7].value, 144320);

  const MetricFamily& summary = p.families[5];
  EXPECT_EQ(summary.type, MetricType::kSummary);
  ASSERT_EQ(summary.samples.size(), 7u);
  EXPECT_EQ(summary.samples[0].labels, L({{"quantile", "0.01"}}));
  EXPECT_EQ(summary.samples[5].name, "rpc_duration_seconds_sum");
  EXPECT_DOUBLE_EQ(summary.samples[5].value, 1.7560473e+07);
}

TEST(PrometheusText, CrLfLineEndingsAreTolerated) {
  Parsed p = Text("# HELP a Help.\r\n# TYPE a gauge\r\na{x=\"1\"} 2\r\nb 3 1000\r\n");
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].help, "Help.");
  EXPECT_EQ(p.families[0].type, MetricType::kGauge);
  EXPECT_EQ(p.families[0].samples[0].value, 2);
  EXPECT_EQ(p.families[1].samples[0].timestamp_ms, 1000);
}

TEST(PrometheusText, OriginalCrashInputsAreCountedNotFatal) {
  Parsed p = Text("foo{a=\"b\"}\n");
  EXPECT_THAT(p.families, IsEmpty());
  EXPECT_EQ(p.stats.invalid_lines, 1u);
  EXPECT_THAT(p.stats.first_error, HasSubstr("line 1"));

  p = Text("a}b{c=\"d\"} 1\nok 1\n");
  EXPECT_EQ(p.stats.invalid_lines, 1u);
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_EQ(p.families[0].name, "ok");
}

TEST(PrometheusText, EmptyBodyAndOnlyComments) {
  Parsed p = Text("");
  EXPECT_THAT(p.families, IsEmpty());
  EXPECT_EQ(p.stats.samples, 0u);
  EXPECT_EQ(p.stats.invalid_lines, 0u);

  p = Text("# just a comment\n#\n   \n\t\n# HELP x Only help.\n# TYPE x counter\n# EOF\n");
  EXPECT_THAT(p.families, IsEmpty());  // families without samples are not reported
  EXPECT_EQ(p.stats.invalid_lines, 0u);
}

TEST(PrometheusText, LastLineWithoutNewline) {
  Parsed p = Text("a 1\nb 2");
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[1].samples[0].value, 2);
}

TEST(PrometheusText, Values) {
  Parsed p = Text(
      "a NaN\nb +Inf\nc -Inf\nd inf\ne -1.5e-3\nf 0x1p4\ng .5\nh 5.\ni 1e308\nj -0\nk nan\n"
      "l Infinity\n");
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  ASSERT_EQ(p.families.size(), 12u);
  EXPECT_TRUE(std::isnan(p.families[0].samples[0].value));
  EXPECT_EQ(p.families[1].samples[0].value, INFINITY);
  EXPECT_EQ(p.families[2].samples[0].value, -INFINITY);
  EXPECT_EQ(p.families[3].samples[0].value, INFINITY);
  EXPECT_DOUBLE_EQ(p.families[4].samples[0].value, -1.5e-3);
  EXPECT_EQ(p.families[5].samples[0].value, 16);
  EXPECT_EQ(p.families[6].samples[0].value, 0.5);
  EXPECT_EQ(p.families[7].samples[0].value, 5);
  EXPECT_EQ(p.families[8].samples[0].value, 1e308);
  EXPECT_TRUE(std::signbit(p.families[9].samples[0].value));
  EXPECT_TRUE(std::isnan(p.families[10].samples[0].value));
  EXPECT_EQ(p.families[11].samples[0].value, INFINITY);
}

TEST(PrometheusText, InvalidValuesAndTimestamps) {
  for (std::string_view line :
       {"a 1x", "a abc", "a 1e999", "a nan(1)", "a 1_000", "a --1", "a +", "a 1 1.5", "a 1 x",
        "a 1 99999999999999999999", "a 1 2 3", "a 1 +-5", "a 0x", "a ."}) {
    Parsed p = Text(line);
    EXPECT_THAT(p.families, IsEmpty()) << line;
    EXPECT_EQ(p.stats.invalid_lines, 1u) << line;
  }
}

TEST(PrometheusText, TimestampsAreMilliseconds) {
  Parsed p = Text("a 1 1700000000123\nb 1 -5\nc 1 +42\n");
  ASSERT_EQ(p.families.size(), 3u);
  EXPECT_EQ(p.families[0].samples[0].timestamp_ms, 1700000000123);
  EXPECT_EQ(p.families[1].samples[0].timestamp_ms, -5);
  EXPECT_EQ(p.families[2].samples[0].timestamp_ms, 42);
}

TEST(PrometheusText, Whitespace) {
  Parsed p = Text(
      "  a   1   5  \n"
      "b\t{ x = \"1\" , y=\"2\" , }\t2\n"
      "c{}3\n"
      "d {x=\"1\"} 4\n");
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  ASSERT_EQ(p.families.size(), 4u);
  EXPECT_EQ(p.families[0].samples[0].timestamp_ms, 5);
  EXPECT_EQ(p.families[1].samples[0].labels, L({{"x", "1"}, {"y", "2"}}));
  EXPECT_EQ(p.families[2].samples[0].value, 3);
  EXPECT_EQ(p.families[3].samples[0].labels, L({{"x", "1"}}));
}

TEST(PrometheusText, LabelEscapes) {
  Parsed p = Text(R"(a{q="x\"y",b="back\\slash",n="line\nbreak",u="keep\t"} 1)");
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  ASSERT_EQ(p.families.size(), 1u);
  // Unknown escapes stay verbatim, as in the Prometheus scraper.
  EXPECT_EQ(p.families[0].samples[0].labels,
            L({{"b", "back\\slash"}, {"n", "line\nbreak"}, {"q", "x\"y"}, {"u", "keep\\t"}}));
}

TEST(PrometheusText, LabelsAreSortedEmptyDroppedDuplicatesRejected) {
  Parsed p = Text("a{z=\"1\",b=\"2\",m=\"\"} 1\nb{x=\"1\",x=\"2\"} 1\nc{__name__=\"x\"} 1\n");
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_EQ(p.families[0].samples[0].labels, L({{"b", "2"}, {"z", "1"}}));
  EXPECT_EQ(p.stats.invalid_lines, 2u);
}

TEST(PrometheusText, InvalidLabelSyntax) {
  for (std::string_view line :
       {"a{x=\"1\" 1", "a{x=1} 1", "a{1x=\"1\"} 1", "a{x=\"1\"y=\"2\"} 1", "a{x=\"1} 1",
        "a{x=\"1\\", "a{=\"1\"} 1", "a{x} 1", "a{,} 1", "a{x=\"1\",,} 1", "a-b 1", "1a 1",
        "{x=\"1\"} 1", "a{x.y=\"1\"} 1"}) {
    Parsed p = Text(line);
    EXPECT_THAT(p.families, IsEmpty()) << line;
    EXPECT_EQ(p.stats.invalid_lines, 1u) << line;
  }
}

TEST(PrometheusText, InvalidUtf8LabelValueRejectsTheLine) {
  Parsed p = Text(
      "a{x=\"\xff\xfe\"} 1\nb{x=\"\xc3\x28\"} 1\nc{x=\"\xed\xa0\x80\"} 1\n"
      "d{x=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n");
  EXPECT_EQ(p.stats.invalid_lines, 3u);
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_EQ(p.families[0].samples[0].labels[0].value, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(PrometheusText, TypesGroupSamplesIntoFamilies) {
  Parsed p = Text(
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\n"
      "other 5\n"
      "h_sum 3\n"  // interleaved: still grouped under h
      "h_count 2\n"
      "# TYPE s summary\n"
      "s_sum 1\n"
      "s_count 1\n"
      "s{quantile=\"0.5\"} 1\n"
      "# TYPE c counter\n"
      "c_total 1\n"  // the text format has no _total convention: a separate untyped family
      "c 2\n");
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  ASSERT_EQ(p.families.size(), 5u);
  EXPECT_EQ(p.families[0].name, "h");
  EXPECT_EQ(p.families[0].samples.size(), 4u);
  EXPECT_EQ(p.families[1].name, "other");
  EXPECT_EQ(p.families[2].name, "s");
  EXPECT_EQ(p.families[2].samples.size(), 3u);
  // Families come in the order of their first samples.
  EXPECT_EQ(p.families[3].name, "c_total");
  EXPECT_EQ(p.families[3].type, MetricType::kUntyped);
  EXPECT_EQ(p.families[4].name, "c");
  EXPECT_EQ(p.families[4].type, MetricType::kCounter);
  EXPECT_EQ(p.families[4].samples.size(), 1u);
}

TEST(PrometheusText, HistogramAndSummaryNeedTheirLabels) {
  Parsed p = Text(
      "# TYPE h histogram\nh_bucket 1\nh_bucket{le=\"x\"} 1\nh 1\nh_count 1\n"
      "# TYPE s summary\ns 1\ns{quantile=\"a\"} 1\ns{quantile=\"0.9\"} 1\n");
  EXPECT_EQ(p.stats.invalid_lines, 5u);
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].samples.size(), 1u);
  EXPECT_EQ(p.families[1].samples.size(), 1u);
}

TEST(PrometheusText, MetadataRules) {
  Parsed p = Text(
      "# TYPE a gauge\n"
      "# TYPE a counter\n"  // second TYPE: invalid, first kept
      "# HELP a First.\n"
      "# HELP a Second.\n"  // second HELP: invalid
      "a 1\n"
      "b 1\n"
      "# TYPE b gauge\n"  // TYPE after samples: invalid
      "# TYPE d nonsense\n"
      "# TYPE\n"
      "# HELP 1bad x\n"
      "# HELP e Escapes \\\\ and \\n and \\q.\n"
      "#HELP f No space after hash.\n"
      "# TYPE g   gauge   \n"
      "# random comment with TYPE in it\n"
      "e 1\nf 1\ng 1\n");
  EXPECT_EQ(p.stats.invalid_lines, 6u);
  ASSERT_EQ(p.families.size(), 5u);
  EXPECT_EQ(p.families[0].type, MetricType::kGauge);
  EXPECT_EQ(p.families[0].help, "First.");
  EXPECT_EQ(p.families[1].type, MetricType::kUntyped);
  EXPECT_EQ(p.families[2].help, "Escapes \\ and \n and \\q.");
  EXPECT_EQ(p.families[3].help, "No space after hash.");
  EXPECT_EQ(p.families[4].type, MetricType::kGauge);
}

TEST(PrometheusText, ExemplarsAreToleratedAndDropped) {
  Parsed p = Text(
      "a_total 1 # {trace_id=\"abc\"} 0.5\n"
      "b 2 1000 # {trace_id=\"abc\"} 0.5 1.5\n"
      "c 3 # not an exemplar\n");
  EXPECT_EQ(p.stats.invalid_lines, 1u);
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].samples[0].value, 1);
  EXPECT_EQ(p.families[1].samples[0].timestamp_ms, 1000);
}

TEST(PrometheusText, HugeLineHasNoLengthLimit) {
  std::string value(100 * 1024, 'v');
  std::string body = "big{x=\"" + value + "\"} 7\nsmall 1\n";
  Parsed p = Text(body);
  EXPECT_EQ(p.stats.invalid_lines, 0u);
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].samples[0].labels[0].value.size(), value.size());
  EXPECT_EQ(p.families[0].samples[0].value, 7);

  // The same size of garbage on one line is one invalid line.
  p = Text(std::string(100 * 1024, '{') + "\nsmall 1\n");
  EXPECT_EQ(p.stats.invalid_lines, 1u);
  EXPECT_EQ(p.families.size(), 1u);
}

TEST(PrometheusText, AppendsAfterExistingFamiliesAndAccumulatesStats) {
  Parsed p;
  p.families.push_back(MetricFamily{"pre", "", MetricType::kGauge, {}});
  ParsePrometheusText("a 1\nbad\n", kNow, p.families, p.stats);
  ParsePrometheusText("b 1\nworse\n", kNow, p.families, p.stats);
  ASSERT_EQ(p.families.size(), 3u);
  EXPECT_EQ(p.families[0].name, "pre");  // an empty family that was there stays
  EXPECT_EQ(p.stats.samples, 2u);
  EXPECT_EQ(p.stats.invalid_lines, 2u);
  EXPECT_THAT(p.stats.first_error, HasSubstr("line 2"));
}

TEST(PrometheusText, NodeExporterFixture) {
  std::string body = ReadFixture("node_exporter.txt");
  ASSERT_FALSE(body.empty());
  Parsed p = Text(body);
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  EXPECT_EQ(p.stats.samples, 507u);
  const MetricFamily* cpu = p.Family("node_cpu_seconds_total");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->type, MetricType::kCounter);
  const MetricFamily* gc = p.Family("go_gc_duration_seconds");
  ASSERT_NE(gc, nullptr);
  EXPECT_EQ(gc->type, MetricType::kSummary);
  EXPECT_EQ(gc->samples.size(), 7u);
  for (const auto& family : p.families) {
    EXPECT_TRUE(IsValidMetricName(family.name));
    for (const auto& sample : family.samples) {
      EXPECT_TRUE(std::is_sorted(sample.labels.begin(), sample.labels.end()));
    }
  }
}

TEST(PrometheusText, PrometheusServerFixture) {
  std::string body = ReadFixture("prometheus.txt");
  ASSERT_FALSE(body.empty());
  Parsed p = Text(body);
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  EXPECT_EQ(p.stats.samples, 295u);
  std::size_t histograms = 0;
  for (const auto& f : p.families) {
    histograms += f.type == MetricType::kHistogram ? 1 : 0;
  }
  EXPECT_GT(histograms, 0u);
}

TEST(PrometheusText, OpenMetricsBodyParsesLeniently) {
  // A body mislabelled as text/plain: _total counters become untyped families of their own
  // name, "# EOF" is a comment and seconds timestamps are read as milliseconds (as Prometheus).
  Parsed p = Text("# TYPE foo counter\nfoo_total 1 # {a=\"b\"} 1\n# EOF\n");
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_EQ(p.families[0].name, "foo_total");
}

// OpenMetrics' type rules (value signs, bucket order, +Inf, grouping, timestamp order, where
// exemplars go) are not the text format's: the Prometheus scraper takes all of these lines.
TEST(PrometheusText, OpenMetricsTypeRulesDoNotApply) {
  Parsed p = Text(R"(# TYPE c counter
c -1
c NaN
# TYPE h histogram
h_bucket{le="2"} 3
h_bucket{le="1"} 1
h_sum -4
h_count 9
# TYPE g gauge
g{x="1"} 1 2000
g{x="2"} 1
g{x="1"} 1 1000
g 1 # {trace_id="a"} 1
)");
  EXPECT_EQ(p.stats.invalid_lines, 0u) << p.stats.first_error;
  EXPECT_EQ(p.stats.samples, 10u);
}

TEST(PrometheusText, BinaryGarbageNeverCrashes) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) {
    garbage.push_back(static_cast<char>((i * 7919) & 0xff));
  }
  Parsed p = Text(garbage);
  EXPECT_GT(p.stats.invalid_lines, 0u);
}

}  // namespace
}  // namespace metricsd

namespace metricsd {
namespace {

// The streaming form must see exactly the samples the family form builds.
struct Flat {
  std::string family;
  std::string help;
  MetricType type;
  Sample sample;
  friend bool operator==(const Flat&, const Flat&) = default;
};

std::vector<Flat> FlattenSorted(const std::vector<MetricFamily>& families) {
  std::vector<Flat> out;
  for (const MetricFamily& f : families) {
    for (const Sample& s : f.samples) {
      out.push_back(Flat{f.name, f.help, f.type, s});
    }
  }
  std::sort(out.begin(), out.end(), [](const Flat& a, const Flat& b) {
    return std::tie(a.sample.name, a.sample.labels, a.sample.value) <
           std::tie(b.sample.name, b.sample.labels, b.sample.value);
  });
  return out;
}

struct Collecting final : SampleVisitor {
  void OnSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                double value, std::int64_t timestamp_ms, std::string_view /*series*/) override {
    MetricFamily& f = families.emplace_back();
    f.name = family.name;
    f.help = family.help;
    f.type = family.type;
    Sample& s = f.samples.emplace_back();
    s.name = name;
    for (const LabelView& l : labels) {
      s.labels.push_back(Label{std::string(l.name), std::string(l.value)});
    }
    s.value = value;
    s.timestamp_ms = timestamp_ms;
  }
  std::vector<MetricFamily> families;
};

TEST(PrometheusText, VisitorSeesExactlyTheSamplesOfTheFamilyForm) {
  const std::string bodies[] = {
      std::string(kSpecExample),
      "a{x=\"1\",y=\"\"} 1\nb 2\na{x=\"2\"} 3\n# HELP a Late help.\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"
      "bad line here\nh_count{z=\"q\\\"\\\\\"} 4 1234\n",
  };
  for (const std::string& body : bodies) {
    std::vector<MetricFamily> families;
    ParseStats family_stats;
    ParsePrometheusText(body, kNow, families, family_stats);
    Collecting visitor;
    ParseStats visitor_stats;
    ParsePrometheusText(body, kNow, visitor, visitor_stats);
    EXPECT_EQ(visitor_stats.samples, family_stats.samples);
    EXPECT_EQ(visitor_stats.invalid_lines, family_stats.invalid_lines);
    std::vector<Flat> expected = FlattenSorted(families);
    std::vector<Flat> seen = FlattenSorted(visitor.families);
    // Help is "as far as seen": a HELP after the samples only reaches the family form.
    for (Flat& f : expected) {
      if (f.family == "a") {
        f.help.clear();
      }
    }
    EXPECT_EQ(seen, expected) << body;
  }
}

TEST(OpenMetrics, VisitorSeesTheSamplesAndTheSameVerdict) {
  const std::string good =
      "# TYPE c counter\n# HELP c Things.\nc_total{a=\"b\"} 1 1.5 # {trace_id=\"x\"} 1\n"
      "c_created 2\n# TYPE g gauge\ng 3\n# EOF\n";
  std::vector<MetricFamily> families;
  ParseStats stats;
  ASSERT_TRUE(ParseOpenMetrics(good, kNow, families, stats).ok());
  Collecting visitor;
  ParseStats visitor_stats;
  ASSERT_TRUE(ParseOpenMetrics(good, kNow, visitor, visitor_stats).ok());
  EXPECT_EQ(FlattenSorted(visitor.families), FlattenSorted(families));
  EXPECT_EQ(visitor_stats.samples, 3U);

  Collecting rejected;
  ParseStats rejected_stats;
  EXPECT_FALSE(ParseOpenMetrics("c_total 1\n", kNow, rejected, rejected_stats).ok());
  EXPECT_EQ(rejected_stats.samples, 0U);
  EXPECT_EQ(rejected_stats.invalid_lines, 1U);
}

// A visitor that knows some series texts (as a series cache does) and offers the one after
// the last it saw.
struct KnowingVisitor final : SampleVisitor {
  std::string_view NextKnownSeries() override {
    return next < known.size() ? std::string_view(known[next]) : std::string_view();
  }
  void OnKnownSample(const FamilyView& family, double value, std::int64_t /*timestamp_ms*/,
                     std::string_view series) override {
    EXPECT_EQ(series, known.at(next));
    ++next;
    seen.push_back("known " + std::string(family.name) + " " + std::string(series) + " " +
                   std::to_string(value));
  }
  void OnSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                double value, std::int64_t /*timestamp_ms*/, std::string_view series) override {
    for (std::size_t k = 0; k < known.size(); ++k) {
      if (series == known[k]) {
        next = k + 1;
      }
    }
    std::string text = "lexed " + std::string(family.name) + " " + std::string(name);
    for (const LabelView& l : labels) {
      text += " " + std::string(l.name) + "=" + std::string(l.value);
    }
    seen.push_back(text + " " + std::to_string(value));
  }
  std::vector<std::string> known;
  std::size_t next = 0;
  std::vector<std::string> seen;
};

TEST(PrometheusText, AKnownSeriesSkipsItsLabelsUnlessItsFamilyNeedsThem) {
  KnowingVisitor visitor;
  visitor.known = {R"(a{x="1"})",        R"(a{x="2"})", R"(h_bucket{le="1"})",
                   R"(g_bucket{x="1"})", R"(b{y="1"})", R"(c{z="1"})"};
  ParseStats stats;
  ParsePrometheusText(
      "a{x=\"1\"} 1\n"
      "a{x=\"2\",w=\"3\"} 2\n"  // the same start, another label block: lexed
      "a{x=\"2\"} bad\n"        // known, but an invalid value: skipped as always
      "a{x=\"2\"} 2.5\n"
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 3\n"  // known, but the bound is a label: lexed
      "# TYPE g histogram\n"
      "g_bucket{x=\"1\"} 5\n"  // known when g had no type: now a bucket without le
      "b{y=\"1\"} 4 1700000000001\n"
      "c{z=\"1\"}\n",  // known, but no value
      kNow, visitor, stats);
  EXPECT_THAT(visitor.seen,
              ElementsAre("known a a{x=\"1\"} 1.000000", "lexed a a w=3 x=2 2.000000",
                          "known a a{x=\"2\"} 2.500000", "lexed h h_bucket le=1 3.000000",
                          "lexed b b y=1 4.000000"));
  EXPECT_EQ(stats.samples, 5U);
  EXPECT_EQ(stats.invalid_lines, 3U);

  // OpenMetrics checks every sample's labels: nothing is taken as known.
  KnowingVisitor strict;
  strict.known = {R"(a{x="1"})"};
  ParseStats strict_stats;
  ASSERT_TRUE(ParseOpenMetrics("a{x=\"1\"} 1\n# EOF\n", kNow, strict, strict_stats).ok());
  EXPECT_THAT(strict.seen, ElementsAre("lexed a a x=1 1.000000"));
}

}  // namespace
}  // namespace metricsd
