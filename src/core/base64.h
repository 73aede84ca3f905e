// Base64 decoding (RFC 4648, standard alphabet, padded) of untrusted input, e.g. the
// credentials of an HTTP basic-auth header, and a comparison for secrets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace metricsd {

// nullopt on any invalid input: a length that is not a multiple of 4, a character outside
// the alphabet, padding anywhere but at the end.
std::optional<std::string> DecodeBase64(std::string_view in);

// True when a and b are equal, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace metricsd
