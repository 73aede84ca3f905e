#include "core/duration.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace metricsd {

namespace {

std::optional<double> UnitNanos(std::string_view unit) {
  if (unit == "ns") {
    return 1.0;
  }
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
    return 1e3;
  }
  if (unit == "ms") {
    return 1e6;
  }
  if (unit == "s") {
    return 1e9;
  }
  if (unit == "m") {
    return 60e9;
  }
  if (unit == "h") {
    return 3600e9;
  }
  return std::nullopt;
}

bool IsNumberChar(char c) { return (c >= '0' && c <= '9') || c == '.'; }

}  // namespace

std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  if (text == "0") {
    return std::chrono::nanoseconds{0};
  }
  if (text.empty()) {
    return std::nullopt;
  }
  double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && IsNumberChar(text[i])) {
      ++i;
    }
    if (i == start) {
      return std::nullopt;
    }
    double number = 0;
    auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + i, number);
    if (ec != std::errc() || ptr != text.data() + i) {
      return std::nullopt;
    }
    std::size_t unit_start = i;
    while (i < text.size() && !IsNumberChar(text[i])) {
      ++i;
    }
    auto unit = UnitNanos(text.substr(unit_start, i - unit_start));
    if (!unit) {
      return std::nullopt;
    }
    total += number * *unit;
  }
  if (!std::isfinite(total) ||
      // 2^63 itself does not fit: INT64_MAX rounds up to it as a double.
      total >= static_cast<double>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(total))};
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  std::int64_t ns = d.count();
  if (ns == 0) {
    return "0s";
  }
  std::string out;
  if (ns < 0) {
    out.push_back('-');
    ns = -ns;
  }
  if (ns < 1'000'000'000) {
    if (ns % 1'000'000 == 0) {
      return out + std::to_string(ns / 1'000'000) + "ms";
    }
    if (ns % 1'000 == 0) {
      return out + std::to_string(ns / 1'000) + "us";
    }
    return out + std::to_string(ns) + "ns";
  }
  std::int64_t hours = ns / 3'600'000'000'000;
  ns %= 3'600'000'000'000;
  std::int64_t minutes = ns / 60'000'000'000;
  ns %= 60'000'000'000;
  if (hours > 0) {
    out += std::to_string(hours) + "h";
  }
  if (minutes > 0) {
    out += std::to_string(minutes) + "m";
  }
  if (ns > 0) {
    if (ns % 1'000'000'000 == 0) {
      out += std::to_string(ns / 1'000'000'000) + "s";
    } else {
      char buf[32];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<double>(ns) / 1e9);
      out.append(buf, p);
      out += "s";
    }
  }
  return out;
}

}  // namespace metricsd
