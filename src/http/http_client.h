// HttpClient: one libcurl easy handle for one peer (a shipper's receiver or a scrape
// target). The handle is kept between requests, so connections (and TLS sessions) are
// reused. Proxy environment variables (http_proxy, https_proxy, no_proxy) are honoured as
// libcurl does by default. Redirects are followed (when max_redirects allows) by the client
// itself, not by libcurl: libcurl would strip only Authorization and Cookie on a redirect to
// another host, and send every other configured header (X-Api-Key ...) along.
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
  // Stop the transfer (an error) as soon as the decoded body exceeds max_response_body_bytes,
  // instead of reading and dropping the rest. Scrapers use it so a huge body or a
  // decompression bomb costs at most the cap.
  bool fail_on_body_cap = false;
  // Redirects followed per request (to http and https URLs only; others are an error); 0:
  // none are followed. Once a redirect leaves the origin (scheme, host, port) of the request
  // URL, the rest of the chain gets neither auth.headers, credentials, nor extra_headers:
  // only the fixed headers.
  long max_redirects = 0;
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

  // The same request in two halves, for use with a curl multi handle (many transfers on one
  // thread): PrepareRequest() configures easy() without performing it; the caller adds
  // easy() to its multi handle, and once the multi handle reports the transfer done with
  // `result`, FinishRequest() returns what Perform() would have. `request` (its url, body and
  // header lines) must stay valid until FinishRequest(). One request at a time per client.
  // Between the two, after each transfer: FollowRedirect(result) returns true when the
  // response is a redirect to follow and easy() is now set up for the next hop (the caller
  // adds it to its multi handle again); false when the request is over.
  Status PrepareRequest(const HttpRequest& request) noexcept;
  bool FollowRedirect(CURLcode result) noexcept;
  Result<HttpResponse> FinishRequest(CURLcode result) noexcept;
  CURL* easy() const noexcept { return curl_.get(); }

  // What the last TLS handshake of this client negotiated (nullopt: none yet).
  const std::optional<TlsHandshake>& last_tls_handshake() const noexcept {
    return tls_.last_handshake();
  }

 private:
  explicit HttpClient(HttpClientOptions options);
  Status Init(std::string_view key_prefix);

  // Where the write callback puts the body of the request in flight.
  struct BodySink {
    HttpResponse* response = nullptr;
    std::size_t cap = 0;
    bool stop_at_cap = false;
    std::size_t expected_size = 0;  // reserved when the first bytes arrive
    std::size_t declared_size = 0;  // Content-Length; 0 when absent
    bool encoded = false;           // a Content-Encoding: the body decodes to more
  };
  static std::size_t OnHeader(char* data, std::size_t size, std::size_t nmemb, void* user);
  static std::size_t OnBody(char* data, std::size_t size, std::size_t nmemb, void* user);

  HttpClientOptions options_;
  TlsSetup tls_;                   // outlives curl_ (declared before it): libcurl points at it
  CurlSlist headers_;              // auth.headers, credentials, then the fixed lines
  CurlSlist origin_free_headers_;  // the fixed lines only: for hops that left the origin
  CurlEasy curl_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  HttpResponse pending_;            // the response of the request in flight
  BodySink sink_;                   // points at pending_
  CurlSlist pending_headers_;       // per-request header list (fixed lines + extra_headers)
  std::size_t last_body_size_ = 0;  // bodies of one peer are alike: reserve about as much

  // The redirect chain of the request in flight.
  std::string origin_;        // "scheme://host:port" of the request URL
  bool left_origin_ = false;  // a hop went elsewhere: no credentials for the rest
  long hops_ = 0;             // redirects followed
  bool has_body_ = false;     // the request sends a body (POST, PUT, ...)
  std::chrono::steady_clock::time_point deadline_;  // the timeout covers the whole chain
  std::string hop_url_;                             // CURLOPT_URL of the hop in flight
  std::string redirect_error_;  // why a redirect was not followed; FinishRequest reports it
};

}  // namespace metricsd::http
