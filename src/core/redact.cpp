#include "core/redact.h"

#include <array>

#include "core/bytes.h"

namespace metricsd {
namespace {

constexpr std::array<std::string_view, 8> kNonSecretHeaders = {
    "Accept",
    "Accept-Encoding",
    "Content-Encoding",
    "Content-Type",
    "User-Agent",
    "X-Prometheus-Remote-Write-Version",
    "X-Prometheus-Scrape-Timeout-Seconds",
    "X-Scope-OrgID",
};

}  // namespace

std::string_view UrlUserInfo(std::string_view url) noexcept {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return {};
  }
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  // The last '@': a password may contain an unescaped '@', a host never does.
  const std::size_t at = authority.rfind('@');
  return at == std::string_view::npos ? std::string_view() : authority.substr(0, at);
}

std::string RedactUrl(std::string_view url) {
  const std::string_view user_info = UrlUserInfo(url);
  if (user_info.empty()) {
    return std::string(url);
  }
  const auto start = static_cast<std::size_t>(user_info.data() - url.data());
  const std::size_t colon = user_info.find(':');
  std::string out(url.substr(0, start));
  if (colon != std::string_view::npos) {
    out.append(user_info.substr(0, colon + 1));
  }
  out.append(kRedacted);
  out.append(url.substr(start + user_info.size()));
  return out;
}

bool IsNonSecretHeader(std::string_view name) noexcept {
  for (std::string_view known : kNonSecretHeaders) {
    if (EqualsIgnoreCase(known, name)) {
      return true;
    }
  }
  return false;
}

}  // namespace metricsd
