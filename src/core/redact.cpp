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

// Query parameters whose names contain one of these (any case) carry credentials: api_key,
// apikey, access_token, X-Amz-Signature, sig, password ...
constexpr std::array<std::string_view, 8> kSecretParameterParts = {
    "key", "token", "secret", "pass", "pwd", "auth", "sig", "credential",
};

bool IsSecretParameter(std::string_view name) noexcept {
  for (std::string_view part : kSecretParameterParts) {
    for (std::size_t i = 0; i + part.size() <= name.size(); ++i) {
      if (EqualsIgnoreCase(name.substr(i, part.size()), part)) {
        return true;
      }
    }
  }
  return false;
}

// `url` with the values of secret query parameters replaced.
std::string RedactQuery(std::string url) {
  const std::size_t question = url.find('?');
  if (question == std::string::npos) {
    return url;
  }
  const std::size_t fragment = url.find('#', question);
  const std::size_t end = fragment == std::string::npos ? url.size() : fragment;
  std::string out = url.substr(0, question + 1);
  std::string_view query = std::string_view(url).substr(question + 1, end - question - 1);
  bool first = true;
  while (true) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!first) {
      out.push_back('&');
    }
    first = false;
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && IsSecretParameter(pair.substr(0, eq))) {
      out.append(pair.substr(0, eq + 1));
      out.append(kRedacted);
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  out.append(url.substr(end));
  return out;
}

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
    return RedactQuery(std::string(url));
  }
  const auto start = static_cast<std::size_t>(user_info.data() - url.data());
  const std::size_t colon = user_info.find(':');
  std::string out(url.substr(0, start));
  if (colon != std::string_view::npos) {
    out.append(user_info.substr(0, colon + 1));
  }
  out.append(kRedacted);
  out.append(url.substr(start + user_info.size()));
  return RedactQuery(std::move(out));
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
