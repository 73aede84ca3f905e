#include "core/duration.h"

#include <gtest/gtest.h>

namespace metricsd {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, GoSyntax) {
  EXPECT_EQ(ParseDuration("30s"), 30s);
  EXPECT_EQ(ParseDuration("500ms"), 500ms);
  EXPECT_EQ(ParseDuration("1m30s"), 90s);
  EXPECT_EQ(ParseDuration("1.5h"), 90min);
  EXPECT_EQ(ParseDuration("250us"), 250us);
  EXPECT_EQ(ParseDuration("7ns"), 7ns);
  EXPECT_EQ(ParseDuration("0"), 0ns);
}

TEST(ParseDuration, Rejects) {
  for (const char* bad : {"", "30", "s", "-5s", "1x", "1.2.3s", "abc", "99999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(FormatDuration, RoundTrips) {
  EXPECT_EQ(FormatDuration(30s), "30s");
  EXPECT_EQ(FormatDuration(90s), "1m30s");
  EXPECT_EQ(FormatDuration(500ms), "500ms");
  EXPECT_EQ(FormatDuration(0s), "0s");
  EXPECT_EQ(FormatDuration(2h), "2h");
  for (std::chrono::nanoseconds d :
       {std::chrono::nanoseconds(1500ms), std::chrono::nanoseconds(61s),
        std::chrono::nanoseconds(3601s)}) {
    EXPECT_EQ(ParseDuration(FormatDuration(d)), d);
  }
}

}  // namespace
}  // namespace metricsd
