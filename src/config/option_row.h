// One row per scalar configuration option: its key, type, default, MC_* variable and help,
// and how its value is read from JSON or a variable, checked and rendered. The loader, the
// effective-config printer, -help and the README table are all driven by these rows, so an
// option is declared once. Defaults are never written here: they are whatever a
// default-constructed aggregate holds (shown_default only replaces prose for the table).
//
// A row works on one field of a Root aggregate (Config, ShipperOptions, EndpointOptions ...)
// reached through a pointer-to-member chain; Mount() re-roots rows (the TLS rows serve both
// shippers and endpoints). Internal to src/config and its tests. Rows are plain values, built
// when needed (no static state); their doc strings are literals.
#pragma once

#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "relabel/relabel.h"

namespace metricsd::config {

using Json = nlohmann::json;

// Errors fail the load (exit 1); each starts with the key path it is about.
struct Diagnostics {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  void Error(const std::string& path, const std::string& what) {
    errors.push_back(path + ": " + what);
  }
};

// "an integer", "a string" ...: what a message says a value was.
std::string DescribeJson(const Json& value);
std::optional<bool> ParseBoolText(std::string_view text);
std::optional<long long> ParseIntText(std::string_view text);
// "a, b or c"
std::string JoinAlternatives(std::span<const std::string_view> names);

template <typename T>
using Check = std::function<void(const T& value, const std::string& path, Diagnostics& diag)>;

// How values of one C++ type are read, checked and written.
template <typename T>
struct Codec {
  std::string_view type;  // as the table shows it: bool, int, duration, string, regex ...
  // Reports its own errors: a map or list names the element at fault.
  std::function<void(const Json&, T&, const std::string& path, Diagnostics&)> from_json;
  // An MC_* variable's text; returns why it was refused. Null: no variable can set it.
  std::function<std::optional<std::string>(std::string_view, T&)> from_text;
  std::function<Json(const T&)> to_json;
  Check<T> check;  // what every value of this kind must satisfy (a regex compiles ...)
};

// The table-only part of a row.
struct Doc {
  std::string_view env = {};  // empty: no MC_* variable
  std::string_view help;
  // Replaces the rendered default where it depends on the host or is long ("system roots").
  std::optional<std::string_view> shown_default = std::nullopt;
};

template <typename Root>
struct OptionRow {
  std::string key;  // dotted path relative to Root, e.g. "tls.min_version"
  std::string_view type;
  Doc doc;
  bool in_table = true;  // false: covered by a summary row ("endpoints[].tls")
  // All null for a summary row that only documents an object.
  std::function<void(const Json&, Root&, const std::string& path, Diagnostics&)> read;
  std::function<std::optional<std::string>(std::string_view, Root&)> read_text;
  std::function<void(const Root&, const std::string& path, Diagnostics&)> check;
  std::function<Json(const Root&)> render;
};

// Member(&Config::server, &ServerOptions::port) reaches config.server.port, const or not.
template <typename... Members>
auto Member(Members... members) {
  return [=](auto& root) -> auto& { return (root.*....*members); };
}

template <typename Root, typename Access, typename T>
OptionRow<Root> Field(std::string key, Access access, Codec<T> codec, Doc doc,
                      std::type_identity_t<Check<T>> extra_check = {}) {
  OptionRow<Root> row{.key = std::move(key), .type = codec.type, .doc = doc};
  row.read = [access, from_json = codec.from_json](const Json& value, Root& root,
                                                   const std::string& path, Diagnostics& diag) {
    from_json(value, access(root), path, diag);
  };
  if (codec.from_text && !doc.env.empty()) {
    row.read_text = [access, from_text = codec.from_text](std::string_view text, Root& root) {
      return from_text(text, access(root));
    };
  }
  row.check = [access, check = codec.check, extra_check](const Root& root, const std::string& path,
                                                         Diagnostics& diag) {
    if (check) {
      check(access(root), path, diag);
    }
    if (extra_check) {
      extra_check(access(root), path, diag);
    }
  };
  row.render = [access, to_json = codec.to_json](const Root& root) {
    return to_json(access(root));
  };
  return row;
}

// A row that only documents an object whose keys are rows elsewhere ("endpoints[].tls").
template <typename Root>
OptionRow<Root> Summary(std::string key, std::string_view help) {
  return OptionRow<Root>{
      .key = std::move(key), .type = "object", .doc = {.help = help, .shown_default = ""}};
}

// Re-roots `rows` at `prefix` inside Outer. keep_env false drops their MC_* variables, which
// address one place only (MC_TLS_* is the shipper's TLS, not every endpoint's).
template <typename Outer, typename Inner, typename Access>
void Mount(std::vector<OptionRow<Outer>>& out, const std::vector<OptionRow<Inner>>& rows,
           std::string_view prefix, Access access, bool keep_env, bool in_table = true) {
  for (const OptionRow<Inner>& inner : rows) {
    OptionRow<Outer> row{.key = std::string(prefix) + inner.key,
                         .type = inner.type,
                         .doc = inner.doc,
                         .in_table = inner.in_table && in_table};
    if (!keep_env) {
      row.doc.env = {};
    }
    if (inner.read) {
      row.read = [access, f = inner.read](const Json& v, Outer& o, const std::string& path,
                                          Diagnostics& diag) { f(v, access(o), path, diag); };
      row.check = [access, f = inner.check](const Outer& o, const std::string& path,
                                            Diagnostics& diag) { f(access(o), path, diag); };
      row.render = [access, f = inner.render](const Outer& o) { return f(access(o)); };
    }
    if (inner.read_text && keep_env) {
      row.read_text = [access, f = inner.read_text](std::string_view text, Outer& o) {
        return f(text, access(o));
      };
    }
    out.push_back(std::move(row));
  }
}

std::string JoinKey(const std::string& base, std::string_view key);

// The value at the dotted `key` below `object`, or nullptr when absent or null (null keeps
// the default). A part of the path that is not an object is reported once, by its path.
const Json* FindAtPath(const Json& object, std::string_view key, const std::string& base,
                       Diagnostics& diag, std::vector<std::string>& reported);

template <typename Root>
void ReadRows(const std::vector<OptionRow<Root>>& rows, const Json& object, const std::string& base,
              Root& root, Diagnostics& diag) {
  std::vector<std::string> reported;
  for (const OptionRow<Root>& row : rows) {
    if (!row.read) {
      continue;
    }
    if (const Json* value = FindAtPath(object, row.key, base, diag, reported)) {
      row.read(*value, root, JoinKey(base, row.key), diag);
    }
  }
}

// `lookup` returns the variable's value, or nullopt when unset or empty.
template <typename Root, typename Lookup>
void ApplyEnvRows(const std::vector<OptionRow<Root>>& rows, const Lookup& lookup,
                  const std::string& base, Root& root, Diagnostics& diag) {
  for (const OptionRow<Root>& row : rows) {
    if (!row.read_text) {
      continue;
    }
    if (std::optional<std::string> text = lookup(std::string(row.doc.env).c_str())) {
      if (std::optional<std::string> why = row.read_text(*text, root)) {
        diag.Error(JoinKey(base, row.key), *why + " (set by " + std::string(row.doc.env) + ")");
      }
    }
  }
}

template <typename Root>
void CheckRows(const std::vector<OptionRow<Root>>& rows, const std::string& base, const Root& root,
               Diagnostics& diag) {
  for (const OptionRow<Root>& row : rows) {
    if (row.check) {
      row.check(root, JoinKey(base, row.key), diag);
    }
  }
}

// Sets `value` at the dotted `key` inside `out`, creating objects on the way; null is skipped
// (an unset optional is left out).
void SetAtPath(Json& out, std::string_view key, Json value);

template <typename Root>
Json RenderRows(const std::vector<OptionRow<Root>>& rows, const Root& root) {
  Json out = Json::object();
  for (const OptionRow<Root>& row : rows) {
    if (row.render) {
      SetAtPath(out, row.key, row.render(root));
    }
  }
  return out;
}

// Every row key and every object on the way to one ("server", "server.tls" ...), relative
// to the rows' root, with `prefix` in front.
template <typename Root>
void AddKnownKeys(const std::vector<OptionRow<Root>>& rows, std::string_view prefix,
                  std::vector<std::string>& known) {
  for (const OptionRow<Root>& row : rows) {
    std::string key = std::string(prefix) + row.key;
    for (std::size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', dot + 1)) {
      known.push_back(key.substr(0, dot));
    }
    known.push_back(key);
  }
}

// Warns about every key of `object` (and of the known objects inside it) that is not in
// `known`, innermost first, with a hint when only the case differs.
void WarnUnknownKeys(const Json& object, const std::string& base, const std::string& relative,
                     const std::vector<std::string>& known, Diagnostics& diag);

// The text the table shows for a rendered default: strings as they are, the rest as JSON.
std::string DefaultText(const Json& rendered);

// ---- Codecs ----

Codec<bool> BoolCodec();
Codec<std::string> StringCodec(std::string_view type = "string");
// Checked as an RE2 regular expression (the syntax relabel rules and Prometheus use); empty
// means no filter.
Codec<std::string> RegexCodec();
// Rendered as "<redacted>" unless empty.
Codec<std::string> SecretCodec();
// Rendered without the password of user:password@.
Codec<std::string> UrlCodec();
// Absent or null: unset; `unset_text` is rendered for it.
Codec<std::optional<std::string>> OptionalStringCodec(std::string_view unset_text);

enum class MapValues { kShown, kHeaders, kRedacted };
// An object of strings. A variable holds name=value pairs separated by commas and adds to
// the file's (Kubernetes fills it from the downward API).
Codec<std::map<std::string, std::string>> StringMapCodec(MapValues values);
Codec<std::vector<std::string>> StringListCodec();
// A list of Prometheus relabel_config objects; checked by compiling them (relabel_rules.cpp).
Codec<std::vector<RelabelRule>> RelabelRulesCodec();
Codec<std::vector<int>> IntListCodec();

std::optional<std::string> ReadDurationJson(const Json& value, std::chrono::nanoseconds& out);
std::optional<std::string> ReadDurationText(std::string_view text, std::chrono::nanoseconds& out);

// A duration string ("30s", "500ms") or integer nanoseconds.
template <typename D>
Codec<D> DurationCodec() {
  return {.type = "duration",
          .from_json =
              [](const Json& v, D& out, const std::string& path, Diagnostics& diag) {
                std::chrono::nanoseconds ns{};
                if (auto why = ReadDurationJson(v, ns)) {
                  diag.Error(path, *why);
                } else {
                  out = std::chrono::duration_cast<D>(ns);
                }
              },
          .from_text = [](std::string_view text, D& out) -> std::optional<std::string> {
            std::chrono::nanoseconds ns{};
            auto why = ReadDurationText(text, ns);
            if (!why) {
              out = std::chrono::duration_cast<D>(ns);
            }
            return why;
          },
          .to_json = [](const D& d) { return Json(FormatDuration(d)); }};
}

// Unset (absent or null) stays nullopt and is not rendered.
template <typename D>
Codec<std::optional<D>> OptionalDurationCodec() {
  Codec<D> plain = DurationCodec<D>();
  return {
      .type = plain.type,
      .from_json =
          [from_json = plain.from_json](const Json& v, std::optional<D>& out,
                                        const std::string& path, Diagnostics& diag) {
            D value{};
            std::size_t errors = diag.errors.size();
            from_json(v, value, path, diag);
            if (diag.errors.size() == errors) {
              out = value;
            }
          },
      .to_json =
          [](const std::optional<D>& d) { return d ? Json(FormatDuration(*d)) : Json(nullptr); }};
}

// Whole seconds written as an integer ("interval_seconds": 60).
Codec<std::chrono::seconds> IntegerSecondsCodec();

template <typename Int>
std::optional<std::string> IntegerFromLongLong(long long value, Int& out) {
  if (std::is_unsigned_v<Int> && value < 0) {
    return "must not be negative, got " + std::to_string(value);
  }
  if (value < static_cast<long long>(std::numeric_limits<Int>::min()) ||
      (value > 0 && static_cast<unsigned long long>(value) >
                        static_cast<unsigned long long>(std::numeric_limits<Int>::max()))) {
    return "value " + std::to_string(value) + " is out of range";
  }
  out = static_cast<Int>(value);
  return std::nullopt;
}

template <typename Int>
Codec<Int> IntegerCodec() {
  return {.type = "int",
          .from_json =
              [](const Json& v, Int& out, const std::string& path, Diagnostics& diag) {
                if (v.is_number_unsigned()) {
                  // Above LLONG_MAX only an unsigned read is exact.
                  auto value = v.get<unsigned long long>();
                  if (value > static_cast<unsigned long long>(std::numeric_limits<Int>::max())) {
                    diag.Error(path, "value " + std::to_string(value) + " is out of range");
                  } else {
                    out = static_cast<Int>(value);
                  }
                } else if (v.is_number_integer()) {
                  if (auto why = IntegerFromLongLong(v.get<long long>(), out)) {
                    diag.Error(path, *why);
                  }
                } else {
                  diag.Error(path, "expected an integer, got " + DescribeJson(v));
                }
              },
          .from_text = [](std::string_view text, Int& out) -> std::optional<std::string> {
            if (auto n = ParseIntText(text)) {
              return IntegerFromLongLong(*n, out);
            }
            return "cannot parse \"" + std::string(text) + "\" (expected an integer)";
          },
          .to_json = [](const Int& value) { return Json(value); }};
}

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
  bool alias = false;  // accepted, never rendered nor listed
};

