#include "http/retry_after.h"

#include <gtest/gtest.h>

namespace metricsd::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 1994-11-06T08:49:37Z, the RFC 9110 example date.
const auto kExampleDate = std::chrono::system_clock::from_time_t(784111777);

TEST(RetryAfter, ParsesDelaySeconds) {
  auto now = std::chrono::system_clock::now();
  EXPECT_EQ(ParseRetryAfter("120", now), milliseconds(120'000));
  EXPECT_EQ(ParseRetryAfter("  0 ", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", now), std::chrono::hours(24 * 7));
}

TEST(RetryAfter, ParsesAllThreeHttpDateForms) {
  auto now = kExampleDate - seconds(30);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), milliseconds(30'000));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now), milliseconds(30'000));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", now), milliseconds(30'000));
}

TEST(RetryAfter, DateInThePastMeansNow) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExampleDate + seconds(5)),
            milliseconds(0));
}

TEST(RetryAfter, RejectsGarbage) {
  auto now = std::chrono::system_clock::now();
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("<script>", now), std::nullopt);
}

}  // namespace
}  // namespace metricsd::http
