#include "support/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>

namespace metricsd::testing {
namespace {

EVP_PKEY* NewRsaKey() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) {
    throw std::runtime_error("RSA key generation failed");
  }
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    throw std::runtime_error("bad extension " + value);
  }
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* NewCert(EVP_PKEY* key, const std::string& cn, long not_before, long not_after, long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

void WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    throw std::runtime_error("cannot write " + path);
  }
  if (cert != nullptr) {
    PEM_write_X509(f, cert);
  }
  if (key != nullptr) {
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  std::fclose(f);
}

}  // namespace

TestPki::TestPki(std::string dir, std::string ca_name) : dir_(std::move(dir)) {
  EVP_PKEY* key = NewRsaKey();
  X509* cert = NewCert(key, ca_name, -3600, 7 * 86400, 1);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  AddExtension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert, cert, NID_subject_key_identifier, "hash");
  X509_sign(cert, key, EVP_sha256());
  ca_key_ = key;
  ca_cert_ = cert;
  ca_file_ = dir_ + "/" + ca_name + ".crt";
  WritePem(ca_file_, cert, nullptr);
}

TestPki::~TestPki() {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
  X509_free(static_cast<X509*>(ca_cert_));
}

CertFiles TestPki::Issue(const std::string& name, const CertSpec& spec) {
  static long serial = 100;  // test-only: unique serials within one process
  auto* ca_cert = static_cast<X509*>(ca_cert_);
  auto* ca_key = static_cast<EVP_PKEY*>(ca_key_);
  EVP_PKEY* key = NewRsaKey();
  X509* cert = NewCert(key, spec.common_name, static_cast<long>(spec.not_before.count()),
                       static_cast<long>(spec.not_after.count()), ++serial);
  X509_set_issuer_name(cert, X509_get_subject_name(ca_cert));
  AddExtension(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert, ca_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
  AddExtension(cert, ca_cert, NID_ext_key_usage, spec.client ? "clientAuth" : "serverAuth");
  std::string san;
  for (const auto& dns : spec.dns_names) {
    san += (san.empty() ? "" : ",") + std::string("DNS:") + dns;
  }
  for (const auto& ip : spec.ip_addresses) {
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  if (!san.empty()) {
    AddExtension(cert, ca_cert, NID_subject_alt_name, san);
  }
  X509_sign(cert, ca_key, EVP_sha256());
  CertFiles files{dir_ + "/" + name + ".crt", dir_ + "/" + name + ".key"};
  WritePem(files.cert_file, cert, nullptr);
  WritePem(files.key_file, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

}  // namespace metricsd::testing
