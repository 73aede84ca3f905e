#include "http/http_client.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/bytes.h"
#include "core/redact.h"
#include "core/version.h"

namespace metricsd::http {
namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// RFC 9110 token characters.
bool IsHeaderName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

void AddError(std::string& errors, const std::string& key, std::string_view message) {
  if (!errors.empty()) {
    errors += "; ";
  }
  errors += key;
  errors += ": ";
  errors += message;
}

// Secret files usually end with a newline; surrounding whitespace is never part of a secret.
Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    int err = errno;
    return Error{"cannot read \"" + path + "\": " + (err != 0 ? std::strerror(err) : "error")};
  }
  std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return std::string(TrimSpace(content));
}

constexpr std::array<std::string_view, 5> kFramingHeaders = {"Content-Length", "Transfer-Encoding",
                                                             "Host", "Connection", "Expect"};

}  // namespace

std::size_t HttpClient::OnHeader(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  HttpResponse* response = sink->response;
  std::size_t n = size * nmemb;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response starts (after "100 Continue" or an interim response): forget the old one.
    response->content_type.clear();
    response->retry_after.clear();
    sink->declared_size = 0;
    sink->encoded = false;
    return n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return n;
  }
  std::string_view name = line.substr(0, colon);
  std::string_view value = TrimSpace(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "Content-Type")) {
    response->content_type.assign(value.substr(0, 256));
  } else if (EqualsIgnoreCase(name, "Retry-After")) {
    response->retry_after.assign(value.substr(0, 64));
  } else if (EqualsIgnoreCase(name, "Content-Length")) {
    std::size_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    sink->declared_size = ec == std::errc() && end == value.data() + value.size() ? length : 0;
  } else if (EqualsIgnoreCase(name, "Content-Encoding") && !EqualsIgnoreCase(value, "identity")) {
    sink->encoded = true;  // the length is the encoded one
  }
  return n;
}

namespace {

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::string UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  std::string out;
  if (curl_url_get(url, part, &text, flags) == CURLUE_OK && text != nullptr) {
    out = text;
  }
  curl_free(text);
  return out;
}

