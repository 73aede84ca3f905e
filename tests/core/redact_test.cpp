#include "core/redact.h"

#include <gtest/gtest.h>

namespace metricsd {
namespace {

TEST(RedactUrl, HidesThePasswordAndKeepsTheUser) {
  EXPECT_EQ(RedactUrl("https://alice:hunter2@h:9090/api/v1/write?x=1"),
            "https://alice:<redacted>@h:9090/api/v1/write?x=1");
  // An unescaped '@' in the password: the host starts after the last one.
  EXPECT_EQ(RedactUrl("http://bob:p@ss@h/"), "http://bob:<redacted>@h/");
}

TEST(RedactUrl, HidesALoneUserInfoWhole) {
  EXPECT_EQ(RedactUrl("https://ghp_token123@h/metrics"), "https://<redacted>@h/metrics");
}

TEST(RedactUrl, LeavesUrlsWithoutUserInfoAlone) {
  for (const char* url :
       {"https://h:9090/write", "http://h/a@b", "http://h?q=a@b", "not a url", "http://@h/", ""}) {
    EXPECT_EQ(RedactUrl(url), url);
  }
  EXPECT_EQ(UrlUserInfo("http://h/a@b"), "");
  EXPECT_EQ(UrlUserInfo("http://u:p@h/"), "u:p");
}

TEST(RedactUrl, HidesCredentialQueryParameters) {
  EXPECT_EQ(RedactUrl("https://h/write?api_key=abc123&region=eu"),
            "https://h/write?api_key=<redacted>&region=eu");
  EXPECT_EQ(RedactUrl("https://u:p@h/?ACCESS_TOKEN=t&X-Amz-Signature=s#frag"),
            "https://u:<redacted>@h/?ACCESS_TOKEN=<redacted>&X-Amz-Signature=<redacted>#frag");
  EXPECT_EQ(RedactUrl("http://h/m?format=prometheus&flag&password="),
            "http://h/m?format=prometheus&flag&password=<redacted>");
  EXPECT_EQ(RedactUrl("http://h/m?x=1&y=2"), "http://h/m?x=1&y=2");
}

TEST(IsNonSecretHeader, AllowListOnlyAnyCase) {
  EXPECT_TRUE(IsNonSecretHeader("Content-Type"));
  EXPECT_TRUE(IsNonSecretHeader("x-scope-orgid"));
  for (const char* name :
       {"X-Api-Key", "X-Honeycomb-Team", "Signature", "Authorization", "X-Custom"}) {
    EXPECT_FALSE(IsNonSecretHeader(name)) << name;
  }
}

}  // namespace
}  // namespace metricsd
