// bcrypt hashes for tests (basic-auth users of metricsd's server and of Prometheus), made
// with libxcrypt. Cost 4, the lowest, keeps tests fast; the hash format is the same.
#pragma once

#include <string>

namespace metricsd::testing {

// "$2y$04$..." for `password`; empty if libxcrypt failed.
std::string BcryptHash(const std::string& password, int cost = 4);

}  // namespace metricsd::testing