// "scheme://host:port" with the default port spelled out; empty when `url` is not valid.
std::string OriginOf(CURLU* url) {
  std::string host = UrlPart(url, CURLUPART_HOST);
  for (char& c : host) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return UrlPart(url, CURLUPART_SCHEME) + "://" + host + ":" +
         UrlPart(url, CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

CurlUrl ParseUrl(const char* text) {
  CurlUrl url(curl_url());
  if (url && curl_url_set(url.get(), CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    url.reset();
  }
  return url;
}

}  // namespace

std::size_t HttpClient::OnBody(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  std::size_t n = size * nmemb;
  std::string& body = sink->response->body;
  if (body.empty()) {
    // Reserved at the first bytes, not when the request is prepared: a collector with many
    // transfers in flight holds buffers only for those that are answering. The declared
    // length when the body comes as it is, else about the last body's size; growing chunk by
    // chunk would copy it and double its capacity.
    const std::size_t expected = sink->declared_size > 0 && !sink->encoded
                                     ? std::min(sink->cap, sink->declared_size)
                                     : sink->expected_size;
    if (body.capacity() < expected) {
      body.reserve(expected);
    }
  }
  std::size_t room = sink->cap > body.size() ? sink->cap - body.size() : 0;
  if (n > room) {
    sink->response->body_truncated = true;
    if (sink->stop_at_cap) {
      return 0;  // any count but n ends the transfer with CURLE_WRITE_ERROR
    }
  }
  // Keep reading past the cap (and drop it) so the connection stays usable.
  body.append(data, std::min(n, room));
  return n;
}

Status ValidateHttpAuth(const config::HttpAuth& auth, std::string_view key_prefix,
                        std::span<const std::string_view> reserved) {
  std::string errors;
  const std::string prefix(key_prefix);
  const config::BasicAuth& basic = auth.basic_auth;
  bool has_basic =
      !basic.username.empty() || !basic.password.empty() || !basic.password_file.empty();
  bool has_bearer = !auth.bearer_token.empty() || !auth.bearer_token_file.empty();
  if (has_basic && has_bearer) {
    AddError(errors, prefix + ".bearer_token", "cannot be combined with " + prefix + ".basic_auth");
  }
  if (has_basic && basic.username.empty()) {
    AddError(errors, prefix + ".basic_auth.username", "required when a password is set");
  }
  if (!basic.password.empty() && !basic.password_file.empty()) {
    AddError(errors, prefix + ".basic_auth.password_file",
             "cannot be combined with " + prefix + ".basic_auth.password");
  }
  if (!auth.bearer_token.empty() && !auth.bearer_token_file.empty()) {
    AddError(errors, prefix + ".bearer_token_file",
             "cannot be combined with " + prefix + ".bearer_token");
  }
  if (!basic.password_file.empty()) {
    if (auto r = ReadSecretFile(basic.password_file); !r) {
      AddError(errors, prefix + ".basic_auth.password_file", r.error());
    }
  }
  if (!auth.bearer_token_file.empty()) {
    if (auto r = ReadSecretFile(auth.bearer_token_file); !r) {
      AddError(errors, prefix + ".bearer_token_file", r.error());
    } else if (r->empty()) {
      AddError(errors, prefix + ".bearer_token_file",
               "\"" + auth.bearer_token_file + "\" is empty");
    }
  }
  for (const auto& header : auth.headers) {
    // Named copies of the pair: lambdas cannot capture structured bindings before C++20 in clang.
    const std::string& name = header.first;
    const std::string& value = header.second;
    std::string key = prefix + ".headers." + name;
    if (!IsHeaderName(name)) {
      AddError(errors, key, "not a valid header name");
      continue;
    }
    if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos) {
      AddError(errors, key, "header value must not contain CR, LF or NUL");
    }
    bool is_reserved = std::any_of(reserved.begin(), reserved.end(),
                                   [&](std::string_view r) { return EqualsIgnoreCase(r, name); }) ||
                       std::any_of(kFramingHeaders.begin(), kFramingHeaders.end(),
                                   [&](std::string_view r) { return EqualsIgnoreCase(r, name); }) ||
                       ((has_basic || has_bearer) && EqualsIgnoreCase(name, "Authorization"));
    if (is_reserved) {
      AddError(errors, key, "this header is set by metricsd and cannot be overridden");
    }
  }
  if (errors.empty()) {
    return Status::Ok();
  }
  return Error{std::move(errors)};
}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), tls_(options_.tls) {}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options,
                                                       std::string_view key_prefix) {
  std::string tls_prefix = std::string(key_prefix) + ".tls";
  if (Status s = ValidateTlsOptions(options.tls, tls_prefix); !s) {
    return Error{s.error()};
  }
  std::vector<std::string_view> reserved;
  for (const std::string& line : options.fixed_headers) {
    reserved.push_back(std::string_view(line).substr(0, line.find(':')));
  }
  for (const std::string& name : options.reserved_header_names) {
    reserved.push_back(name);
  }
  reserved.push_back("User-Agent");
  if (Status s = ValidateHttpAuth(options.auth, key_prefix, reserved); !s) {
    return Error{s.error()};
  }
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(options)));
  if (Status s = client->Init(key_prefix); !s) {
    return Error{s.error()};
  }
  return client;
}

