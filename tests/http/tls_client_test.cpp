// TLS options on the wire, against an in-process OpenSSL server (cpp-httplib's SSLServer)
// that records what each handshake negotiated from the server's side.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/ssl.h>

#include <mutex>
#include <thread>

#include "http/http_client.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace metricsd::http {
namespace {

using metricsd::testing::CertFiles;
using metricsd::testing::CertSpec;
using metricsd::testing::TempDir;
using metricsd::testing::TestPki;

struct ServerTls {
  CertFiles cert;                // default certificate
  std::optional<CertFiles> alt;  // served only when the client's SNI is "alt.test"
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string cipher_list;     // TLS <= 1.2, OpenSSL names; empty: defaults
  std::string client_ca_file;  // non-empty: require a client certificate from this CA
};

struct Handshake {
  std::string sni;
  std::string version;
  std::string cipher;
  bool resumed = false;
};

class TlsServer {
 public:
  explicit TlsServer(ServerTls config)
      : config_(std::move(config)), server_([this](SSL_CTX& ctx) { return Setup(ctx); }) {
    server_.Post("/.*", [this](const httplib::Request& req, httplib::Response& res) {
      Handshake h;
      if (const char* sni = SSL_get_servername(req.ssl, TLSEXT_NAMETYPE_host_name)) {
        h.sni = sni;
      }
      h.version = SSL_get_version(req.ssl);
      h.cipher = SSL_CIPHER_standard_name(SSL_get_current_cipher(req.ssl));
      h.resumed = SSL_session_reused(const_cast<SSL*>(req.ssl)) == 1;
      {
        std::lock_guard lock(mu_);
        handshakes_.push_back(h);
      }
      res.set_content("ok", "text/plain");
    });
    // One request per connection, so every request makes a new handshake.
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    metricsd::testing::WaitUntil([this] { return server_.is_running(); }, std::chrono::seconds(10));
  }
  ~TlsServer() {
    server_.stop();
    thread_.join();
    if (alt_ctx_ != nullptr) {
      SSL_CTX_free(alt_ctx_);
    }
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/write"; }
  std::vector<Handshake> handshakes() {
    std::lock_guard lock(mu_);
    return handshakes_;
  }

 private:
  bool Setup(SSL_CTX& ctx) {
    if (!Configure(&ctx, config_.cert)) {
      return false;
    }
    if (config_.alt) {
      alt_ctx_ = SSL_CTX_new(TLS_server_method());
      if (!Configure(alt_ctx_, *config_.alt)) {
        return false;
      }
      SSL_CTX_set_tlsext_servername_arg(&ctx, alt_ctx_);
      SSL_CTX_set_tlsext_servername_callback(
          &ctx, +[](SSL* ssl, int*, void* arg) -> int {
            const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
            if (name != nullptr && std::string_view(name) == "alt.test") {
              SSL_set_SSL_CTX(ssl, static_cast<SSL_CTX*>(arg));
            }
            return SSL_TLSEXT_ERR_OK;
          });
    }
    return true;
  }

  bool Configure(SSL_CTX* ctx, const CertFiles& cert) {
    SSL_CTX_set_min_proto_version(ctx, config_.min_version);
    SSL_CTX_set_max_proto_version(ctx, config_.max_version);
    if (!config_.cipher_list.empty() &&
        SSL_CTX_set_cipher_list(ctx, config_.cipher_list.c_str()) != 1) {
      return false;
    }
    if (!config_.client_ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx, config_.client_ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return SSL_CTX_use_certificate_chain_file(ctx, cert.cert_file.c_str()) == 1 &&
           SSL_CTX_use_PrivateKey_file(ctx, cert.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  }

  ServerTls config_;
  SSL_CTX* alt_ctx_ = nullptr;
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Handshake> handshakes_;
};

class TlsClientTest : public ::testing::Test {
 protected:
  TlsClientTest() {
    server_cert_ = pki_.Issue("server", CertSpec{.common_name = "localhost",
                                                 .dns_names = {"localhost"},
                                                 .ip_addresses = {"127.0.0.1"}});
  }

  config::TlsOptions BaseTls() {
    config::TlsOptions tls;
    tls.enabled = true;
    tls.ca_file = pki_.ca_file();
    return tls;
  }

  // One POST with a fresh client; returns the error text or "" on a 200.
  std::string Post(const config::TlsOptions& tls, const std::string& url,
                   std::optional<TlsHandshake>* client_view = nullptr) {
    HttpClientOptions options;
    options.tls = tls;
    options.timeout = std::chrono::seconds(10);
    auto client = HttpClient::Create(options, "shipper");
    if (!client) {
      return "config: " + client.error();
    }
    HttpRequest request;
    request.url = url;
    request.body = "x";
    auto response = (*client)->Perform(request);
    if (client_view != nullptr) {
      *client_view = (*client)->last_tls_handshake();
    }
    if (!response) {
      return response.error();
    }
    return response->status == 200 ? "" : "HTTP " + std::to_string(response->status);
  }

  TempDir dir_;
  TestPki pki_{dir_.path(), "ca"};
  TestPki other_pki_{dir_.path(), "other-ca"};
  CertFiles server_cert_;
};

TEST_F(TlsClientTest, ServerOnlyTlsWithCaFileWorks) {
  TlsServer server({.cert = server_cert_});
  std::optional<TlsHandshake> seen;
  EXPECT_EQ(Post(BaseTls(), server.url(), &seen), "");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->version, "TLSv1.3");
  EXPECT_EQ(seen->server_name, "");  // no SNI for an IP address
}

TEST_F(TlsClientTest, UnknownCaFailsCleanly) {
  TlsServer server({.cert = server_cert_});
  config::TlsOptions tls = BaseTls();
  tls.ca_file = other_pki_.ca_file();
  std::string error = Post(tls, server.url());
  EXPECT_NE(error.find("SSL certificate problem: unable to get local issuer certificate"),
            std::string::npos)
      << error;
}

TEST_F(TlsClientTest, SystemRootsDoNotTrustATestCa) {
  TlsServer server({.cert = server_cert_});
  config::TlsOptions tls = BaseTls();
  tls.ca_file.clear();
  std::string error = Post(tls, server.url());
  EXPECT_NE(error.find("SSL certificate problem"), std::string::npos) << error;
}

TEST_F(TlsClientTest, InsecureSkipVerifyAcceptsAnUnknownCa) {
  TlsServer server({.cert = server_cert_});
  config::TlsOptions tls = BaseTls();
  tls.ca_file = other_pki_.ca_file();
  tls.insecure_skip_verify = true;
  EXPECT_EQ(Post(tls, server.url()), "");
}

TEST_F(TlsClientTest, ExpiredServerCertificateFailsCleanly) {
  CertFiles expired = pki_.Issue("expired", CertSpec{.common_name = "localhost",
                                                     .ip_addresses = {"127.0.0.1"},
                                                     .not_before = std::chrono::seconds(-7200),
                                                     .not_after = std::chrono::seconds(-3600)});
  TlsServer server({.cert = expired});
  std::string error = Post(BaseTls(), server.url());
  EXPECT_NE(error.find("certificate has expired"), std::string::npos) << error;
}

TEST_F(TlsClientTest, ServerNameGoesIntoSniAndIsTheNameChecked) {
  // The default certificate names only default.test; alt.test's certificate is served only
  // to a client that sends SNI "alt.test". Success proves both SNI and the name check.
  CertFiles default_cert =
      pki_.Issue("default", CertSpec{.common_name = "default.test", .dns_names = {"default.test"}});
  CertFiles alt_cert =
      pki_.Issue("alt", CertSpec{.common_name = "alt.test", .dns_names = {"alt.test"}});
  TlsServer server({.cert = default_cert, .alt = alt_cert});

  config::TlsOptions tls = BaseTls();
  tls.server_name = "alt.test";
  std::optional<TlsHandshake> seen;
  EXPECT_EQ(Post(tls, server.url(), &seen), "");
  ASSERT_EQ(server.handshakes().size(), 1u);
  EXPECT_EQ(server.handshakes()[0].sni, "alt.test");
  EXPECT_EQ(seen->server_name, "alt.test");

  // The default certificate's name, without server_name, does not match 127.0.0.1.
  tls.server_name.clear();
  std::string error = Post(tls, server.url());
  EXPECT_NE(error.find("SSL"), std::string::npos) << error;
}

TEST_F(TlsClientTest, WrongServerNameFailsCleanly) {
  TlsServer server({.cert = server_cert_});
  config::TlsOptions tls = BaseTls();
  tls.server_name = "wrong.example";
  std::string error = Post(tls, server.url());
  EXPECT_NE(error.find("hostname mismatch"), std::string::npos) << error;
}

TEST_F(TlsClientTest, MaxVersionReachesTheWire) {
  TlsServer server({.cert = server_cert_});
  config::TlsOptions tls = BaseTls();
  tls.max_version = config::TlsVersion::kTls12;
  EXPECT_EQ(Post(tls, server.url()), "");
  ASSERT_EQ(server.handshakes().size(), 1u);
  EXPECT_EQ(server.handshakes()[0].version, "TLSv1.2");
}

TEST_F(TlsClientTest, Tls13OnlyServerRejectsMaxTls12) {
  TlsServer server({.cert = server_cert_, .min_version = TLS1_3_VERSION});
  config::TlsOptions tls = BaseTls();
  tls.max_version = config::TlsVersion::kTls12;
  std::string error = Post(tls, server.url());
  EXPECT_NE(error.find("SSL connect error"), std::string::npos) << error;
  EXPECT_TRUE(server.handshakes().empty());
}

TEST_F(TlsClientTest, MinVersionTls13AgainstTls12OnlyServerFails) {
  TlsServer server({.cert = server_cert_, .max_version = TLS1_2_VERSION});
  config::TlsOptions tls = BaseTls();
  tls.min_version = config::TlsVersion::kTls13;
  std::string error = Post(tls, server.url());
  EXPECT_FALSE(error.empty());
  EXPECT_TRUE(server.handshakes().empty());
}

TEST_F(TlsClientTest, CipherSuitePinningReachesTheWire) {
  TlsServer server({.cert = server_cert_,
                    .max_version = TLS1_2_VERSION,
                    .cipher_list = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"});
  config::TlsOptions tls = BaseTls();
  tls.max_version = config::TlsVersion::kTls12;
  tls.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"};
  std::optional<TlsHandshake> seen;
  EXPECT_EQ(Post(tls, server.url(), &seen), "");
  ASSERT_EQ(server.handshakes().size(), 1u);
  EXPECT_EQ(server.handshakes()[0].cipher, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
  EXPECT_EQ(seen->cipher, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
}

TEST_F(TlsClientTest, Tls13SuitePinningReachesTheWire) {
  TlsServer server({.cert = server_cert_});
  config::TlsOptions tls = BaseTls();
  tls.cipher_suites = {"TLS_CHACHA20_POLY1305_SHA256"};
  EXPECT_EQ(Post(tls, server.url()), "");
  ASSERT_EQ(server.handshakes().size(), 1u);
  EXPECT_EQ(server.handshakes()[0].cipher, "TLS_CHACHA20_POLY1305_SHA256");
}

TEST_F(TlsClientTest, NoSharedCipherFailsCleanly) {
  TlsServer server({.cert = server_cert_,
                    .max_version = TLS1_2_VERSION,
                    .cipher_list = "ECDHE-RSA-AES128-GCM-SHA256"});
  config::TlsOptions tls = BaseTls();
  tls.max_version = config::TlsVersion::kTls12;
  tls.cipher_suites = {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"};
  std::string error = Post(tls, server.url());
  EXPECT_NE(error.find("handshake failure"), std::string::npos) << error;
}

TEST_F(TlsClientTest, MissingClientCertificateWhenRequiredFailsCleanly) {
  TlsServer server({.cert = server_cert_, .client_ca_file = pki_.ca_file()});
  std::string error = Post(BaseTls(), server.url());
  EXPECT_NE(error.find("the server asked for a client certificate"), std::string::npos) << error;
  EXPECT_TRUE(server.handshakes().empty());

  CertFiles client = pki_.Issue("client", CertSpec{.common_name = "metricsd", .client = true});
  config::TlsOptions tls = BaseTls();
  tls.cert_file = client.cert_file;
  tls.key_file = client.key_file;
  EXPECT_EQ(Post(tls, server.url()), "");
}

TEST_F(TlsClientTest, SessionTicketsOffMeansNoResumption) {
  TlsServer server({.cert = server_cert_, .max_version = TLS1_2_VERSION});
  for (bool tickets : {true, false}) {
    SCOPED_TRACE(tickets ? "tickets on" : "tickets off");
    config::TlsOptions tls = BaseTls();
    tls.session_tickets = tickets;
    HttpClientOptions options;
    options.tls = tls;
    auto client = HttpClient::Create(options, "shipper");
    ASSERT_TRUE(client.ok()) << client.error();
    HttpRequest request;
    request.url = server.url();
    request.body = "x";
    std::size_t before = server.handshakes().size();
    for (int i = 0; i < 2; ++i) {  // the server closes after each request
      auto response = (*client)->Perform(request);
      ASSERT_TRUE(response.ok()) << response.error();
    }
    auto hs = server.handshakes();
    ASSERT_EQ(hs.size(), before + 2);
    EXPECT_FALSE(hs[before].resumed);
    EXPECT_EQ(hs[before + 1].resumed, tickets);
  }
}

TEST_F(TlsClientTest, RebuiltClientRereadsRotatedCertificates) {
  TlsServer server({.cert = server_cert_, .client_ca_file = pki_.ca_file()});
  // The client key pair on disk is first one from the wrong CA, then rotated in place.
  CertFiles wrong = other_pki_.Issue("rotating", CertSpec{.common_name = "c", .client = true});
  config::TlsOptions tls = BaseTls();
  tls.cert_file = wrong.cert_file;
  tls.key_file = wrong.key_file;
  EXPECT_FALSE(Post(tls, server.url()).empty());
  CertFiles rotated = pki_.Issue("rotating", CertSpec{.common_name = "c", .client = true});
  ASSERT_EQ(rotated.cert_file, wrong.cert_file);
  EXPECT_EQ(Post(tls, server.url()), "");
}

}  // namespace
}  // namespace metricsd::http
