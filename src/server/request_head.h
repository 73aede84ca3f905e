// Parsing of an HTTP/1.x request head (request line and header fields, without the final
// CRLF CRLF), as the built-in server needs it: method, path, keep-alive, whether gzip is
// accepted and the length of a body to skip. Pure function over untrusted bytes: any input
// gives a RequestHead or the status to answer with (400, 413, 501), never a crash. Views
// point into the input.
#pragma once

#include <cstddef>
#include <string_view>
#include <variant>

namespace metricsd {

struct RequestHead {
  std::string_view method;
  std::string_view path;  // the target without its query string
  bool keep_alive = true;
  bool accepts_gzip = false;
  std::string_view accept;  // the Accept header (the status page answers JSON or HTML)
  std::size_t content_length = 0;
  std::string_view authorization;  // the Authorization header's value; empty when absent
};

// The status a malformed or unsupported head is answered with.
struct RequestError {
  int status = 400;
  std::string_view message;
};

inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;  // no endpoint takes a body

std::variant<RequestHead, RequestError> ParseRequestHead(std::string_view head);

// Whether a comma-separated header value lists `token` (case-insensitive; q=0 means refused).
bool ListsToken(std::string_view value, std::string_view token);

}  // namespace metricsd