Status HttpClient::Init(std::string_view key_prefix) {
  const std::string prefix(key_prefix);
  const config::TlsOptions& tls = options_.tls;
  if (tls.enabled && tls.insecure_skip_verify) {
    spdlog::warn(
        "{}: TLS CERTIFICATE VERIFICATION IS DISABLED ({}.tls.insecure_skip_verify=true): "
        "any server can impersonate the receiver. Use it for testing only.",
        options_.log_name, prefix);
  }
  if (!tls.enabled && (!tls.ca_file.empty() || !tls.cert_file.empty() || !tls.server_name.empty() ||
                       !tls.cipher_suites.empty() || tls.insecure_skip_verify)) {
    spdlog::warn("{}: {}.tls options are set but {}.tls.enabled is false: they are ignored",
                 options_.log_name, prefix, prefix);
  }

  const config::HttpAuth& auth = options_.auth;
  std::string bearer = auth.bearer_token;
  if (!auth.bearer_token_file.empty()) {
    auto token = ReadSecretFile(auth.bearer_token_file);
    if (!token) {
      return Error{prefix + ".bearer_token_file: " + token.error()};
    }
    bearer = std::move(*token);
  }
  std::string password = auth.basic_auth.password;
  if (!auth.basic_auth.password_file.empty()) {
    auto from_file = ReadSecretFile(auth.basic_auth.password_file);
    if (!from_file) {
      return Error{prefix + ".basic_auth.password_file: " + from_file.error()};
    }
    password = std::move(*from_file);
  }

  // User headers first, then auth, then the fixed protocol headers; reserved names were
  // rejected above, so no user header can shadow a protocol header.
  bool ok = true;
  for (const auto& [name, value] : auth.headers) {
    ok = ok && headers_.Append(name + ": " + value);
  }
  if (!bearer.empty()) {
    ok = ok && headers_.Append("Authorization: Bearer " + bearer);
  }
  // Basic auth is a header line too (not CURLOPT_USERNAME), so that leaving the origin on a
  // redirect drops every credential by switching lists.
  if (!auth.basic_auth.username.empty()) {
    ok = ok && headers_.Append("Authorization: Basic " +
                               Base64(auth.basic_auth.username + ":" + password));
  }
  for (const std::string& line : options_.fixed_headers) {
    ok = ok && headers_.Append(line) && origin_free_headers_.Append(line);
  }
  // libcurl would send "Expect: 100-continue" for large bodies and wait a round trip.
  ok = ok && headers_.Append("Expect:") && origin_free_headers_.Append("Expect:");
  if (!ok) {
    return Error{"out of memory building the header list"};
  }

  curl_ = MakeCurlEasy();
  if (!curl_) {
    return Error{"curl_easy_init failed"};
  }
  CURL* h = curl_.get();
  std::string user_agent =
      options_.user_agent.empty() ? std::string("metricsd/") + kVersion : options_.user_agent;
  CURLcode rc = CURLE_OK;
  auto set = [&rc, h](CURLoption option, auto value) {
    if (rc == CURLE_OK) {
      rc = curl_easy_setopt(h, option, value);
    }
  };
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, error_buffer_);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);  // FollowRedirect() does it, see the header
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_USERAGENT, user_agent.c_str());  // libcurl copies option strings
  set(CURLOPT_HTTPHEADER, headers_.get());
  set(CURLOPT_HEADERFUNCTION, &OnHeader);
  set(CURLOPT_WRITEFUNCTION, &OnBody);
  if (options_.accept_compressed) {
    set(CURLOPT_ACCEPT_ENCODING, "");
  }
  if (rc != CURLE_OK) {
    return Error{std::string("libcurl setup failed: ") + curl_easy_strerror(rc)};
  }
  if (Status s = tls_.Apply(h); !s) {
    return Error{prefix + ".tls: " + s.error()};
  }
  return Status::Ok();
}

Status HttpClient::PrepareRequest(const HttpRequest& request) noexcept {
  try {
    CURL* h = curl_.get();
    pending_ = HttpResponse{};
    // Bodies of one peer are alike: reserving about the last one's size saves the
    // reallocations (and copies) of growing a large body chunk by chunk.
    sink_ =
        BodySink{&pending_, options_.max_response_body_bytes, options_.fail_on_body_cap,
                 std::min(options_.max_response_body_bytes, last_body_size_ + last_body_size_ / 8)};
    pending_headers_ = CurlSlist();
    if (!request.extra_headers.empty()) {
      // A per-request list must carry the fixed lines too: CURLOPT_HTTPHEADER is one list.
      for (curl_slist* it = headers_.get(); it != nullptr; it = it->next) {
        if (!pending_headers_.Append(it->data)) {
          return Error{"out of memory"};
        }
      }
      for (const std::string& line : request.extra_headers) {
        if (!pending_headers_.Append(line)) {
          return Error{"out of memory"};
        }
      }
    }
    std::chrono::milliseconds timeout = request.timeout.value_or(options_.timeout);
    long timeout_ms = std::max<long>(1, static_cast<long>(timeout.count()));
    error_buffer_[0] = '\0';
    CurlUrl url = ParseUrl(request.url.c_str());
    origin_ = url ? OriginOf(url.get()) : std::string();
    left_origin_ = false;
    hops_ = 0;
    has_body_ = request.method != "GET" && request.method != "HEAD";
    deadline_ = std::chrono::steady_clock::now() + timeout;
    redirect_error_.clear();
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER,
                     pending_headers_.empty() ? headers_.get() : pending_headers_.get());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10'000L));
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink_);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink_);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      // Never NULL: libcurl would then read the body from its read callback (stdin).
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      if (request.method != "POST") {
        std::string method(request.method);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());  // copied by libcurl
      }
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Error{std::string("internal error: ") + e.what()};
  }
}

