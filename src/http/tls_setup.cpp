#include "http/tls_setup.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

namespace metricsd::http {
namespace {

// Go's crypto/tls names (the seed's documented list) and their OpenSSL spellings.
// The legacy Go aliases without "_SHA256" are accepted for the ChaCha20 suites.
constexpr std::array<CipherSuiteName, 22> kCipherSuites = {{
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", true},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", true},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", false},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", false},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", false},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", false},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", false},
}};

struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using UniqueBio = std::unique_ptr<BIO, BioDeleter>;
using UniqueX509 = std::unique_ptr<X509, X509Deleter>;
using UniquePkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

void AddError(std::string& errors, std::string_view key, std::string_view message) {
  if (!errors.empty()) {
    errors += "; ";
  }
  errors += key;
  errors += ": ";
  errors += message;
}

bool CheckReadable(const std::string& path, std::string_view key, std::string& errors) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    int err = errno;
    AddError(errors, key,
             "cannot read \"" + path + "\": " + (err != 0 ? std::strerror(err) : "open failed"));
    return false;
  }
  return true;
}

UniqueX509 ReadFirstCertificate(const std::string& path) {
  UniqueBio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    return nullptr;
  }
  return UniqueX509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

long CurlMinVersion(config::TlsVersion v) {
  switch (v) {
    case config::TlsVersion::kTls10:
      return CURL_SSLVERSION_TLSv1_0;
    case config::TlsVersion::kTls11:
      return CURL_SSLVERSION_TLSv1_1;
    case config::TlsVersion::kTls12:
      return CURL_SSLVERSION_TLSv1_2;
    case config::TlsVersion::kTls13:
      return CURL_SSLVERSION_TLSv1_3;
  }
  return CURL_SSLVERSION_TLSv1_2;
}

long CurlMaxVersion(config::TlsVersion v) {
  switch (v) {
    case config::TlsVersion::kTls10:
      return CURL_SSLVERSION_MAX_TLSv1_0;
    case config::TlsVersion::kTls11:
      return CURL_SSLVERSION_MAX_TLSv1_1;
    case config::TlsVersion::kTls12:
      return CURL_SSLVERSION_MAX_TLSv1_2;
    case config::TlsVersion::kTls13:
      return CURL_SSLVERSION_MAX_TLSv1_3;
  }
  return CURL_SSLVERSION_MAX_DEFAULT;
}

// The ex_data slot that maps an SSL_CTX back to its TlsSetup. Registered once, then constant.
int SetupIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

std::span<const CipherSuiteName> KnownCipherSuites() noexcept { return kCipherSuites; }

const CipherSuiteName* FindCipherSuite(std::string_view iana) noexcept {
  for (const auto& suite : kCipherSuites) {
    if (suite.iana == iana) {
      return &suite;
    }
  }
  return nullptr;
}

