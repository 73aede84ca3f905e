// HttpClient: one libcurl easy handle for one peer (a shipper's receiver or a scrape
// target). The handle is kept between requests, so connections (and TLS sessions) are
// reused. Proxy environment variables (http_proxy, https_proxy, no_proxy) are honoured as
// libcurl does by default. Redirects are not followed.
//
// Ownership: the client owns its handle, its header list, its TLS setup and the secrets read
// from password/token files (never logged). Building a new client re-reads every file, which
// is how a reload (SIGHUP) rotates certificates and secrets.
//
// Thread-safety: one thread at a time per client (libcurl's rule for easy handles).
// Perform() never throws and returns within the configured timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "core/result.h"
#include "http/curl_handle.h"
#include "http/tls_setup.h"

namespace metricsd::http {

struct HttpClientOptions {
  std::string log_name;  // shown in start-up warnings, e.g. the shipper name
  config::TlsOptions tls;
  config::HttpAuth auth;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // whole request
  std::size_t max_response_body_bytes = 64 * 1024;  // the rest of a body is read and dropped
  std::string user_agent;                           // empty: "metricsd/<version>"
  // Header lines ("Name: value") sent with every request, after the user's headers. Their
  // names are reserved: auth.headers may not set them (ValidateHttpAuth rejects that).
  std::vector<std::string> fixed_headers;
  // More header names auth.headers may not set (e.g. Content-Encoding of an uncompressed body).
  std::vector<std::string> reserved_header_names;
  bool accept_compressed = true;  // ask for gzip/deflate/br/zstd responses and decode them
};

struct HttpRequest {
  std::string_view method = "POST";                  // GET, POST, PUT, HEAD, ...
  std::string url;                                   // absolute http:// or https:// URL
  std::string_view body;                             // sent as is; must stay valid during Perform()
  std::span<const std::string> extra_headers;        // more "Name: value" lines, this request only
  std::optional<std::chrono::milliseconds> timeout;  // overrides the client's timeout
};

struct HttpResponse {
  long status = 0;
  std::string content_type;  // empty when absent
  std::string retry_after;   // the raw Retry-After value, empty when absent
  std::string body;          // at most max_response_body_bytes
  bool body_truncated = false;
};

// Header names the user may not set through auth.headers, in addition to `reserved`:
// Authorization when an auth method is configured, and the framing headers libcurl owns.
// Also checks that basic auth and bearer token are not both set, that secret files are
// readable, and that header names and values are well-formed. Errors name keys under
// key_prefix (e.g. "shipper.headers.Content-Type").
Status ValidateHttpAuth(const config::HttpAuth& auth, std::string_view key_prefix,
                        std::span<const std::string_view> reserved);

class HttpClient {
 public:
  // Validates the TLS and auth options (errors name keys under key_prefix), reads secret
  // files and prepares the handle. Logs a loud warning when certificate checks are off.
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options,
                                                    std::string_view key_prefix);

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // One request. Any HTTP status is a response; an error means no response arrived
  // (DNS, connect, TLS, timeout), with a short reason that names the failing stage.
  Result<HttpResponse> Perform(const HttpRequest& request) noexcept;

  // What the last TLS handshake of this client negotiated (nullopt: none yet).
  const std::optional<TlsHandshake>& last_tls_handshake() const noexcept {
    return tls_.last_handshake();
  }

 private:
  explicit HttpClient(HttpClientOptions options);
  Status Init(std::string_view key_prefix);

  HttpClientOptions options_;
  TlsSetup tls_;  // outlives curl_ (declared before it): libcurl points at it
  CurlSlist headers_;
  CurlEasy curl_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
};

}  // namespace metricsd::http
