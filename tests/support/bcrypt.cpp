#include "support/bcrypt.h"

#include <crypt.h>

namespace metricsd::testing {

std::string BcryptHash(const std::string& password, int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (::crypt_gensalt_rn("$2y$", cost, nullptr, 0, salt, sizeof salt) == nullptr) {
    return {};
  }
  crypt_data data{};
  const char* hash = ::crypt_r(password.c_str(), salt, &data);
  return hash != nullptr && hash[0] == '$' ? hash : "";
}

}  // namespace metricsd::testing
