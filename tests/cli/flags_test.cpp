#include "cli/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace metricsd {
namespace {

using ::testing::HasSubstr;

Flags Parse(std::vector<std::string> args) {
  auto flags = ParseFlags(args);
  EXPECT_TRUE(flags.ok()) << (flags.ok() ? "" : flags.error());
  return flags.ok() ? *flags : Flags{};
}

std::string Fail(std::vector<std::string> args) {
  auto flags = ParseFlags(args);
  EXPECT_FALSE(flags.ok());
  return flags.ok() ? "" : flags.error();
}

TEST(Flags, GoStyleSpellings) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"-config", "a.json"},
                                                                {"--config", "a.json"},
                                                                {"-config=a.json"},
                                                                {"--config=a.json"}}) {
    EXPECT_EQ(Parse(args).config_path, "a.json");
  }
  EXPECT_EQ(Parse({"-log-level", "debug"}).log_level, "debug");
  EXPECT_EQ(Parse({"--log-level=warn"}).log_level, "warn");
}

TEST(Flags, Booleans) {
  EXPECT_TRUE(Parse({"-version"}).version);
  EXPECT_TRUE(Parse({"--check-config"}).check_config);
  EXPECT_TRUE(Parse({"-once=true"}).once);
  EXPECT_FALSE(Parse({"-once=false"}).once);
  EXPECT_TRUE(Parse({"-h"}).help);
  EXPECT_TRUE(Parse({"--help"}).help);
  // A boolean does not consume the next argument.
  Flags f = Parse({"-once", "-config", "x.json"});
  EXPECT_TRUE(f.once);
  EXPECT_EQ(f.config_path, "x.json");
}

TEST(Flags, Errors) {
  EXPECT_THAT(Fail({"-bogus"}), HasSubstr("flag provided but not defined: -bogus"));
  EXPECT_THAT(Fail({"-config"}), HasSubstr("flag needs an argument: -config"));
  EXPECT_THAT(Fail({"---config=x"}), HasSubstr("bad flag syntax"));
  EXPECT_THAT(Fail({"-once=maybe"}), HasSubstr("invalid boolean value"));
}

TEST(Flags, PositionalAndTerminator) {
  Flags f = Parse({"extra", "-once", "--", "-config"});
  EXPECT_TRUE(f.once);
  EXPECT_FALSE(f.config_path.has_value());
  EXPECT_EQ(f.positional, (std::vector<std::string>{"extra", "-config"}));
}

TEST(Flags, UsageListsFlagsExitCodesAndEnvironment) {
  std::string usage = UsageText("metricsd");
  for (const char* text :
       {"-config", "-log-level", "-check-config", "-once", "-version", "-help", "Exit codes",
        "MC_SERVER_PORT", "MC_TLS_SERVER_NAME", "MC_LOG_LEVEL", "HOST_PROC"}) {
    EXPECT_THAT(usage, HasSubstr(text));
  }
}

}  // namespace
}  // namespace metricsd
