#include "relabel/relabel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <vector>

// Counts heap allocations, so that a test can show that the no-change path makes none.
// GCC cannot see that these replace the global operators and warns about malloc/free.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<long> allocation_count{0};

void* CountedAllocation(std::size_t size) noexcept {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

// Every form that pairs with the plain deletes below (std::stable_sort's buffer uses the
// nothrow one), so that sanitizer builds see malloc/free on both sides.
void* operator new(std::size_t size) {
  if (void* block = CountedAllocation(size)) {
    return block;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocation(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocation(size);
}
void operator delete(void* block) noexcept { std::free(block); }
void operator delete(void* block, std::size_t) noexcept { std::free(block); }
void operator delete[](void* block) noexcept { std::free(block); }
void operator delete[](void* block, std::size_t) noexcept { std::free(block); }
void operator delete(void* block, const std::nothrow_t&) noexcept { std::free(block); }
void operator delete[](void* block, const std::nothrow_t&) noexcept { std::free(block); }

namespace metricsd {

void PrintTo(const Label& label, std::ostream* os) {
  *os << label.name << "=\"" << label.value << '"';
}

namespace {

std::vector<LabelView> Views(const Labels& labels) {
  std::vector<LabelView> views;
  for (const Label& label : labels) {
    views.push_back({label.name, label.value});
  }
  return views;
}

Labels Sorted(Labels labels) {
  SortLabels(labels);
  return labels;
}

// The labels after the program, or nullopt when it dropped the series.
std::optional<Labels> Relabeled(const RelabelProgram& program, const Labels& input) {
  RelabelScratch scratch;
  Labels out;
  const std::vector<LabelView> views = Views(input);
  switch (program.Apply(views, scratch, out)) {
    case RelabelOutcome::kDropped:
      return std::nullopt;
    case RelabelOutcome::kUnchanged:
      return input;
    case RelabelOutcome::kChanged:
      return out;
  }
  return std::nullopt;
}

RelabelProgram MustCompile(const std::vector<RelabelRule>& rules) {
  Result<RelabelProgram> program = RelabelProgram::Compile(rules);
  EXPECT_TRUE(program.ok()) << program.error();
  return program.ok() ? std::move(program).value() : RelabelProgram();
}

std::string CompileError(const std::vector<RelabelRule>& rules) {
  Result<RelabelProgram> program = RelabelProgram::Compile(rules);
  return program.ok() ? "(compiled)" : program.error();
}

struct ApplyCase {
  std::string name;
  Labels input;
  std::vector<RelabelRule> rules;
  std::optional<Labels> output;  // nullopt: the series is dropped
};

void PrintTo(const ApplyCase& c, std::ostream* os) { *os << c.name; }

class PrometheusRelabelCase : public testing::TestWithParam<ApplyCase> {};

TEST_P(PrometheusRelabelCase, GivesPrometheusResult) {
  const ApplyCase& c = GetParam();
  const RelabelProgram program = MustCompile(c.rules);
  const std::optional<Labels> result = Relabeled(program, Sorted(c.input));
  if (!c.output) {
    EXPECT_FALSE(result.has_value()) << "expected the series to be dropped";
    return;
  }
  ASSERT_TRUE(result.has_value()) << "the series was dropped";
  EXPECT_EQ(*result, Sorted(*c.output));
}

// Every case of TestRelabel in Prometheus v2.42.0 model/relabel/relabel_test.go, in order,
// with the rule defaults Prometheus' test fills in.
INSTANTIATE_TEST_SUITE_P(
    Upstream, PrometheusRelabelCase,
    testing::Values(
        ApplyCase{"ReplaceBracedGroupTwice",
                  {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
                  {{.source_labels = {"a"},
                    .regex = "f(.*)",
                    .target_label = "d",
                    .replacement = "ch${1}-ch${1}"}},
                  Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "choo-choo"}}},
        ApplyCase{"ReplaceChainOverJoinedSources",
                  {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
                  {{.source_labels = {"a", "b"},
                    .regex = "f(.*);(.*)r",
                    .target_label = "a",
                    .replacement = "b${1}${2}m"},
                   {.source_labels = {"c", "a"},
                    .regex = "(b).*b(.*)ba(.*)",
                    .target_label = "d",
                    .replacement = "$1$2$2$3"}},
                  Labels{{"a", "boobam"}, {"b", "bar"}, {"c", "baz"}, {"d", "boooom"}}},
        ApplyCase{"DropStopsBeforeLaterReplace",
                  {{"a", "foo"}},
                  {{.source_labels = {"a"}, .regex = ".*o.*", .action = "drop"},
                   {.source_labels = {"a"},
                    .regex = "f(.*)",
                    .target_label = "d",
                    .replacement = "ch$1-ch$1"}},
                  std::nullopt},
        ApplyCase{"DropOnMatch",
                  {{"a", "foo"}, {"b", "bar"}},
                  {{.source_labels = {"a"}, .regex = ".*o.*", .action = "drop"}},
                  std::nullopt},
        ApplyCase{"ReplaceWithInnerGroup",
                  {{"a", "abc"}},
                  {{.source_labels = {"a"}, .regex = ".*(b).*", .target_label = "d"}},
                  Labels{{"a", "abc"}, {"d", "b"}}},
        ApplyCase{"DropWithoutMatchKeeps",
                  {{"a", "foo"}},
                  {{.source_labels = {"a"}, .regex = "no-match", .action = "drop"}},
                  Labels{{"a", "foo"}}},
        ApplyCase{"DropRegexIsAnchored",
                  {{"a", "foo"}},
                  {{.source_labels = {"a"}, .regex = "f|o", .action = "drop"}},
                  Labels{{"a", "foo"}}},
        ApplyCase{"KeepWithoutMatchDrops",
                  {{"a", "foo"}},
                  {{.source_labels = {"a"}, .regex = "no-match", .action = "keep"}},
                  std::nullopt},
        ApplyCase{"KeepOnMatch",
                  {{"a", "foo"}},
                  {{.source_labels = {"a"}, .regex = "f.*", .action = "keep"}},
                  Labels{{"a", "foo"}}},
        ApplyCase{
            "ReplaceWithoutMatchChangesNothing",
            {{"a", "boo"}},
            {{.source_labels = {"a"}, .regex = "f", .target_label = "b", .replacement = "bar"}},
            Labels{{"a", "boo"}}},
        ApplyCase{
            "HashModOfOneValue",
            {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
            {{.source_labels = {"c"}, .modulus = 1000, .target_label = "d", .action = "hashmod"}},
            Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "976"}}},
        ApplyCase{
            "HashModOfValueWithNewline",
            {{"a", "foo\nbar"}},
            {{.source_labels = {"a"}, .modulus = 1000, .target_label = "b", .action = "hashmod"}},
            Labels{{"a", "foo\nbar"}, {"b", "734"}}},
        ApplyCase{
            "LabelMapAddsPrefixedCopies",
            {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
            {{.regex = "(b.*)", .replacement = "bar_${1}", .action = "labelmap"}},
            Labels{
                {"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}, {"bar_b1", "bar"}, {"bar_b2", "baz"}}},
        ApplyCase{"LabelMapStripsMetaPrefix",
                  {{"a", "foo"},
                   {"__meta_my_bar", "aaa"},
                   {"__meta_my_baz", "bbb"},
                   {"__meta_other", "ccc"}},
                  {{.regex = "__meta_(my.*)", .replacement = "${1}", .action = "labelmap"}},
                  Labels{{"a", "foo"},
                         {"__meta_my_bar", "aaa"},
                         {"__meta_my_baz", "bbb"},
                         {"__meta_other", "ccc"},
                         {"my_bar", "aaa"},
                         {"my_baz", "bbb"}}},
        ApplyCase{"ReplaceTargetNameFromGroup",
                  {{"a", "some-name-value"}},
                  {{.source_labels = {"a"},
                    .regex = "some-([^-]+)-([^,]+)",
                    .target_label = "${1}",
                    .replacement = "${2}"}},
                  Labels{{"a", "some-name-value"}, {"name", "value"}}},
        ApplyCase{"ReplaceEmptyReplacementChangesNothing",
                  {{"a", "some-name-value"}},
                  {{.source_labels = {"a"},
                    .regex = "some-([^-]+)-([^,]+)",
                    .target_label = "${1}",
                    .replacement = "${3}"}},
                  Labels{{"a", "some-name-value"}}},
        // Upstream also runs target labels "0${3}" and "-${3}" here, past validation;
        // Compile rejects those (InvalidTargetsOfTheUpstreamCase below), as a Prometheus
        // config load does.
        ApplyCase{"ReplaceTargetExpandingToEmptyName",
                  {{"a", "some-name-value"}},
                  {{.source_labels = {"a"},
                    .regex = "some-([^-]+)-([^,]+)",
                    .target_label = "${3}",
                    .replacement = "${1}"}},
                  Labels{{"a", "some-name-value"}}},
        ApplyCase{"ReplaceFromServiceDiscoveryTags",
                  {{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"}},
                  {{.source_labels = {"__meta_sd_tags"},
                    .regex = "(?:.+,|^)path:(/[^,]+).*",
                    .target_label = "__metrics_path__",
                    .replacement = "${1}"},
                   {.source_labels = {"__meta_sd_tags"},
                    .regex = "(?:.+,|^)job:([^,]+).*",
                    .target_label = "job",
                    .replacement = "${1}"},
                   {.source_labels = {"__meta_sd_tags"},
                    .regex = "(?:.+,|^)label:([^=]+)=([^,]+).*",
                    .target_label = "${1}",
                    .replacement = "${2}"}},
                  Labels{{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"},
                         {"__metrics_path__", "/secret"},
                         {"job", "some-job"},
                         {"foo", "bar"}}},
        ApplyCase{"LabelKeep",
                  {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
                  {{.regex = "(b.*)", .action = "labelkeep"}},
                  Labels{{"b1", "bar"}, {"b2", "baz"}}},
        ApplyCase{"LabelDrop",
                  {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
                  {{.regex = "(b.*)", .action = "labeldrop"}},
                  Labels{{"a", "foo"}}},
        ApplyCase{
            "UppercaseAndLowercase",
            {{"foo", "bAr123Foo"}},
            {{.source_labels = {"foo"}, .target_label = "foo_uppercase", .action = "uppercase"},
             {.source_labels = {"foo"}, .target_label = "foo_lowercase", .action = "lowercase"}},
            Labels{{"foo", "bAr123Foo"},
                   {"foo_lowercase", "bar123foo"},
                   {"foo_uppercase", "BAR123FOO"}}},
        ApplyCase{
            "KeepEqualKeepsWhenEqual",
            {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
            {{.source_labels = {"__tmp_port"}, .target_label = "__port1", .action = "keepequal"}},
            Labels{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}}},
        ApplyCase{
            "DropEqualDropsWhenEqual",
            {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
            {{.source_labels = {"__tmp_port"}, .target_label = "__port1", .action = "dropequal"}},
            std::nullopt},
        ApplyCase{
            "DropEqualKeepsWhenDifferent",
            {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
            {{.source_labels = {"__tmp_port"}, .target_label = "__port2", .action = "dropequal"}},
            Labels{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}}},
        ApplyCase{
            "KeepEqualDropsWhenDifferent",
            {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
            {{.source_labels = {"__tmp_port"}, .target_label = "__port2", .action = "keepequal"}},
            std::nullopt}),
    [](const testing::TestParamInfo<ApplyCase>& info) { return info.param.name; });

TEST(PrometheusRelabel, InvalidTargetsOfTheUpstreamCase) {
  for (const char* target : {"0${3}", "-${3}"}) {
    EXPECT_EQ(CompileError({{.source_labels = {"a"},
                             .regex = "some-([^-]+)-([^,]+)",
                             .target_label = target,
                             .replacement = "${1}"}}),
              "[0].target_label: \"" + std::string(target) +
                  "\" is invalid 'target_label' for replace action");
  }
}

// TestTargetLabelValidity of Prometheus v2.42.0: the target_label check of replace rules.
struct TargetCase {
  std::string target;
  bool valid;
};

class TargetLabelValidity : public testing::TestWithParam<TargetCase> {};

TEST_P(TargetLabelValidity, AsPrometheus) {
  const TargetCase& c = GetParam();
  const std::string error = CompileError({{.target_label = c.target}});
  if (c.valid) {
    EXPECT_EQ(error, "(compiled)");
  } else {
    EXPECT_EQ(error, "[0].target_label: \"" + c.target +
                         "\" is invalid 'target_label' for replace action");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, TargetLabelValidity,
    testing::Values(TargetCase{"-label", false}, TargetCase{"label", true},
                    TargetCase{"label${1}", true}, TargetCase{"${1}label", true},
                    TargetCase{"${1}", true}, TargetCase{"${1}label", true},
                    TargetCase{"${", false}, TargetCase{"$", false}, TargetCase{"${}", false},
                    TargetCase{"foo${", false}, TargetCase{"$1", true},
                    TargetCase{"asd$2asd", true}, TargetCase{"-foo${1}bar-", false},
                    TargetCase{"_${1}_", true}, TargetCase{"foo${bar}foo", true}));

// The relabel cases of Prometheus v2.42.0 config/config_test.go (testdata/*.bad.yml), each
// with the field the error names; plus the regex and empty-action cases.
struct ValidationCase {
  std::string name;
  RelabelRule rule;
  std::string error;
};

void PrintTo(const ValidationCase& c, std::ostream* os) { *os << c.name; }

class RelabelValidation : public testing::TestWithParam<ValidationCase> {};

TEST_P(RelabelValidation, RejectsAsPrometheus) {
  const ValidationCase& c = GetParam();
  // A valid rule first, so the index in the message is checked too.
  EXPECT_EQ(CompileError({RelabelRule{.target_label = "ok"}, c.rule}), "[1]." + c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, RelabelValidation,
    testing::Values(
        ValidationCase{"ModulusMissing",
                       {.regex = "abcdef", .action = "hashmod"},
                       "modulus: relabel configuration for hashmod requires non-zero modulus"},
        ValidationCase{
            "LabelKeepWithSourceLabels",
            {.source_labels = {"abcdef"}, .action = "labelkeep"},
            "source_labels: labelkeep action requires only 'regex', and no other fields"},
        ValidationCase{"LabelKeepWithModulus",
                       {.modulus = 8, .action = "labelkeep"},
                       "modulus: labelkeep action requires only 'regex', and no other fields"},
        ValidationCase{"LabelKeepWithSeparator",
                       {.separator = ",", .action = "labelkeep"},
                       "separator: labelkeep action requires only 'regex', and no other fields"},
        ValidationCase{"LabelKeepWithReplacement",
                       {.replacement = "yolo-{1}", .action = "labelkeep"},
                       "replacement: labelkeep action requires only 'regex', and no other fields"},
        ValidationCase{"LabelKeepWithTargetLabel",
                       {.target_label = "yolo", .action = "labelkeep"},
                       "target_label: labelkeep action requires only 'regex', and no other fields"},
        ValidationCase{
            "LabelDropWithSourceLabels",
            {.source_labels = {"abcdef"}, .action = "labeldrop"},
            "source_labels: labeldrop action requires only 'regex', and no other fields"},
        ValidationCase{"LabelDropWithModulus",
                       {.modulus = 8, .action = "labeldrop"},
                       "modulus: labeldrop action requires only 'regex', and no other fields"},
        ValidationCase{"LabelDropWithSeparator",
                       {.separator = ",", .action = "labeldrop"},
                       "separator: labeldrop action requires only 'regex', and no other fields"},
        ValidationCase{"LabelDropWithReplacement",
                       {.replacement = "yolo-{1}", .action = "labeldrop"},
                       "replacement: labeldrop action requires only 'regex', and no other fields"},
        ValidationCase{"LabelDropWithTargetLabel",
                       {.target_label = "yolo", .action = "labeldrop"},
                       "target_label: labeldrop action requires only 'regex', and no other fields"},
        ValidationCase{"DropEqualWithoutTarget",
                       {.source_labels = {"abcdef"}, .action = "dropequal"},
                       "target_label: relabel configuration for dropequal action requires "
                       "'target_label' value"},
        ValidationCase{"DropEqualWithRegex",
                       {.source_labels = {"abcdef"},
                        .regex = "foo",
                        .target_label = "bar",
                        .action = "dropequal"},
                       "regex: dropequal action requires only 'source_labels' and `target_label`, "
                       "and no other fields"},
        ValidationCase{"KeepEqualWithoutTarget",
                       {.source_labels = {"abcdef"}, .action = "keepequal"},
                       "target_label: relabel configuration for keepequal action requires "
                       "'target_label' value"},
        ValidationCase{"KeepEqualWithRegex",
                       {.source_labels = {"abcdef"},
                        .regex = "foo",
                        .target_label = "bar",
                        .action = "keepequal"},
                       "regex: keepequal action requires only 'source_labels' and `target_label`, "
                       "and no other fields"},
        ValidationCase{"LabelMapInvalidReplacement",
                       {.replacement = "l-$1", .action = "labelmap"},
                       "replacement: \"l-$1\" is invalid 'replacement' for labelmap action"},
        ValidationCase{"LowercaseWithoutTarget",
                       {.source_labels = {"__name__"}, .action = "lowercase"},
                       "target_label: relabel configuration for lowercase action requires "
                       "'target_label' value"},
        ValidationCase{
            "LowercaseInvalidTarget",
            {.source_labels = {"__name__"}, .target_label = "42lab", .action = "lowercase"},
            "target_label: \"42lab\" is invalid 'target_label' for lowercase action"},
        ValidationCase{"LowercaseWithReplacement",
                       {.source_labels = {"__name__"},
                        .target_label = "__name__",
                        .replacement = "bar",
                        .action = "lowercase"},
                       "replacement: 'replacement' can not be set for lowercase action"},
        ValidationCase{"UppercaseWithoutTarget",
                       {.source_labels = {"__name__"}, .action = "uppercase"},
                       "target_label: relabel configuration for uppercase action requires "
                       "'target_label' value"},
        ValidationCase{
            "UppercaseInvalidTarget",
            {.source_labels = {"__name__"}, .target_label = "42lab", .action = "uppercase"},
            "target_label: \"42lab\" is invalid 'target_label' for uppercase action"},
        ValidationCase{"UppercaseWithReplacement",
                       {.source_labels = {"__name__"},
                        .target_label = "__name__",
                        .replacement = "bar",
                        .action = "uppercase"},
                       "replacement: 'replacement' can not be set for uppercase action"},
        ValidationCase{"ReplaceWithoutTarget",
                       {.regex = "abcdef"},
                       "target_label: relabel configuration for replace action requires "
                       "'target_label' value"},
        ValidationCase{"HashModWithoutTarget",
                       {.source_labels = {"__address__"}, .modulus = 8, .action = "hashmod"},
                       "target_label: relabel configuration for hashmod action requires "
                       "'target_label' value"},
        ValidationCase{"BadRegex",
                       {.regex = "abc(def", .target_label = "x"},
                       "regex: error parsing regexp: missing closing ): `^(?:abc(def)$`"},
        // Upstream's case is `action: null` ("relabel action cannot be empty"), which a string
        // field cannot hold; for `action: ""` promtool 2.42 answers this.
        ValidationCase{"EmptyAction", {.action = ""}, "action: unknown relabel action \"\""},
        // Not in the upstream tables; the same checks.
        ValidationCase{"AnyByteEscapeAsGo",
                       {.regex = "a\\Cb", .target_label = "x"},
                       "regex: error parsing regexp: invalid escape sequence: `\\C`"},
        ValidationCase{"UnknownAction",
                       {.target_label = "x", .action = "rename"},
                       "action: unknown relabel action \"rename\""},
        ValidationCase{"HashModTemplateTarget",
                       {.modulus = 2, .target_label = "${1}", .action = "hashmod"},
                       "target_label: \"${1}\" is invalid 'target_label' for hashmod action"},
        ValidationCase{"KeepEqualWithReplacement",
                       {.source_labels = {"a"},
                        .target_label = "b",
                        .replacement = "x",
                        .action = "keepequal"},
                       "replacement: 'replacement' can not be set for keepequal action"},
        ValidationCase{
            "DropEqualWithSeparator",
            {.source_labels = {"a"}, .separator = ",", .target_label = "b", .action = "dropequal"},
            "separator: dropequal action requires only 'source_labels' and "
            "`target_label`, and no other fields"},
        ValidationCase{
            "DropEqualWithModulus",
            {.source_labels = {"a"}, .modulus = 3, .target_label = "b", .action = "dropequal"},
            "modulus: dropequal action requires only 'source_labels' and "
            "`target_label`, and no other fields"},
        ValidationCase{"KeepEqualTemplateTarget",
                       {.source_labels = {"a"}, .target_label = "${1}x-", .action = "keepequal"},
                       "target_label: \"${1}x-\" is invalid 'target_label' for keepequal action"}),
    [](const testing::TestParamInfo<ValidationCase>& info) { return info.param.name; });

// Go's messages, as promtool 2.42 prints them after "error parsing regexp: ".
TEST(RelabelValidation, RegexErrorsInGoWords) {
  const auto error = [](std::string regex) {
    return CompileError({{.regex = std::move(regex), .action = "keep"}});
  };
  const std::string prefix = "[0].regex: error parsing regexp: ";
  EXPECT_EQ(error("abc)"), prefix + "unexpected ): `^(?:abc))$`");
  EXPECT_EQ(error("a**"), prefix + "invalid nested repetition operator: `**`");
  EXPECT_EQ(error("x{1001}"), prefix + "invalid repeat count: `{1001}`");
  EXPECT_EQ(error("[a"), prefix + "missing closing ]: `[a)$`");
  EXPECT_EQ(error("[z-a]"), prefix + "invalid character class range: `z-a`");
  EXPECT_EQ(error("\\8"), prefix + "invalid escape sequence: `\\8`");
  EXPECT_EQ(error("(?<n>a)"), prefix + "invalid or unsupported Perl syntax: `(?<`");
  EXPECT_EQ(error("(?P<a-b>x)"), prefix + "invalid named capture: `(?P<a-b>`");
  EXPECT_EQ(error("*a"), prefix + "missing argument to repetition operator: `*`");
}

TEST(RelabelValidation, AcceptsWhatPrometheusAccepts) {
  EXPECT_EQ(CompileError({}), "(compiled)");
  EXPECT_EQ(CompileError({{.target_label = "x", .action = "Replace"}}), "(compiled)");
  EXPECT_EQ(CompileError({{.target_label = "x", .action = "HASHMOD"}}),
            "[0].modulus: relabel configuration for hashmod requires non-zero modulus");
  EXPECT_EQ(CompileError({{.regex = "__tmp_.*", .action = "labeldrop"},
                          {.source_labels = {"a"}, .target_label = "b", .action = "keepequal"},
                          {.modulus = 4, .target_label = "h", .action = "hashmod"},
                          {.action = "labelmap"},
                          {.regex = "", .action = "keep"}}),
            "(compiled)");
  // An escaped backslash before C, and \C quoted by \Q...\E, are literal text to Go.
  EXPECT_EQ(CompileError({{.regex = "a\\\\C|\\Q\\C\\E", .action = "keep"}}), "(compiled)");
}

TEST(RelabelReplace, ExpandsLikeGo) {
  const Labels input{{"a", "xy"}};
  const auto replaced = [&](std::string replacement) {
    const std::optional<Labels> result = Relabeled(MustCompile({{.source_labels = {"a"},
                                                                 .regex = "(?P<first>x)(y)?(z)?",
                                                                 .target_label = "t",
                                                                 .replacement = replacement}}),
                                                   input);
    for (const Label& label : result.value()) {
      if (label.name == "t") {
        return label.value;
      }
    }
    return std::string("(absent)");
  };
  EXPECT_EQ(replaced("$1$2"), "xy");
  EXPECT_EQ(replaced("${1}_${2}"), "x_y");
  EXPECT_EQ(replaced("$1_$2"), "y");  // `$1_` names group "1_", which does not exist
  EXPECT_EQ(replaced("$first-$first"), "x-x");
  EXPECT_EQ(replaced("${first}s"), "xs");
  EXPECT_EQ(replaced("$firsts"), "(absent)");  // group "firsts": empty, so t is not set
  EXPECT_EQ(replaced("$$1"), "$1");
  EXPECT_EQ(replaced("a$"), "a$");    // a lone '$' stays
  EXPECT_EQ(replaced("${1"), "${1");  // unclosed brace: the '$' is text
  EXPECT_EQ(replaced("$-1"), "$-1");
  EXPECT_EQ(replaced("<$3>"), "<>");   // group that did not take part
  EXPECT_EQ(replaced("<$9>"), "<>");   // group that does not exist
  EXPECT_EQ(replaced("<$01>"), "<>");  // leading zero: a name, not a number
  EXPECT_EQ(replaced("<$100000000>"), "<>");
  EXPECT_EQ(replaced("<$0>"), "<xy>");
}

TEST(RelabelReplace, EmptyResultDeletesTheUnexpandedTargetName) {
  // Prometheus deletes target_label itself, so a literal target loses its value...
  EXPECT_EQ(
      Relabeled(MustCompile({{.source_labels = {"a"}, .regex = "x(.*)", .target_label = "b"}}),
                {{"a", "x"}, {"b", "old"}}),
      (Labels{{"a", "x"}}));
  // ... while a templated one deletes nothing (no label is named "${1}").
  EXPECT_EQ(Relabeled(MustCompile({{.source_labels = {"a"},
                                    .regex = "(b)(.*)",
                                    .target_label = "${1}",
                                    .replacement = "$2"}}),
                      {{"a", "b"}, {"b", "old"}}),
            (Labels{{"a", "b"}, {"b", "old"}}));
}

TEST(RelabelReplace, StaticLabelAndMissingSources) {
  // The usual "add a constant label": no source labels, so the value is "" and (.*) matches.
  EXPECT_EQ(Relabeled(MustCompile({{.target_label = "env", .replacement = "prod"}}), {{"a", "1"}}),
            (Labels{{"a", "1"}, {"env", "prod"}}));
  // Missing sources count as empty values, joined by the separator.
  EXPECT_EQ(Relabeled(MustCompile({{.source_labels = {"x", "a", "y"},
                                    .separator = "|",
                                    .regex = "(.*)",
                                    .target_label = "j"}}),
                      {{"a", "1"}}),
            (Labels{{"a", "1"}, {"j", "|1|"}}));
}

TEST(RelabelApply, NameOverloadSeesAndChangesTheMetricName) {
  const RelabelProgram program = MustCompile({{.source_labels = {"__name__"},
                                               .regex = "node_(.*)",
                                               .target_label = "__name__",
                                               .replacement = "host_$1"}});
  const Labels labels{{"Zone", "z"}, {"cpu", "0"}};  // 'Z' sorts before "__name__"
  const std::vector<LabelView> views = Views(labels);
  RelabelScratch scratch;
  Labels out;
  ASSERT_EQ(program.Apply("node_cpu_seconds_total", views, scratch, out), RelabelOutcome::kChanged);
  EXPECT_EQ(out, (Labels{{"Zone", "z"}, {"__name__", "host_cpu_seconds_total"}, {"cpu", "0"}}));
  out.clear();
  EXPECT_EQ(program.Apply("process_open_fds", views, scratch, out), RelabelOutcome::kUnchanged);
  EXPECT_TRUE(out.empty());
}

TEST(RelabelApply, SettingTheSameValueIsUnchanged) {
  const RelabelProgram program = MustCompile(
      {{.source_labels = {"a"}, .target_label = "b"}, {.regex = "zzz", .action = "labeldrop"}});
  const Labels labels{{"a", "1"}, {"b", "1"}};
  const std::vector<LabelView> views = Views(labels);
  RelabelScratch scratch;
  Labels out;
  EXPECT_EQ(program.Apply(views, scratch, out), RelabelOutcome::kUnchanged);
}

TEST(RelabelApply, DeleteThenSetBackIsUnchanged) {
  const RelabelProgram program = MustCompile(
      {{.regex = "b", .action = "labeldrop"}, {.source_labels = {"a"}, .target_label = "b"}});
  const Labels labels{{"a", "1"}, {"b", "1"}};
  const std::vector<LabelView> views = Views(labels);
  RelabelScratch scratch;
  Labels out;
  EXPECT_EQ(program.Apply(views, scratch, out), RelabelOutcome::kUnchanged);
}

TEST(RelabelLabelMap, LaterSourceWinsTheSameTarget) {
  // Both map to "x"; labels are visited in name order, the last write wins.
  EXPECT_EQ(
      Relabeled(MustCompile({{.regex = "(?:a|b)_(x)", .replacement = "$1", .action = "labelmap"}}),
                {{"a_x", "1"}, {"b_x", "2"}}),
      (Labels{{"a_x", "1"}, {"b_x", "2"}, {"x", "2"}}));
}

TEST(RelabelLabelMap, OverwritesAnExistingLabel) {
  EXPECT_EQ(Relabeled(MustCompile({{.regex = "__meta_(.+)", .action = "labelmap"}}),
                      {{"__meta_job", "sd"}, {"job", "static"}}),
            (Labels{{"__meta_job", "sd"}, {"job", "sd"}}));
}

TEST(RelabelLabelMap, ReplacesEveryMatchOfAnUnanchoredAlternative) {
  // "a)|(b" becomes ^(?:a)|(b)$ once anchored, as in Prometheus: it matches "a" at the
  // start or "b" at the end, and ReplaceAllString replaces both.
  EXPECT_EQ(Relabeled(MustCompile({{.regex = "a)|(b", .replacement = "X", .action = "labelmap"}}),
                      {{"acb", "v"}}),
            (Labels{{"XcX", "v"}, {"acb", "v"}}));
}

TEST(RelabelHashMod, SamplingRecipeKeepsAboutOneInFour) {
  const RelabelProgram program =
      MustCompile({{.source_labels = {"__name__", "instance"},
                    .modulus = 4,
                    .target_label = "__tmp_hash",
                    .action = "hashmod"},
                   {.source_labels = {"__tmp_hash"}, .regex = "0", .action = "keep"},
                   {.regex = "__tmp_hash", .action = "labeldrop"}});
  int kept = 0;
  RelabelScratch scratch;
  Labels out;
  for (int i = 0; i < 4000; ++i) {
    const std::string instance = "host-" + std::to_string(i) + ":9100";
    const std::vector<LabelView> views{{"__name__", "up"}, {"instance", instance}};
    const RelabelOutcome outcome = program.Apply(views, scratch, out);
    ASSERT_NE(outcome, RelabelOutcome::kChanged) << "__tmp_hash must be gone again";
    kept += outcome == RelabelOutcome::kUnchanged;
  }
  EXPECT_GT(kept, 850);
  EXPECT_LT(kept, 1150);
}

TEST(RelabelCase, InvalidUtf8BecomesReplacementCharacterOutsideAscii) {
  // Go's strings.ToUpper maps rune by rune once the text is not pure ASCII; a stray byte
  // turns into U+FFFD.
  EXPECT_EQ(
      Relabeled(MustCompile({{.source_labels = {"a"}, .target_label = "b", .action = "uppercase"}}),
                {{"a", "x\xff\xc3\xa9"}}),
      (Labels{{"a", "x\xff\xc3\xa9"}, {"b", "X\xef\xbf\xbd\xc3\x89"}}));
}

TEST(RelabelCase, MapsRunesAsGo119) {
  const RelabelProgram program =
      MustCompile({{.source_labels = {"a"}, .target_label = "lower", .action = "lowercase"},
                   {.source_labels = {"a"}, .target_label = "upper", .action = "uppercase"}});
  // İ lowers to a plain i and ß has no one-rune upper case (simple case mapping).
  EXPECT_EQ(Relabeled(program, {{"a", "Straße-ÄÖÜ-İ-Σς"}}), (Labels{{"a", "Straße-ÄÖÜ-İ-Σς"},
                                                                    {"lower", "straße-äöü-i-σς"},
                                                                    {"upper", "STRAßE-ÄÖÜ-İ-ΣΣ"}}));
}

TEST(RelabelAction, ComparedAfterGoLowercasing) {
  EXPECT_EQ(ParseRelabelAction("LabelDrop"), RelabelAction::kLabelDrop);
  EXPECT_EQ(ParseRelabelAction("\u212Aeep"), RelabelAction::kKeep);  // Kelvin sign lowers to k
  EXPECT_EQ(ParseRelabelAction("keep "), std::nullopt);
  EXPECT_EQ(RelabelActionName(RelabelAction::kHashMod), "hashmod");
}

TEST(RelabelReplace, ReferenceNamesRunOverNonAsciiLetters) {
  // Go's `$name` takes letters and digits of any script: "1é" names no group.
  EXPECT_EQ(Relabeled(MustCompile({{.source_labels = {"a"},
                                    .regex = "(.*)",
                                    .target_label = "t",
                                    .replacement = "<$1é><$1€>"}}),
                      {{"a", "x"}}),
            (Labels{{"a", "x"}, {"t", "<><x€>"}}));
}

TEST(RelabelRegex, InvalidUtf8ByteIsOneRuneAsInGo) {
  // Go's regexp reads a stray byte as U+FFFD: `.` matches it, and a group that captures
  // it holds the byte itself.
  const Labels input{{"a", "x\xffy"}};
  EXPECT_EQ(
      Relabeled(MustCompile({{.source_labels = {"a"}, .regex = "x.y", .action = "keep"}}), input),
      input);
  EXPECT_EQ(Relabeled(MustCompile({{.source_labels = {"a"},
                                    .regex = "x([^a])(.*)",
                                    .target_label = "b",
                                    .replacement = "<$1|$2>"}}),
                      input),
            (Labels{{"a", "x\xffy"}, {"b", "<\xff|y>"}}));
  EXPECT_EQ(Relabeled(MustCompile({{.regex = "x\uFFFD", .action = "labeldrop"}}),
                      {{"x\xff", "1"}, {"y", "2"}}),
            (Labels{{"y", "2"}}));
}

TEST(RelabelRegex, DotDoesNotMatchNewlineUnlessAsked) {
  const Labels input{{"a", "foo\nbar"}};
  EXPECT_EQ(Relabeled(MustCompile({{.source_labels = {"a"}, .regex = "foo.bar", .action = "keep"}}),
                      input),
            std::nullopt);
  EXPECT_EQ(
      Relabeled(MustCompile({{.source_labels = {"a"}, .regex = "(?s)foo.bar", .action = "keep"}}),
                input),
      input);
  EXPECT_EQ(
      Relabeled(MustCompile({{.source_labels = {"a"}, .regex = "foo[^x]bar", .action = "keep"}}),
                input),
      input);
}

TEST(RelabelApply, KeepAndDropMakeNoAllocationOnceWarm) {
  const RelabelProgram program =
      MustCompile({{.source_labels = {"__name__"}, .regex = "node_.*", .action = "keep"},
                   {.source_labels = {"job", "instance"}, .regex = "test;.*", .action = "drop"},
                   {.source_labels = {"a"}, .target_label = "a", .action = "keepequal"}});
  const Labels labels{
      {"__name__", "node_load1"}, {"a", "x"}, {"instance", "h:9100"}, {"job", "node"}};
  const std::vector<LabelView> views = Views(labels);
  RelabelScratch scratch;
  Labels out;
  ASSERT_EQ(program.Apply(views, scratch, out), RelabelOutcome::kUnchanged);
  const long before = allocation_count.load();
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(program.Apply(views, scratch, out), RelabelOutcome::kUnchanged);
  }
  EXPECT_EQ(allocation_count.load() - before, 0);
}

}  // namespace
}  // namespace metricsd