Status ValidateTlsOptions(const config::TlsOptions& tls, std::string_view key_prefix) {
  if (!tls.enabled) {
    return Status::Ok();
  }
  std::string errors;
  const std::string prefix(key_prefix);
  auto key = [&prefix](std::string_view field) { return prefix + "." + std::string(field); };

  if (!tls.ca_file.empty() && CheckReadable(tls.ca_file, key("ca_file"), errors)) {
    if (!ReadFirstCertificate(tls.ca_file)) {
      AddError(errors, key("ca_file"), "no PEM certificate in \"" + tls.ca_file + "\"");
    }
  }
  if (!tls.cert_file.empty() && tls.key_file.empty()) {
    AddError(errors, key("key_file"), "required when " + key("cert_file") + " is set");
  }
  if (tls.cert_file.empty() && !tls.key_file.empty()) {
    AddError(errors, key("cert_file"), "required when " + key("key_file") + " is set");
  }
  if (!tls.cert_file.empty() && !tls.key_file.empty()) {
    bool cert_readable = CheckReadable(tls.cert_file, key("cert_file"), errors);
    bool key_readable = CheckReadable(tls.key_file, key("key_file"), errors);
    UniqueX509 cert;
    UniquePkey pkey;
    if (cert_readable) {
      cert = ReadFirstCertificate(tls.cert_file);
      if (!cert) {
        AddError(errors, key("cert_file"), "no PEM certificate in \"" + tls.cert_file + "\"");
      }
    }
    if (key_readable) {
      UniqueBio bio(BIO_new_file(tls.key_file.c_str(), "r"));
      // A null passphrase callback with an empty user pointer makes OpenSSL fail instead of
      // prompting on the terminal for an encrypted key.
      pem_password_cb* no_prompt = [](char*, int, int, void*) { return 0; };
      pkey.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_prompt, nullptr) : nullptr);
      if (!pkey) {
        AddError(errors, key("key_file"),
                 "no unencrypted PEM private key in \"" + tls.key_file + "\"");
      }
    }
    if (cert && pkey && X509_check_private_key(cert.get(), pkey.get()) != 1) {
      AddError(errors, key("key_file"), "does not match the certificate in " + key("cert_file"));
    }
    ERR_clear_error();
  }
  if (tls.min_version > tls.max_version) {
    AddError(errors, key("min_version"),
             std::string(config::TlsVersionName(tls.min_version)) + " is above " +
                 key("max_version") + " " + std::string(config::TlsVersionName(tls.max_version)));
  }
  bool any_pre13 = false;
  for (std::size_t i = 0; i < tls.cipher_suites.size(); ++i) {
    const CipherSuiteName* suite = FindCipherSuite(tls.cipher_suites[i]);
    if (suite == nullptr) {
      AddError(errors, key("cipher_suites[" + std::to_string(i) + "]"),
               "unknown cipher suite \"" + tls.cipher_suites[i] +
                   "\" (use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
    } else if (!suite->tls13) {
      any_pre13 = true;
    }
  }
  if (!tls.cipher_suites.empty() && !any_pre13 && tls.max_version < config::TlsVersion::kTls13) {
    AddError(errors, key("cipher_suites"),
             "lists only TLS 1.3 suites but " + key("max_version") + " is " +
                 std::string(config::TlsVersionName(tls.max_version)));
  }
  if (tls.server_name.find_first_of(" \t\r\n/:") != std::string::npos) {
    AddError(errors, key("server_name"), "\"" + tls.server_name + "\" is not a host name");
  }
  if (errors.empty()) {
    return Status::Ok();
  }
  return Error{std::move(errors)};
}

TlsSetup::TlsSetup(config::TlsOptions options) : options_(std::move(options)) {
  for (const std::string& name : options_.cipher_suites) {
    const CipherSuiteName* suite = FindCipherSuite(name);
    if (suite == nullptr) {
      continue;  // rejected by ValidateTlsOptions
    }
    std::string& list = suite->tls13 ? tls13_ciphers_ : cipher_list_;
    if (!list.empty()) {
      list += ':';
    }
    list += suite->openssl;
  }
  server_name_is_ip_ = !options_.server_name.empty() && IsIpAddress(options_.server_name);
}

