#include "config/options.h"

namespace metricsd::config {

std::string_view TlsVersionName(TlsVersion version) noexcept {
  switch (version) {
    case TlsVersion::kTls10:
      return "TLS1.0";
    case TlsVersion::kTls11:
      return "TLS1.1";
    case TlsVersion::kTls12:
      return "TLS1.2";
    case TlsVersion::kTls13:
      return "TLS1.3";
  }
  return "TLS1.2";
}

std::string_view ClientAuthName(ClientAuth auth) noexcept {
  switch (auth) {
    case ClientAuth::kNoClientCert:
      return "NoClientCert";
    case ClientAuth::kVerifyClientCertIfGiven:
      return "VerifyClientCertIfGiven";
    case ClientAuth::kRequireAndVerifyClientCert:
      return "RequireAndVerifyClientCert";
  }
  return "NoClientCert";
}

}  // namespace metricsd::config
