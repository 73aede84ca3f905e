#include "config/option_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/config_loader.h"

namespace metricsd::config {
namespace {

TEST(OptionTable, KeysAreUnique) {
  std::set<std::string_view> keys;
  for (const OptionInfo& o : AllOptions()) {
    EXPECT_TRUE(keys.insert(o.key).second) << o.key;
    EXPECT_FALSE(o.help.empty()) << o.key;
  }
}

TEST(OptionTable, ReadmeTableMatchesTheCode) {
  std::ifstream in(std::string(METRICSD_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), ::testing::HasSubstr(RenderOptionsMarkdown()))
      << "README's configuration table is out of date; replace it with:\n"
      << RenderOptionsMarkdown();
}

// Every leaf key of the table is understood by the loader (no unknown-key warning).
TEST(OptionTable, LoaderKnowsEveryKey) {
  for (const OptionInfo& o : AllOptions()) {
    std::string key(o.key);
    if (key.find("[]") != std::string::npos) {
      continue;  // covered by the loader tests
    }
    std::string json;
    std::string value = o.type == "bool"          ? "false"
                        : o.type == "int"         ? "1"
                        : o.type == "list"        ? "[]"
                        : o.type == "map"         ? "{}"
                        : o.type == "duration"    ? "\"1s\""
                        : o.type == "tls-version" ? "\"TLS1.2\""
                                                  : "\"\"";
    // Build nested objects from the dotted path.
    std::vector<std::string> parts;
    std::stringstream ss(key);
    for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
    json = value;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      json = "{\"" + *it + "\":" + json + "}";
    }
    auto loaded = LoadFromText(json, "t", [](const char*) -> const char* { return nullptr; });
    if (loaded.ok()) {
      for (const std::string& w : loaded->warnings) {
        EXPECT_THAT(w, ::testing::Not(::testing::HasSubstr("unknown"))) << key;
      }
    } else {
      // Some sample values are invalid on purpose-free grounds (e.g. port 1 is fine, but a
      // shipper with an empty endpoint is not); the error must not be about an unknown key.
      EXPECT_THAT(loaded.error(), ::testing::Not(::testing::HasSubstr("unknown configuration key")))
          << key;
    }
  }
}

}  // namespace
}  // namespace metricsd::config
