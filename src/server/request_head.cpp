#include "server/request_head.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "core/bytes.h"

namespace metricsd {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

bool ListsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = Trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    std::size_t semi = item.find(';');
    if (!EqualsIgnoreCase(Trim(item.substr(0, semi)), token)) {
      continue;
    }
    if (semi == std::string_view::npos) {
      return true;
    }
    std::string_view params = Trim(item.substr(semi + 1));
    return !(params.starts_with("q=0") && params.find_first_not_of("q=0.") == std::string::npos);
  }
  return false;
}

std::variant<RequestHead, RequestError> ParseRequestHead(std::string_view head) {
  constexpr RequestError kBadRequest{400, "bad request\n"};
  RequestHead req;
  std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  std::string_view headers =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return kBadRequest;
  }
  req.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  req.path = target.substr(0, target.find('?'));
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.0") {
    req.keep_alive = false;
  } else if (version != "HTTP/1.1") {
    return kBadRequest;
  }
  while (!headers.empty()) {
    std::size_t eol = headers.find("\r\n");
    std::string_view field = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
    std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) {
      return kBadRequest;
    }
    std::string_view name = field.substr(0, colon);
    std::string_view value = Trim(field.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Connection")) {
      if (ListsToken(value, "close")) {
        req.keep_alive = false;
      } else if (ListsToken(value, "keep-alive")) {
        req.keep_alive = true;
      }
    } else if (EqualsIgnoreCase(name, "Accept-Encoding")) {
      req.accepts_gzip = req.accepts_gzip || ListsToken(value, "gzip");
    } else if (EqualsIgnoreCase(name, "Accept")) {
      req.accept = value;
    } else if (EqualsIgnoreCase(name, "Authorization")) {
      req.authorization = value;
    } else if (EqualsIgnoreCase(name, "Content-Length")) {
      auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), req.content_length);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        return kBadRequest;
      }
      if (req.content_length > kMaxRequestBodyBytes) {
        return RequestError{413, "payload too large\n"};
      }
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      // No endpoint takes a body: answer and close rather than parse chunks.
      return RequestError{501, "request bodies are not supported\n"};
    }
  }
  return req;
}

}  // namespace metricsd
