#include "formats/influx_line_encoder.h"

#include <charconv>
#include <cmath>
#include <span>

namespace metricsd::formats {
namespace {

// Appends `text`, backslash-escaping every character in `special`.
void AppendEscaped(std::string& out, std::string_view text, std::string_view special) {
  // Common case: nothing to escape.
  if (text.find_first_of(special) == std::string_view::npos &&
      text.find_first_of("\\\n\r") == std::string_view::npos) {
    out += text;
    return;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
    if (c == '\\') {
      // A backslash is literal unless it precedes a character the parser unescapes; double
      // it when it ends the token or precedes such a character (or another backslash).
      char next = i + 1 < text.size() ? text[i + 1] : '\0';
      if (next == '\0' || next == '\\' || next == '\n' || next == '\r' ||
          special.find(next) != std::string_view::npos) {
        out += "\\\\";
        continue;
      }
      out += c;
      continue;
    }
    if (special.find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
}

std::int64_t ScaleTimestamp(std::int64_t ms, InfluxPrecision precision) {
  switch (precision) {
    case InfluxPrecision::kNanoseconds:
      return ms * 1'000'000;
    case InfluxPrecision::kMicroseconds:
      return ms * 1'000;
    case InfluxPrecision::kMilliseconds:
      return ms;
    case InfluxPrecision::kSeconds:
      return ms / 1000;
  }
  return ms * 1'000'000;
}

}  // namespace

InfluxPrecision InfluxPrecisionFromUrl(std::string_view url) noexcept {
  std::size_t q = url.find('?');
  if (q == std::string_view::npos) {
    return InfluxPrecision::kNanoseconds;
  }
  std::string_view query = url.substr(q + 1);
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (param.starts_with("precision=")) {
      std::string_view v = param.substr(10);
      if (v == "ms") {
        return InfluxPrecision::kMilliseconds;
      }
      if (v == "u" || v == "us") {
        return InfluxPrecision::kMicroseconds;
      }
      if (v == "s") {
        return InfluxPrecision::kSeconds;
      }
      return InfluxPrecision::kNanoseconds;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return InfluxPrecision::kNanoseconds;
}

void EncodeInfluxLines(const SampleRange& samples, InfluxPrecision precision, std::string& out,
                       EncodeStats& stats) {
  out.clear();
  out.reserve(samples.size() * 96);
  char buf[32];
  const SampleViews& views = *samples.views;
  for (std::size_t k = samples.begin; k < samples.end; ++k) {
    const SampleViews::Entry& s = views.samples[k];
    if (!std::isfinite(s.value) || s.name.empty()) {
      ++stats.samples_skipped_non_finite;
      continue;
    }
    AppendEscaped(out, s.name, ", ");
    const std::span<const LabelView> labels = views.LabelsOf(s);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const LabelView& l = labels[i];
      if (l.value.empty() || l.name.empty()) {
        ++stats.empty_labels_dropped;
        continue;
      }
      if (i + 1 < labels.size() && labels[i + 1].name == l.name) {
        ++stats.duplicate_labels_dropped;
        continue;
      }
      out += ',';
      AppendEscaped(out, l.name, ",= ");
      out += '=';
      AppendEscaped(out, l.value, ",= ");
    }
    out += " value=";
    out.append(buf, std::to_chars(buf, buf + sizeof(buf), s.value).ptr);
    out += ' ';
    out.append(
        buf, std::to_chars(buf, buf + sizeof(buf), ScaleTimestamp(s.timestamp_ms, precision)).ptr);
    out += '\n';
    ++stats.samples_written;
  }
}

}  // namespace metricsd::formats
