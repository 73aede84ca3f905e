#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <fstream>

#include "http/tls_setup.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace metricsd::http {
namespace {

using metricsd::testing::CertSpec;
using metricsd::testing::TempDir;
using metricsd::testing::TestPki;

// Every table entry must name, in OpenSSL, exactly the suite its IANA name says.
TEST(CipherSuiteTable, EveryEntryResolvesToTheSameSuiteInOpenSsl) {
  for (const CipherSuiteName& suite : KnownCipherSuites()) {
    SCOPED_TRACE(std::string(suite.iana));
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    ASSERT_NE(ctx, nullptr);
    std::string name(suite.openssl);
    // Drop the security level so legacy CBC suites are listed too.
    SSL_CTX_set_security_level(ctx, 0);
    if (suite.tls13) {
      ASSERT_EQ(SSL_CTX_set_ciphersuites(ctx, name.c_str()), 1);
    } else {
      ASSERT_EQ(SSL_CTX_set_cipher_list(ctx, name.c_str()), 1);
    }
    STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
    bool found = false;
    std::string expected(suite.iana);
    if (expected.ends_with("_CHACHA20_POLY1305")) {
      expected += "_SHA256";  // Go's legacy alias
    }
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
      if (expected == SSL_CIPHER_standard_name(c)) {
        found = true;
      }
    }
    EXPECT_TRUE(found);
    SSL_CTX_free(ctx);
  }
}

TEST(CipherSuiteTable, CoversTheDocumentedNames) {
  for (const char* name : {"TLS_AES_128_GCM_SHA256",
                           "TLS_AES_256_GCM_SHA384",
                           "TLS_CHACHA20_POLY1305_SHA256",
                           "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                           "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                           "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                           "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                           "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                           "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                           "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
                           "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
                           "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
                           "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                           "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
                           "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
                           "TLS_RSA_WITH_AES_128_GCM_SHA256",
                           "TLS_RSA_WITH_AES_256_GCM_SHA384",
                           "TLS_RSA_WITH_AES_128_CBC_SHA256",
                           "TLS_RSA_WITH_AES_128_CBC_SHA",
                           "TLS_RSA_WITH_AES_256_CBC_SHA"}) {
    EXPECT_NE(FindCipherSuite(name), nullptr) << name;
  }
  EXPECT_EQ(FindCipherSuite("ECDHE-RSA-AES128-GCM-SHA256"), nullptr);  // OpenSSL spelling
}

class TlsValidation : public ::testing::Test {
 protected:
  TempDir dir_;
  TestPki pki_{dir_.path(), "ca"};
};

TEST_F(TlsValidation, DisabledTlsIsNotChecked) {
  config::TlsOptions tls;
  tls.cipher_suites = {"nonsense"};
  EXPECT_TRUE(ValidateTlsOptions(tls, "shipper.tls").ok());
}

TEST_F(TlsValidation, ValidServerOnlyAndMutualSetupsPass) {
  config::TlsOptions tls;
  tls.enabled = true;
  EXPECT_TRUE(ValidateTlsOptions(tls, "shipper.tls").ok()) << "system roots, no client cert";
  tls.ca_file = pki_.ca_file();
  auto client = pki_.Issue("client", CertSpec{.common_name = "c", .client = true});
  tls.cert_file = client.cert_file;
  tls.key_file = client.key_file;
  tls.cipher_suites = {"TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
  Status s = ValidateTlsOptions(tls, "shipper.tls");
  EXPECT_TRUE(s.ok()) << s.error();
}

TEST_F(TlsValidation, UnknownCipherNamesTheKeyPath) {
  config::TlsOptions tls;
  tls.enabled = true;
  tls.cipher_suites = {"TLS_AES_128_GCM_SHA256", "TLS_FANCY_CIPHER"};
  Status s = ValidateTlsOptions(tls, "shipper.tls");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      s.error().find("shipper.tls.cipher_suites[1]: unknown cipher suite \"TLS_FANCY_CIPHER\""),
      std::string::npos)
      << s.error();
}

TEST_F(TlsValidation, ReportsEveryProblemWithItsKey) {
  auto client = pki_.Issue("client", CertSpec{.common_name = "c", .client = true});
  auto other = pki_.Issue("other", CertSpec{.common_name = "o"});
  std::string not_pem = dir_.path() + "/not.pem";
  std::ofstream(not_pem) << "hello\n";

  config::TlsOptions tls;
  tls.enabled = true;
  tls.ca_file = not_pem;
  tls.cert_file = client.cert_file;
  tls.key_file = other.key_file;  // does not match
  tls.min_version = config::TlsVersion::kTls13;
  tls.max_version = config::TlsVersion::kTls12;
  Status s = ValidateTlsOptions(tls, "endpoints[2].tls");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("endpoints[2].tls.ca_file: no PEM certificate"), std::string::npos)
      << s.error();
  EXPECT_NE(s.error().find("endpoints[2].tls.key_file: does not match"), std::string::npos)
      << s.error();
  EXPECT_NE(s.error().find("endpoints[2].tls.min_version: TLS1.3 is above"), std::string::npos)
      << s.error();
}

TEST_F(TlsValidation, CertWithoutKeyAndMissingFiles) {
  config::TlsOptions tls;
  tls.enabled = true;
  tls.cert_file = dir_.path() + "/missing.crt";
  Status s = ValidateTlsOptions(tls, "shipper.tls");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("shipper.tls.key_file: required when shipper.tls.cert_file is set"),
            std::string::npos)
      << s.error();

  tls.cert_file.clear();
  tls.ca_file = dir_.path() + "/missing-ca.crt";
  s = ValidateTlsOptions(tls, "shipper.tls");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("shipper.tls.ca_file: cannot read"), std::string::npos) << s.error();
}

TEST_F(TlsValidation, OnlyTls13SuitesWithMaxTls12IsUnusable) {
  config::TlsOptions tls;
  tls.enabled = true;
  tls.max_version = config::TlsVersion::kTls12;
  tls.cipher_suites = {"TLS_AES_256_GCM_SHA384"};
  Status s = ValidateTlsOptions(tls, "shipper.tls");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("shipper.tls.cipher_suites: lists only TLS 1.3 suites"),
            std::string::npos)
      << s.error();
}

}  // namespace
}  // namespace metricsd::http
