// Test-only PKI: a CA and certificates signed by it, written as PEM files into a directory.
// Built with the OpenSSL API so tests can make what the openssl CLI makes awkward
// (an already-expired certificate, chosen SANs, client-only key usage).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace metricsd::testing {

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool client = false;                        // extendedKeyUsage clientAuth instead of serverAuth
  std::chrono::seconds not_before{-3600};     // relative to now
  std::chrono::seconds not_after{2 * 86400};  // relative to now
};

struct CertFiles {
  std::string cert_file;
  std::string key_file;
};

class TestPki {
 public:
  // Creates a self-signed CA named `ca_name` and writes <dir>/<ca_name>.crt.
  TestPki(std::string dir, std::string ca_name);
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;
  ~TestPki();

  const std::string& ca_file() const { return ca_file_; }
  // Issues <dir>/<name>.crt and <dir>/<name>.key (RSA 2048), signed by this CA.
  CertFiles Issue(const std::string& name, const CertSpec& spec);

 private:
  std::string dir_;
  std::string ca_file_;
  void* ca_key_ = nullptr;   // EVP_PKEY*
  void* ca_cert_ = nullptr;  // X509*
};

}  // namespace metricsd::testing
