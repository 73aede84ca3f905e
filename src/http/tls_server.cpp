#include "http/tls_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <spdlog/spdlog.h>
#include <array>
#include <chrono>

namespace metricsd::http {

namespace {

struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
using UniqueCtx = std::unique_ptr<SSL_CTX, CtxDeleter>;
using UniqueSsl = std::unique_ptr<SSL, SslDeleter>;

// The first queued OpenSSL error as text ("...:no start line"), clearing the queue.
std::string LastOpensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown error";
  }
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

int OpensslVersion(config::TlsVersion version) {
  switch (version) {
    case config::TlsVersion::kTls10:
      return TLS1_VERSION;
    case config::TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case config::TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case config::TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

Result<UniqueCtx> BuildContext(const config::ServerTlsOptions& options, bool request_only,
                               std::string_view key_prefix) {
  const std::string prefix(key_prefix);
  UniqueCtx ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    return Error{prefix + ": cannot create a TLS context: " + LastOpensslError()};
  }
  SSL_CTX_set_min_proto_version(ctx.get(), OpensslVersion(options.min_version));
  // Partial writes and a moving buffer: the server writes shared pieces as the socket takes
  // them. Released buffers: idle keep-alive connections hold no 34 KiB of TLS buffers.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), options.cert_file.c_str()) != 1) {
    return Error{prefix + ".cert_file: cannot use \"" + options.cert_file +
                 "\": " + LastOpensslError()};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Error{prefix + ".key_file: cannot use \"" + options.key_file +
                 "\": " + LastOpensslError()};
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    return Error{prefix + ".key_file: does not match the certificate in " + prefix + ".cert_file"};
  }
  // Sessions resumed across a verify-mode context need an id context (else OpenSSL fails
  // the resumption); one name per server is enough.
  static constexpr unsigned char kSessionContext[] = "metricsd";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  const config::ClientAuth auth = options.effective_client_auth();
  if (!options.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), options.client_ca_file.c_str(), nullptr) != 1) {
      return Error{prefix + ".client_ca_file: cannot use \"" + options.client_ca_file +
                   "\": " + LastOpensslError()};
    }
    // The CA names sent in the CertificateRequest, so clients pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names == nullptr) {
      return Error{prefix + ".client_ca_file: no PEM certificate in \"" + options.client_ca_file +
                   "\""};
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);
  }
  int verify = SSL_VERIFY_NONE;
  if (auth == config::ClientAuth::kVerifyClientCertIfGiven) {
    verify = SSL_VERIFY_PEER;
  } else if (auth == config::ClientAuth::kRequireAndVerifyClientCert) {
    verify = request_only ? SSL_VERIFY_PEER : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx.get(), verify, nullptr);
  ERR_clear_error();
  return ctx;
}

class OpensslTlsStream final : public TlsStream {
 public:
  explicit OpensslTlsStream(UniqueSsl ssl) : ssl_(std::move(ssl)) {}

  Io Read(char* buffer, std::size_t size) override {
    std::size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_.get(), buffer, size, &n) == 1) {
      return Io{.bytes = n};
    }
    return Failed(SSL_get_error(ssl_.get(), 0));
  }

  Io Write(const char* data, std::size_t size) override {
    std::size_t n = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_.get(), data, size, &n) == 1) {
      return Io{.bytes = n};
    }
    return Failed(SSL_get_error(ssl_.get(), 0));
  }

  bool HasBufferedInput() const override { return SSL_pending(ssl_.get()) > 0; }

  bool PeerCertificateVerified() const override {
    // Only a certificate the handshake checked against the client CA counts.
    return SSL_get0_peer_certificate(ssl_.get()) != nullptr &&
           SSL_get_verify_result(ssl_.get()) == X509_V_OK;
  }

 private:
  static Io Failed(int error) {
    ERR_clear_error();  // per-thread queue: leave nothing for the next connection
    switch (error) {
      case SSL_ERROR_WANT_READ:
        return Io{.want = Want::kRead};
      case SSL_ERROR_WANT_WRITE:
        return Io{.want = Want::kWrite};
      default:
        return Io{.open = false};  // closed, reset, or a failed handshake
    }
  }

  UniqueSsl ssl_;
};

// What identifies one version of a file on disk.
struct FileVersion {
  ino_t inode = 0;
  std::int64_t mtime_ns = 0;
  off_t size = 0;
  bool operator==(const FileVersion&) const = default;
};

FileVersion VersionOf(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return FileVersion{st.st_ino, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                     st.st_size};
}

class OpensslServerTls final : public ServerTls {
 public:
  OpensslServerTls(config::ServerTlsOptions options, bool request_only, std::string key_prefix,
                   UniqueCtx ctx)
      : options_(std::move(options)),
        request_only_(request_only),
        key_prefix_(std::move(key_prefix)),
        ctx_(std::move(ctx)),
        versions_(Versions()),
        checked_(std::chrono::steady_clock::now()) {}

  std::unique_ptr<TlsStream> Accept(int fd) override {
    ReloadIfChanged();
    // The session keeps its own reference to the context: a reload cannot pull it away.
    UniqueSsl ssl(SSL_new(ctx_.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
      ERR_clear_error();
      return nullptr;
    }
    SSL_set_accept_state(ssl.get());
    return std::make_unique<OpensslTlsStream>(std::move(ssl));
  }

 private:
  std::array<FileVersion, 3> Versions() const {
    return {VersionOf(options_.cert_file), VersionOf(options_.key_file),
            VersionOf(options_.client_ca_file)};
  }

  void ReloadIfChanged() {
    const auto now = std::chrono::steady_clock::now();
    if (now - checked_ < std::chrono::seconds(1)) {
      return;
    }
    checked_ = now;
    std::array<FileVersion, 3> versions = Versions();
    if (versions == versions_) {
      return;
    }
    // A certificate and its key are rarely replaced in one step; a pair that does not match
    // yet is retried at the next check.
    auto rebuilt = BuildContext(options_, request_only_, key_prefix_);
    if (!rebuilt.ok()) {
      if (versions != failed_versions_) {
        spdlog::warn(
            "server TLS files changed but cannot be used yet (still serving the "
            "previous certificate): {}",
            rebuilt.error());
        failed_versions_ = versions;
      }
      return;
    }
    ctx_ = std::move(*rebuilt);
    versions_ = versions;
    spdlog::info("server TLS certificate reloaded from {}", options_.cert_file);
  }

  const config::ServerTlsOptions options_;
  const bool request_only_;
  const std::string key_prefix_;
  UniqueCtx ctx_;
  std::array<FileVersion, 3> versions_;
  std::array<FileVersion, 3> failed_versions_{};
  std::chrono::steady_clock::time_point checked_;
};

}  // namespace

Result<std::unique_ptr<ServerTls>> MakeServerTls(const config::ServerTlsOptions& options,
                                                 bool request_only, std::string_view key_prefix) {
  auto ctx = BuildContext(options, request_only, key_prefix);
  if (!ctx.ok()) {
    return Error{ctx.error()};
  }
  return std::unique_ptr<ServerTls>(std::make_unique<OpensslServerTls>(
      options, request_only, std::string(key_prefix), std::move(*ctx)));
}

}  // namespace metricsd::http