template <typename E>
std::optional<E> ParseEnum(std::span<const EnumName<E>> names, std::string_view text) {
  for (const EnumName<E>& n : names) {
    if (n.name == text) {
      return n.value;
    }
  }
  return std::nullopt;
}

template <typename E>
std::string_view EnumNameOf(std::span<const EnumName<E>> names, E value) {
  for (const EnumName<E>& n : names) {
    if (n.value == value && !n.alias) {
      return n.name;
    }
  }
  return names.front().name;
}

// One of `names`; refused as "unknown <what> "x" (expected a, b or c)".
template <typename E>
Codec<E> EnumCodec(std::span<const EnumName<E>> names, std::string_view what,
                   std::string_view type = "string") {
  auto parse = [names, what](std::string_view text, E& out) -> std::optional<std::string> {
    if (std::optional<E> value = ParseEnum(names, text)) {
      out = *value;
      return std::nullopt;
    }
    std::vector<std::string_view> listed;
    for (const EnumName<E>& n : names) {
      if (!n.alias) {
        listed.push_back(n.name);
      }
    }
    return "unknown " + std::string(what) + " \"" + std::string(text) + "\" (expected " +
           JoinAlternatives(listed) + ")";
  };
  return {.type = type,
          .from_json =
              [parse](const Json& v, E& out, const std::string& path, Diagnostics& diag) {
                if (!v.is_string()) {
                  diag.Error(path, "expected a string, got " + DescribeJson(v));
                } else if (auto why = parse(v.get<std::string>(), out)) {
                  diag.Error(path, *why);
                }
              },
          .from_text = parse,
          .to_json = [names](const E& value) { return Json(EnumNameOf(names, value)); }};
}

