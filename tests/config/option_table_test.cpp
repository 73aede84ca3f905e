#include "config/option_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
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

// The value the effective-config printer shows at a table key ("shipper.tls.enabled",
// "endpoints[].url") for `config`, as the table would show it.
std::string RenderedAt(const nlohmann::json& rendered, const std::string& table_key) {
  std::string key = table_key;
  const nlohmann::json* node = &rendered;
  for (auto [prefix, list] : {std::pair{"shipper.", "shippers"},
                              {"shippers[].", "shippers"},
                              {"endpoints[].", "endpoints"}}) {
    if (key.starts_with(prefix)) {
      node = &rendered.at(list).at(0);
      key = key.substr(std::string_view(prefix).size());
    }
  }
  std::stringstream parts(key);
  for (std::string part; std::getline(parts, part, '.');) {
    node = &node->at(part);
  }
  return node->is_string() ? node->get<std::string>() : node->dump();
}

// The table's defaults are the aggregates' defaults, as -check-config prints them: a default
// changed in options.h changes the table (and the README test then asks for the new table).
TEST(OptionTable, DefaultsAreTheCodeDefaults) {
  Config defaults;
  defaults.shippers.emplace_back();
  defaults.endpoints.emplace_back();
  nlohmann::json rendered = nlohmann::json::parse(RenderEffectiveConfig(defaults));
  std::set<std::string> prose;
  for (const OptionInfo& o : AllOptions()) {
    if (!o.default_from_code) {
      prose.insert(o.key);
      continue;
    }
    EXPECT_EQ(o.default_value, RenderedAt(rendered, o.key)) << o.key;
  }
  // Only these show prose (or nothing) instead of the code's value; each says why in its row.
  EXPECT_EQ(prose, (std::set<std::string>{
                       "collector.filesystems.fstype_exclude", "collector.disk_io.device_exclude",
                       "collector.gpu.nvml_library", "instance", "data_dir", "shipper.type",
                       "shipper.tls.ca_file", "shipper.tls.cipher_suites", "shippers[].name",
                       "endpoints[].timeout", "endpoints[].interval", "endpoints[].sample_limit",
                       "endpoints[].label_limit", "endpoints[].label_name_length_limit",
                       "endpoints[].label_value_length_limit", "endpoints[].line_length_limit",
                       "endpoints[].tls", "endpoints[].basic_auth"}));
}

// A few defaults spelled out, independently of the rows' rendering.
TEST(OptionTable, DefaultsMatchTheAggregates) {
  std::map<std::string, std::string> table;
  for (const OptionInfo& o : AllOptions()) {
    table[o.key] = o.default_value;
  }
  EXPECT_EQ(table["server.port"], std::to_string(Config{}.server.port));
  EXPECT_EQ(table["collector.interval_seconds"],
            std::to_string(Config{}.collector.interval.count()));
  EXPECT_EQ(table["shipper.timeout"], "30s");
  EXPECT_EQ(table["shipper.queue.max_disk_bytes"],
            std::to_string(ShipperOptions{}.queue.max_disk_bytes));
  EXPECT_EQ(table["endpoints[].max_body_bytes"], std::to_string(EndpointOptions{}.max_body_bytes));
  EXPECT_EQ(table["scrape.sample_limit"], "200000");
  EXPECT_EQ(table["scrape.label_limit"], "64");
  EXPECT_EQ(table["scrape.label_name_length_limit"], "256");
  EXPECT_EQ(table["scrape.label_value_length_limit"], "4096");
  EXPECT_EQ(table["scrape.line_length_limit"], "65536");
}

// Loading an empty file adds nothing to the aggregates' defaults.
TEST(OptionTable, EmptyFileLoadsTheAggregateDefaults) {
  auto loaded = LoadFromText("{}", "t", [](const char*) -> const char* { return nullptr; });
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(RenderEffectiveConfig(loaded->config), RenderEffectiveConfig(Config{}));
}

}  // namespace
}  // namespace metricsd::config
