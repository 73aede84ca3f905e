#include "config/option_row.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/redact.h"

namespace metricsd::config {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Json Redacted(const std::string& secret) { return secret.empty() ? Json("") : Json(kRedacted); }

}  // namespace

std::string DescribeJson(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number with a fraction";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

// Go's strconv.ParseBool set, as the original accepted.
std::optional<bool> ParseBoolText(std::string_view text) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == t) {
      return true;
    }
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == f) {
      return false;
    }
  }
  return std::nullopt;
}

std::optional<long long> ParseIntText(std::string_view text) {
  long long value = 0;
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string JoinAlternatives(std::span<const std::string_view> names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += i + 1 == names.size() ? " or " : ", ";
    }
    out += names[i];
  }
  return out;
}

std::string JoinKey(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

const Json* FindAtPath(const Json& object, std::string_view key, const std::string& base,
                       Diagnostics& diag, std::vector<std::string>& reported) {
  const Json* current = &object;
  std::string path = base;
  while (true) {
    std::size_t dot = key.find('.');
    std::string_view part = key.substr(0, dot);
    auto it = current->find(std::string(part));
    if (it == current->end() || it->is_null()) {
      return nullptr;
    }
    path = JoinKey(path, part);
    if (dot == std::string_view::npos) {
      return &*it;
    }
    if (!it->is_object()) {
      if (std::find(reported.begin(), reported.end(), path) == reported.end()) {
        reported.push_back(path);
        diag.Error(path, "expected an object, got " + DescribeJson(*it));
      }
      return nullptr;
    }
    current = &*it;
    key.remove_prefix(dot + 1);
  }
}

void SetAtPath(Json& out, std::string_view key, Json value) {
  if (value.is_null()) {
    return;
  }
  Json* current = &out;
  for (std::size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.')) {
    current = &(*current)[std::string(key.substr(0, dot))];
    key.remove_prefix(dot + 1);
  }
  (*current)[std::string(key)] = std::move(value);
}

void WarnUnknownKeys(const Json& object, const std::string& base, const std::string& relative,
                     const std::vector<std::string>& known, Diagnostics& diag) {
  auto is_known = [&](const std::string& key) {
    return std::find(known.begin(), known.end(), key) != known.end();
  };
  auto has_keys_below = [&](const std::string& key) {
    return std::any_of(known.begin(), known.end(), [&](const std::string& k) {
      return k.size() > key.size() && k.starts_with(key) && k[key.size()] == '.';
    });
  };
  std::vector<std::string> unknown;
  for (const auto& [key, value] : object.items()) {
    std::string rel = JoinKey(relative, key);
    if (!is_known(rel)) {
      unknown.push_back(key);
    } else if (value.is_object() && has_keys_below(rel)) {
      WarnUnknownKeys(value, JoinKey(base, key), rel, known, diag);
    }
  }
  for (const std::string& key : unknown) {
    std::string hint;
    for (const std::string& candidate : known) {
      std::string_view sibling = candidate;
      if (!relative.empty()) {
        if (!sibling.starts_with(relative + ".")) {
          continue;
        }
        sibling.remove_prefix(relative.size() + 1);
      }
      if (sibling.find('.') == std::string_view::npos && Lower(sibling) == Lower(key)) {
        hint = " (did you mean \"" + std::string(sibling) + "\"? keys are case-sensitive)";
      }
    }
    diag.warnings.push_back("unknown configuration key \"" + JoinKey(base, key) + "\" ignored" +
                            hint);
  }
}

std::string DefaultText(const Json& rendered) {
  if (rendered.is_string()) {
    return rendered.get<std::string>();
  }
  return rendered.is_null() ? std::string() : rendered.dump();
}

Codec<bool> BoolCodec() {
  return {.type = "bool",
          .from_json =
              [](const Json& v, bool& out, const std::string& path, Diagnostics& diag) {
                if (v.is_boolean()) {
                  out = v.get<bool>();
                } else {
                  diag.Error(path, "expected true or false, got " + DescribeJson(v));
                }
              },
          .from_text = [](std::string_view text, bool& out) -> std::optional<std::string> {
            if (auto b = ParseBoolText(text)) {
              out = *b;
              return std::nullopt;
            }
            return "cannot parse \"" + std::string(text) + "\" (expected true or false)";
          },
          .to_json = [](const bool& value) { return Json(value); }};
}

Codec<std::string> StringCodec(std::string_view type) {
  return {.type = type,
          .from_json =
              [](const Json& v, std::string& out, const std::string& path, Diagnostics& diag) {
                if (v.is_string()) {
                  out = v.get<std::string>();
                } else {
                  diag.Error(path, "expected a string, got " + DescribeJson(v));
                }
              },
          .from_text = [](std::string_view text, std::string& out) -> std::optional<std::string> {
            out = text;
            return std::nullopt;
          },
          .to_json = [](const std::string& value) { return Json(value); }};
}

Codec<std::string> RegexCodec() {
  Codec<std::string> codec = StringCodec("regex");
  codec.check = [](const std::string& pattern, const std::string& path, Diagnostics& diag) {
    if (pattern.empty()) {
      return;
    }
    re2::RE2::Options options;
    options.set_log_errors(false);
    if (const re2::RE2 compiled(pattern, options); !compiled.ok()) {
      diag.Error(path, "invalid regular expression (RE2 syntax): " + compiled.error());
    }
  };
  return codec;
}

Codec<std::string> SecretCodec() {
  Codec<std::string> codec = StringCodec();
  codec.to_json = Redacted;
  return codec;
}

Codec<std::string> UrlCodec() {
  Codec<std::string> codec = StringCodec();
  codec.to_json = [](const std::string& url) { return Json(RedactUrl(url)); };
  return codec;
}

Codec<std::optional<std::string>> OptionalStringCodec(std::string_view unset_text) {
  Codec<std::string> plain = StringCodec();
  return {.type = plain.type,
          .from_json = [from_json = plain.from_json](
                           const Json& v, std::optional<std::string>& out, const std::string& path,
                           Diagnostics& diag) { from_json(v, out.emplace(), path, diag); },
          .from_text = [](std::string_view text,
                          std::optional<std::string>& out) -> std::optional<std::string> {
            out = text;
            return std::nullopt;
          },
          .to_json =
              [unset_text](const std::optional<std::string>& value) {
                return Json(value ? *value : std::string(unset_text));
              }};
}

Codec<std::map<std::string, std::string>> StringMapCodec(MapValues values) {
  using Map = std::map<std::string, std::string>;
  return {.type = "map",
          .from_json =
              [](const Json& v, Map& out, const std::string& path, Diagnostics& diag) {
                if (!v.is_object()) {
                  diag.Error(path, "expected an object of strings, got " + DescribeJson(v));
                  return;
                }
                out.clear();
                for (const auto& [name, value] : v.items()) {
                  if (!value.is_string()) {
                    diag.Error(path + "." + name, "expected a string, got " + DescribeJson(value));
                    continue;
                  }
                  out[name] = value.get<std::string>();
                }
              },
          .from_text = [](std::string_view text, Map& out) -> std::optional<std::string> {
            Map added;
            for (std::string_view rest = text; !rest.empty();) {
              std::size_t comma = rest.find(',');
              std::string_view pair = rest.substr(0, comma);
              rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
              std::size_t eq = pair.find('=');
              if (eq == std::string_view::npos || eq == 0) {
                return "cannot parse \"" + std::string(text) +
                       "\" (expected name=value pairs separated by commas)";
              }
              added[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
            }
            for (auto& [name, value] : added) {
              out[name] = std::move(value);
            }
            return std::nullopt;
          },
          .to_json =
              [values](const Map& map) {
                Json out = Json::object();
                for (const auto& [name, value] : map) {
                  bool shown = values == MapValues::kShown ||
                               (values == MapValues::kHeaders && IsNonSecretHeader(name));
                  out[name] = shown ? Json(value) : Redacted(value);
                }
                return out;
              }};
}

namespace {

// An array whose items `read` converts one by one; an item it refuses is reported as not
// being `what`.
template <typename T, typename Read>
void ReadList(const Json& v, std::vector<T>& out, const std::string& path, Diagnostics& diag,
              std::string_view what, Read read) {
  if (!v.is_array()) {
    diag.Error(path, "expected an array, got " + DescribeJson(v));
    return;
  }
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (std::optional<T> value = read(v[i])) {
      out.push_back(std::move(*value));
    } else {
      diag.Error(path + "[" + std::to_string(i) + "]",
                 "expected " + std::string(what) + ", got " + DescribeJson(v[i]));
    }
  }
}

}  // namespace

Codec<std::vector<std::string>> StringListCodec() {
  using List = std::vector<std::string>;
  return {.type = "list",
          .from_json =
              [](const Json& v, List& out, const std::string& path, Diagnostics& diag) {
                ReadList(v, out, path, diag, "a string",
                         [](const Json& item) -> std::optional<std::string> {
                           return item.is_string() ? std::optional(item.get<std::string>())
                                                   : std::nullopt;
                         });
              },
          .to_json = [](const List& list) { return Json(list); }};
}

Codec<std::vector<int>> IntListCodec() {
  using List = std::vector<int>;
  return {.type = "list",
          .from_json =
              [](const Json& v, List& out, const std::string& path, Diagnostics& diag) {
                ReadList(v, out, path, diag, "an integer",
                         [](const Json& item) -> std::optional<int> {
                           if (!item.is_number_integer() ||
                               item.get<long long>() < std::numeric_limits<int>::min() ||
                               item.get<long long>() > std::numeric_limits<int>::max()) {
                             return std::nullopt;
                           }
                           return static_cast<int>(item.get<long long>());
                         });
              },
          .to_json = [](const List& list) { return Json(list); }};
}

std::optional<std::string> ReadDurationJson(const Json& v, std::chrono::nanoseconds& out) {
  if (v.is_number_unsigned() &&
      v.get<unsigned long long>() >
          static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
    return "value " + v.dump() + " is out of range";
  }
  if (v.is_number_integer()) {
    long long ns = v.get<long long>();
    if (ns < 0) {
      return "must not be negative";
    }
    out = std::chrono::nanoseconds(ns);
    return std::nullopt;
  }
  if (v.is_string()) {
    auto parsed = ParseDuration(v.get<std::string>());
    if (!parsed) {
      return "invalid duration \"" + v.get<std::string>() +
             "\" (use e.g. \"30s\", \"500ms\", \"1m30s\", or integer nanoseconds)";
    }
    out = *parsed;
    return std::nullopt;
  }
  return "expected a duration string or integer nanoseconds, got " + DescribeJson(v);
}

std::optional<std::string> ReadDurationText(std::string_view text, std::chrono::nanoseconds& out) {
  if (auto parsed = ParseDuration(text)) {
    out = *parsed;
    return std::nullopt;
  }
  if (auto n = ParseIntText(text); n && *n >= 0) {
    out = std::chrono::nanoseconds(*n);
    return std::nullopt;
  }
  return "cannot parse \"" + std::string(text) + "\" (expected a duration such as 30s)";
}

Codec<std::chrono::seconds> IntegerSecondsCodec() {
  Codec<long long> plain = IntegerCodec<long long>();
  return {.type = "int",
          .from_json =
              [from_json = plain.from_json](const Json& v, std::chrono::seconds& out,
                                            const std::string& path, Diagnostics& diag) {
                long long count = out.count();
                from_json(v, count, path, diag);
                out = std::chrono::seconds(count);
              },
          .from_text = [from_text = plain.from_text](
                           std::string_view text,
                           std::chrono::seconds& out) -> std::optional<std::string> {
            long long count = out.count();
            auto why = from_text(text, count);
            out = std::chrono::seconds(count);
            return why;
          },
          .to_json = [](const std::chrono::seconds& value) { return Json(value.count()); }};
}

}  // namespace metricsd::config
