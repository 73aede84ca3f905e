// Client TLS for every outgoing HTTP connection (shippers and scrapes): one mapping of
// config::TlsOptions onto libcurl + OpenSSL.
//
//  - ca_file replaces the trust store; without it the system roots are used.
//  - cert_file/key_file are optional (server-only TLS is valid). libcurl reads them when it
//    opens a connection, so a rebuilt client (SIGHUP) picks up rotated files.
//  - server_name goes into SNI and is the name the server certificate is checked against
//    (OpenSSL's X509_VERIFY_PARAM host check, set from the SSL_CTX callback); the URL host is
//    still the address connected to and the HTTP Host header.
//  - min_version/max_version, cipher_suites (IANA names mapped to OpenSSL names; TLS 1.3
//    suites go to the TLS 1.3 list), session_tickets (off: SSL_OP_NO_TICKET and no session
//    cache), insecure_skip_verify.
//
// A TlsSetup is owned by one HttpClient and used from that client's thread only. It must
// outlive the CURL handle it was applied to (libcurl keeps a pointer for its callbacks).
#pragma once

#include <curl/curl.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/options.h"
#include "core/result.h"

// OpenSSL types, kept out of this header.
struct ssl_st;
struct x509_st;
struct evp_pkey_st;

namespace metricsd::http {

struct CipherSuiteName {
  std::string_view iana;     // as written in the config (Go's crypto/tls constant names)
  std::string_view openssl;  // as OpenSSL's cipher-list syntax spells it
  bool tls13;                // TLS 1.3 suites are configured through a separate list
};

// The static IANA -> OpenSSL table (documented in docs/shipping.md).
std::span<const CipherSuiteName> KnownCipherSuites() noexcept;
const CipherSuiteName* FindCipherSuite(std::string_view iana) noexcept;

// Checks what can be checked before connecting: readable PEM files, a certificate that
// matches its key, a cert without a key (or the reverse), version order, cipher names.
// Every problem is reported, each naming its key under key_prefix
// (e.g. "shipper.tls.cipher_suites[1]: unknown cipher suite \"X\""), joined by "; ".
// Does nothing when tls.enabled is false.
Status ValidateTlsOptions(const config::TlsOptions& tls, std::string_view key_prefix);

// What the last TLS handshake on a connection of this client negotiated.
struct TlsHandshake {
  std::string version;      // "TLSv1.2", "TLSv1.3"
  std::string cipher;       // IANA (RFC) name, e.g. "TLS_AES_128_GCM_SHA256"
  std::string server_name;  // the SNI we sent; empty when none was sent
};

class TlsSetup {
 public:
  explicit TlsSetup(config::TlsOptions options);
  TlsSetup(const TlsSetup&) = delete;
  TlsSetup& operator=(const TlsSetup&) = delete;

  // Sets the TLS options on `curl`. Validate the options first; this only fails when
  // libcurl refuses an option (e.g. a libcurl without OpenSSL).
  Status Apply(CURL* curl);

  // nullopt until a handshake completed on a connection configured by this setup.
  const std::optional<TlsHandshake>& last_handshake() const noexcept { return last_handshake_; }

  // True when, in the last handshake, the server asked for a client certificate and none is
  // configured. With TLS 1.3 the server's refusal arrives after the client's handshake is
  // done, often as a bare connection reset; this lets the error say what went wrong.
  bool client_cert_requested_but_missing() const noexcept { return client_cert_missing_; }

 private:
  static CURLcode SslCtxCallback(CURL* curl, void* ssl_ctx, void* self);
  static void InfoCallback(const ::ssl_st* ssl, int where, int ret);
  static int ClientCertCallback(::ssl_st* ssl, struct x509_st** cert, struct evp_pkey_st** key);

  config::TlsOptions options_;
  std::string cipher_list_;    // TLS <= 1.2, OpenSSL names joined by ':'
  std::string tls13_ciphers_;  // TLS 1.3 suite names joined by ':'
  bool server_name_is_ip_ = false;
  std::optional<TlsHandshake> last_handshake_;  // written by InfoCallback on the client's thread
  bool client_cert_missing_ = false;            // likewise
};

}  // namespace metricsd::http