Status TlsSetup::Apply(CURL* curl) {
  if (!options_.enabled) {
    // libcurl defaults: system roots, peer and host verification on.
    return Status::Ok();
  }
  auto set = [curl](CURLoption option, auto value, const char* what) -> Status {
    CURLcode rc = curl_easy_setopt(curl, option, value);
    if (rc != CURLE_OK) {
      return Error{std::string("libcurl refused ") + what + ": " + curl_easy_strerror(rc)};
    }
    return Status::Ok();
  };
  long version = CurlMinVersion(options_.min_version) | CurlMaxVersion(options_.max_version);
  std::array<Status, 12> results = {
      set(CURLOPT_SSLVERSION, version, "TLS version range"),
      options_.ca_file.empty() ? Status::Ok()
                               : set(CURLOPT_CAINFO, options_.ca_file.c_str(), "tls.ca_file"),
      // With a ca_file, that file alone is trusted (no system CA directory on top).
      options_.ca_file.empty() ? Status::Ok()
                               : set(CURLOPT_CAPATH, static_cast<const char*>(nullptr), "CA path"),
      options_.cert_file.empty()
          ? Status::Ok()
          : set(CURLOPT_SSLCERT, options_.cert_file.c_str(), "tls.cert_file"),
      options_.key_file.empty() ? Status::Ok()
                                : set(CURLOPT_SSLKEY, options_.key_file.c_str(), "tls.key_file"),
      set(CURLOPT_SSL_VERIFYPEER, options_.insecure_skip_verify ? 0L : 1L, "peer verification"),
      // With server_name, OpenSSL checks the certificate against that name (see
      // SslCtxCallback); libcurl's own check would compare it with the URL host instead.
      set(CURLOPT_SSL_VERIFYHOST,
          (options_.insecure_skip_verify || !options_.server_name.empty()) ? 0L : 2L,
          "host verification"),
      cipher_list_.empty() ? Status::Ok()
                           : set(CURLOPT_SSL_CIPHER_LIST, cipher_list_.c_str(), "cipher list"),
      tls13_ciphers_.empty()
          ? Status::Ok()
          : set(CURLOPT_TLS13_CIPHERS, tls13_ciphers_.c_str(), "TLS 1.3 cipher list"),
      set(CURLOPT_SSL_SESSIONID_CACHE, options_.session_tickets ? 1L : 0L, "session cache"),
      set(CURLOPT_SSL_CTX_FUNCTION, &TlsSetup::SslCtxCallback, "SSL_CTX callback (OpenSSL)"),
      set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(this), "SSL_CTX callback data"),
  };
  for (Status& status : results) {
    if (!status.ok()) {
      return status;
    }
  }
  return Status::Ok();
}

CURLcode TlsSetup::SslCtxCallback(CURL* /*curl*/, void* ssl_ctx, void* self_ptr) {
  auto* self = static_cast<TlsSetup*>(self_ptr);
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  if (SSL_CTX_set_ex_data(ctx, SetupIndex(), self) != 1) {
    return CURLE_SSL_CERTPROBLEM;
  }
  SSL_CTX_set_info_callback(ctx, &TlsSetup::InfoCallback);
  if (self->options_.cert_file.empty()) {
    // Only called when the server asks for a certificate and none is loaded.
    SSL_CTX_set_client_cert_cb(ctx, &TlsSetup::ClientCertCallback);
  }
  if (!self->options_.session_tickets) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  const std::string& name = self->options_.server_name;
  if (!name.empty() && !self->options_.insecure_skip_verify) {
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = self->server_name_is_ip_
                 ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) {
      return CURLE_SSL_CERTPROBLEM;
    }
  }
  return CURLE_OK;
}

int TlsSetup::ClientCertCallback(SSL* ssl, X509** /*cert*/, EVP_PKEY** /*key*/) {
  auto* self = static_cast<TlsSetup*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), SetupIndex()));
  if (self != nullptr) {
    self->client_cert_missing_ = true;
  }
  return 0;  // go on without a certificate; the server decides
}

void TlsSetup::InfoCallback(const SSL* ssl, int where, int /*ret*/) {
  auto* self = static_cast<TlsSetup*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), SetupIndex()));
  if (self == nullptr) {
    return;
  }
  if ((where & SSL_CB_HANDSHAKE_START) != 0) {
    self->client_cert_missing_ = false;
  }
  if ((where & SSL_CB_HANDSHAKE_START) != 0 && !self->options_.server_name.empty() &&
      !self->server_name_is_ip_) {
    // libcurl sets SNI from the URL host after the SSL_CTX callback; the handshake-start
    // callback runs after that and before the ClientHello is written, so the configured
    // name wins. OpenSSL passes a const SSL* to info callbacks, but the object is ours.
    SSL_set_tlsext_host_name(const_cast<SSL*>(ssl), self->options_.server_name.c_str());
  }
  if ((where & SSL_CB_HANDSHAKE_DONE) != 0) {
    TlsHandshake handshake;
    handshake.version = SSL_get_version(ssl);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl); cipher != nullptr) {
      handshake.cipher = SSL_CIPHER_standard_name(cipher);
    }
    if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); sni != nullptr) {
      handshake.server_name = sni;
    }
    spdlog::debug("TLS handshake done: {} {} sni={}", handshake.version, handshake.cipher,
                  handshake.server_name.empty() ? "-" : handshake.server_name);
    self->last_handshake_ = std::move(handshake);
  }
}

}  // namespace metricsd::http
