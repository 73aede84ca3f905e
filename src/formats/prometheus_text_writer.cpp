#include "formats/prometheus_text_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace metricsd {

namespace {

void AppendEscaped(std::string_view text, bool escape_quotes, std::string& out) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (escape_quotes) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default:
        out += c;
    }
  }
}

// Text 0.0.4 knows only these five types.
std::string_view TextTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
    case MetricType::kInfo:
    case MetricType::kStateSet:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    default:
      return "untyped";
  }
}

// For counters, gauges and untyped metrics the header must carry the sample name
// (an OpenMetrics counter family "foo" exposes samples "foo_total").
std::string_view HeaderName(const MetricFamily& family) {
  if (family.type == MetricType::kHistogram || family.type == MetricType::kSummary ||
      family.samples.empty()) {
    return family.name;
  }
  std::string_view first = family.samples.front().name;
  for (const Sample& s : family.samples) {
    if (s.name != first) {
      return family.name;
    }
  }
  return first;
}

void AppendSample(const Sample& sample, std::string& out) {
  out += sample.name;
  if (!sample.labels.empty()) {
    out += '{';
    bool first = true;
    for (const Label& label : sample.labels) {
      if (!first) {
        out += ',';
      }
      first = false;
      out += label.name;
      out += "=\"";
      AppendEscaped(label.value, true, out);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  AppendDouble(sample.value, out);
  out += '\n';
}

}  // namespace

void AppendDouble(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void AppendPrometheusText(std::span<const MetricFamily> families, std::string& out) {
  const std::span<const MetricFamily> parts[] = {families};
  AppendPrometheusText(std::span<const std::span<const MetricFamily>>(parts), out);
}

void AppendPrometheusText(std::span<const std::span<const MetricFamily>> parts, std::string& out) {
  // Group families by header name across every part, keeping first-seen order within a
  // name: the format allows one HELP/TYPE block per name.
  std::vector<const MetricFamily*> order;
  for (std::span<const MetricFamily> part : parts) {
    for (const MetricFamily& family : part) {
      order.push_back(&family);
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const MetricFamily* a, const MetricFamily* b) {
    return HeaderName(*a) < HeaderName(*b);
  });
  std::string_view previous;
  bool have_previous = false;
  for (const MetricFamily* family_ptr : order) {
    const MetricFamily& family = *family_ptr;
    if (family.samples.empty()) {
      continue;
    }
    std::string_view header = HeaderName(family);
    if (!have_previous || header != previous) {
      if (!family.help.empty()) {
        out += "# HELP ";
        out += header;
        out += ' ';
        AppendEscaped(family.help, false, out);
        out += '\n';
      }
      out += "# TYPE ";
      out += header;
      out += ' ';
      out += TextTypeName(family.type);
      out += '\n';
      previous = header;
      have_previous = true;
    }
    for (const Sample& sample : family.samples) {
      AppendSample(sample, out);
    }
  }
}

}  // namespace metricsd
