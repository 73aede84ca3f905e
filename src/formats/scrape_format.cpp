#include "formats/scrape_format.h"

#include "core/bytes.h"

namespace metricsd {
namespace {

bool IsSpace(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) noexcept {
  while (!s.empty() && IsSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool LooksLikeJson(std::string_view body) noexcept {
  if (body.starts_with("\xEF\xBB\xBF")) {
    body.remove_prefix(3);
  }
  body = Trim(body);
  return !body.empty() && (body.front() == '{' || body.front() == '[');
}

bool EndsWithEof(std::string_view body) noexcept {
  body = Trim(body);
  if (!body.ends_with("# EOF")) {
    return false;
  }
  return body.size() == 5 || body[body.size() - 6] == '\n';
}

}  // namespace

std::string_view ScrapeFormatName(ScrapeFormat format) noexcept {
  switch (format) {
    case ScrapeFormat::kPrometheusText:
      return "prometheus";
    case ScrapeFormat::kOpenMetrics:
      return "openmetrics";
    case ScrapeFormat::kJson:
      return "json";
  }
  return "prometheus";
}

ScrapeFormat DetectFormat(std::string_view content_type, std::string_view body) noexcept {
  std::string_view media = Trim(content_type.substr(0, content_type.find(';')));
  if (EqualsIgnoreCase(media, "application/openmetrics-text")) {
    return ScrapeFormat::kOpenMetrics;
  }
  if (EqualsIgnoreCase(media, "application/json") ||
      (media.size() > 5 && EqualsIgnoreCase(media.substr(media.size() - 5), "+json"))) {
    return ScrapeFormat::kJson;
  }
  if (EqualsIgnoreCase(media, "text/plain")) {
    return LooksLikeJson(body) ? ScrapeFormat::kJson : ScrapeFormat::kPrometheusText;
  }
  if (LooksLikeJson(body)) {
    return ScrapeFormat::kJson;
  }
  return EndsWithEof(body) ? ScrapeFormat::kOpenMetrics : ScrapeFormat::kPrometheusText;
}

}  // namespace metricsd
