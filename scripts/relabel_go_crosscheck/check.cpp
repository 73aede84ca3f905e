// Reads cases.go's lines on stdin and checks that the relabel engine agrees with Go on
// each: replace (target "t" from source "s"), keep, labelmap (a label named after the
// value), lowercase and uppercase. Prints the first disagreements and a count; exits 1
// on any. Built and run by run.sh.
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "relabel/relabel.h"

namespace {

using metricsd::Labels;
using metricsd::LabelView;
using metricsd::RelabelOutcome;
using metricsd::RelabelProgram;
using metricsd::RelabelRule;
using metricsd::RelabelScratch;

std::string Unhex(std::string_view field) {
  if (!field.empty() && field[0] == '+') {
    field.remove_prefix(1);
  }
  std::string out;
  for (std::size_t i = 0; i + 1 < field.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(field.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The labels after `rules`, or nullopt when dropped.
std::optional<Labels> Apply(const std::vector<RelabelRule>& rules, const Labels& input) {
  auto program = RelabelProgram::Compile(rules);
  if (!program.ok()) {
    return Labels{{"compile error", program.error()}};
  }
  std::vector<LabelView> views;
  for (const auto& label : input) {
    views.push_back({label.name, label.value});
  }
  RelabelScratch scratch;
  Labels out;
  switch (program->Apply(views, scratch, out)) {
    case RelabelOutcome::kDropped:
      return std::nullopt;
    case RelabelOutcome::kUnchanged:
      return input;
    case RelabelOutcome::kChanged:
      return out;
  }
  return std::nullopt;
}

std::string ValueOf(const std::optional<Labels>& labels, std::string_view name) {
  if (labels) {
    for (const auto& label : *labels) {
      if (label.name == name) {
        return label.value;
      }
    }
  }
  return "(absent)";
}

}  // namespace

int main() {
  long cases = 0;
  long disagreements = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream fields(line);
    std::string pattern, tmpl, value, replaced, replaced_all, lower, upper;
    int matched = 0;
    fields >> pattern >> tmpl >> value >> replaced >> replaced_all >> lower >> upper >> matched;
    pattern = Unhex(pattern);
    tmpl = Unhex(tmpl);
    value = Unhex(value);
    ++cases;
    const auto report = [&](const char* what, const std::string& go, const std::string& ours) {
      if (disagreements++ < 20) {
        std::printf("%s: pattern=%s template=%s value=%s go=[%s] ours=[%s]\n", what,
                    pattern.c_str(), tmpl.c_str(), value.c_str(), go.c_str(), ours.c_str());
      }
    };

    std::string want = replaced == "-" ? "" : Unhex(replaced);
    want = want.empty() ? "(absent)" : want;  // an empty value sets no label
    const std::string got = ValueOf(
        Apply(
            {{.source_labels = {"s"}, .regex = pattern, .target_label = "t", .replacement = tmpl}},
            {{"s", value}}),
        "t");
    if (got != want) {
      report("replace", want, got);
    }

    const bool kept =
        Apply({{.source_labels = {"s"}, .regex = pattern, .action = "keep"}}, {{"s", value}})
            .has_value();
    if (kept != (matched == 1)) {
      report("keep", std::to_string(matched), std::to_string(kept));
    }

    if (matched == 1 && !tmpl.empty()) {
      const auto mapped =
          Apply({{.regex = pattern, .replacement = tmpl, .action = "labelmap"}}, {{value, "v"}});
      const std::string name = Unhex(replaced_all);
      if (ValueOf(mapped, name) != "v" && !(mapped && mapped->at(0).name == "compile error")) {
        report("labelmap", name, mapped ? mapped->back().name : "(dropped)");
      }
    }

    const auto cased = Apply({{.source_labels = {"s"}, .target_label = "l", .action = "lowercase"},
                              {.source_labels = {"s"}, .target_label = "u", .action = "uppercase"}},
                             {{"s", value}});
    const auto or_absent = [](std::string s) { return s.empty() ? std::string("(absent)") : s; };
    if (ValueOf(cased, "l") != or_absent(Unhex(lower))) {
      report("lowercase", Unhex(lower), ValueOf(cased, "l"));
    }
    if (ValueOf(cased, "u") != or_absent(Unhex(upper))) {
      report("uppercase", Unhex(upper), ValueOf(cased, "u"));
    }
  }
  std::printf("%ld cases, %ld disagreements with Go\n", cases, disagreements);
  return disagreements == 0 && cases > 0 ? 0 : 1;
}
