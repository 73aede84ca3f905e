#include "http/retry_after.h"

#include <curl/curl.h>

#include <charconv>
#include <string>

namespace metricsd::http {
namespace {

constexpr std::chrono::milliseconds kMaxDelay = std::chrono::hours(24 * 7);

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.empty()) {
    return std::nullopt;
  }
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    std::uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range ||
        seconds > static_cast<std::uint64_t>(
                      std::chrono::duration_cast<std::chrono::seconds>(kMaxDelay).count())) {
      return kMaxDelay;
    }
    if (ec != std::errc() || end != value.data() + value.size()) {
      return std::nullopt;
    }
    return std::chrono::seconds(seconds);
  }
  // An HTTP-date has letters, digits, spaces, commas, colons and dashes only; anything else
  // (e.g. "1.5") is not a valid Retry-After value.
  if (value.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,:-") !=
          std::string_view::npos ||
      value.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") ==
          std::string_view::npos) {
    return std::nullopt;
  }
  // curl_getdate understands all three HTTP-date forms, in the C locale, and is thread-safe.
  std::string text(value);
  time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) {
    return std::nullopt;
  }
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::from_time_t(when) - now);
  if (delay < std::chrono::milliseconds::zero()) {
    return std::chrono::milliseconds::zero();
  }
  return delay > kMaxDelay ? kMaxDelay : delay;
}

}  // namespace metricsd::http