// Unset (absent or null) stays nullopt and renders as null.
template <typename E>
Codec<std::optional<E>> OptionalEnumCodec(std::span<const EnumName<E>> names,
                                          std::string_view what) {
  Codec<E> plain = EnumCodec(names, what);
  return {.type = plain.type,
          .from_json =
              [from_json = plain.from_json](const Json& v, std::optional<E>& out,
                                            const std::string& path, Diagnostics& diag) {
                E value{};
                std::size_t errors = diag.errors.size();
                from_json(v, value, path, diag);
                if (diag.errors.size() == errors) {
                  out = value;
                }
              },
          .to_json =
              [names](const std::optional<E>& value) {
                return value ? Json(EnumNameOf(names, *value)) : Json(nullptr);
              }};
}

// ---- Checks ----

template <typename Int>
Check<Int> AtLeast(Int min, std::string_view note = {}) {
  return [min, note](const Int& value, const std::string& path, Diagnostics& diag) {
    if (value < min) {
      diag.Error(path, "must be at least " + std::to_string(min) +
                           (note.empty() ? "" : " " + std::string(note)));
    }
  };
}

template <typename Int>
Check<Int> Between(Int min, Int max) {
  return [min, max](const Int& value, const std::string& path, Diagnostics& diag) {
    if (value < min || value > max) {
      diag.Error(path, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                           ", got " + std::to_string(value));
    }
  };
}

template <typename D>
Check<D> PositiveDuration() {
  return [](const D& value, const std::string& path, Diagnostics& diag) {
    if (value.count() <= 0) {
      diag.Error(path, "must be positive");
    }
  };
}

template <typename D>
Check<D> DurationBetween(D min, D max) {
  return [min, max](const D& value, const std::string& path, Diagnostics& diag) {
    if (value < min || value > max) {
      diag.Error(path, "must be between " + FormatDuration(min) + " and " + FormatDuration(max));
    }
  };
}

// Applies `check` to a set optional only.
template <typename T>
Check<std::optional<T>> IfSet(Check<T> check) {
  return [check](const std::optional<T>& value, const std::string& path, Diagnostics& diag) {
    if (value) {
      check(*value, path, diag);
    }
  };
}

}  // namespace metricsd::config