bool HttpClient::FollowRedirect(CURLcode rc) noexcept {
  try {
    CURL* h = curl_.get();
    long status = 0;
    char* location = nullptr;
    if (rc != CURLE_OK || options_.max_redirects <= 0 ||
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
        (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) ||
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || location == nullptr) {
      return false;  // not a redirect: this response is the answer
    }
    if (hops_ >= options_.max_redirects) {
      redirect_error_ = "more than " + std::to_string(options_.max_redirects) + " redirects";
      return false;
    }
    CurlUrl next = ParseUrl(location);
    const std::string scheme = next ? UrlPart(next.get(), CURLUPART_SCHEME) : "";
    if (scheme != "http" && scheme != "https") {
      redirect_error_ =
          "redirect to \"" + RedactUrl(location) + "\" refused: only http and https are followed";
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      redirect_error_ = "timed out following redirects";
      return false;
    }
    ++hops_;
    if (OriginOf(next.get()) != origin_) {
      left_origin_ = true;  // for the rest of the chain, even if it comes back
    }
    if (left_origin_) {
      // libcurl would turn a user-info in the URL into basic auth.
      curl_url_set(next.get(), CURLUPART_USER, nullptr, 0);
      curl_url_set(next.get(), CURLUPART_PASSWORD, nullptr, 0);
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, origin_free_headers_.get());
    }
    hop_url_ = UrlPart(next.get(), CURLUPART_URL);
    curl_easy_setopt(h, CURLOPT_URL, hop_url_.c_str());
    // As browsers and libcurl do: a request with a body continues with a GET after 301, 302
    // and 303; 307 and 308 repeat it as it was.
    if (has_body_ && status != 307 && status != 308) {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      has_body_ = false;
    }
    const long left_ms = static_cast<long>(left.count());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(left_ms, 10'000L));
    error_buffer_[0] = '\0';
    pending_ = HttpResponse{};
    return true;
  } catch (const std::exception& e) {
    redirect_error_ = std::string("internal error: ") + e.what();
    return false;
  }
}

Result<HttpResponse> HttpClient::FinishRequest(CURLcode rc) noexcept {
  try {
    CURL* h = curl_.get();
    // The per-request list dies with the next request; never leave libcurl pointing at it.
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers_.get());
    pending_headers_ = CurlSlist();
    if (!redirect_error_.empty()) {
      pending_ = HttpResponse{};
      return Error{redirect_error_};
    }
    if (rc == CURLE_WRITE_ERROR && sink_.stop_at_cap && pending_.body_truncated) {
      pending_.body.clear();
      pending_.body.shrink_to_fit();
      return Error{"response body larger than " + std::to_string(sink_.cap) + " bytes"};
    }
    if (rc != CURLE_OK) {
      std::string reason = curl_easy_strerror(rc);
      if (error_buffer_[0] != '\0') {
        reason += ": ";
        reason += error_buffer_;
      }
      if (tls_.client_cert_requested_but_missing()) {
        reason += " (the server asked for a client certificate and tls.cert_file is not set)";
      }
      return Error{std::move(reason)};
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &pending_.status);
    last_body_size_ = pending_.body.size();
    return std::move(pending_);
  } catch (const std::exception& e) {
    return Error{std::string("internal error: ") + e.what()};
  }
}

Result<HttpResponse> HttpClient::Perform(const HttpRequest& request) noexcept {
  if (Status s = PrepareRequest(request); !s) {
    return Error{s.error()};
  }
  CURLcode rc = curl_easy_perform(curl_.get());
  while (FollowRedirect(rc)) {
    rc = curl_easy_perform(curl_.get());
  }
  return FinishRequest(rc);
}

}  // namespace metricsd::http
