// Hiding secrets in text meant for people: -check-config output, validation and reload
// errors, log lines. Pure functions over string_view; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace metricsd {

// What a hidden secret is shown as.
inline constexpr std::string_view kRedacted = "<redacted>";

// The user-info of an absolute URL ("user:pw" in "https://user:pw@host/x"); empty when the
// URL has none or is not of the form scheme://authority.
std::string_view UrlUserInfo(std::string_view url) noexcept;

// `url` with its user-info hidden: the password is replaced, the user name kept
// ("https://user:<redacted>@host/x"). A user-info without a password is often a token used
// as the user name, so it is replaced whole ("https://<redacted>@host/x"). The values of query
// parameters named like credentials (api_key, access_token, X-Amz-Signature, password ...)
// are replaced too ("?api_key=<redacted>&x=1").
std::string RedactUrl(std::string_view url);

// True for the few header names whose values are never secret (Content-Type, Accept,
// X-Scope-OrgID, ...). Every other configured header value is shown as kRedacted: vendors
// put API keys in headers of any name (X-Api-Key, X-Honeycomb-Team, Signature).
bool IsNonSecretHeader(std::string_view name) noexcept;

}  // namespace metricsd
