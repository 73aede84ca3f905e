#include "config/config_loader.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "core/duration.h"
#include "core/metric.h"
#include "core/redact.h"

namespace metricsd::config {

const std::string_view kEmbeddedDefaultConfig = R"({
  "server": {"host": "0.0.0.0", "port": 8080},
  "collector": {
    "interval_seconds": 60,
    "enable_cpu": true,
    "enable_memory": true,
    "enable_disk": true,
    "enable_network": true,
    "enable_gpu": false
  },
  "endpoints": []
}
)";

namespace {

using json = nlohmann::json;

struct Diagnostics {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  void Error(const std::string& path, const std::string& what) {
    errors.push_back(path + ": " + what);
  }
};

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string TypeOf(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number with a fraction";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<TlsVersion> ParseTlsVersion(std::string_view text) {
  if (text == "TLS1.0" || text == "TLS10" || text == "1.0") {
    return TlsVersion::kTls10;
  }
  if (text == "TLS1.1" || text == "TLS11" || text == "1.1") {
    return TlsVersion::kTls11;
  }
  if (text == "TLS1.2" || text == "TLS12" || text == "1.2") {
    return TlsVersion::kTls12;
  }
  if (text == "TLS1.3" || text == "TLS13" || text == "1.3") {
    return TlsVersion::kTls13;
  }
  return std::nullopt;
}

// The key path of the value being parsed ("server.port", "endpoints[0].url"), kept up to date
// by the parser callback: nlohmann reports some errors (a number beyond double: 1e400) with
// neither key nor position, and the message must still name the key.
class ParsePath {
 public:
  bool Track(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        levels_.push_back({});
        break;
      case json::parse_event_t::array_start:
        levels_.push_back({.array = true});
        break;
      case json::parse_event_t::key:
        if (!levels_.empty() && parsed.is_string()) {
          levels_.back().key = parsed.get<std::string>();
        }
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!levels_.empty()) {
          levels_.pop_back();
        }
        NextElement();
        break;
      case json::parse_event_t::value:
        NextElement();
        break;
    }
    return true;  // keep every value
  }

  std::string str() const {
    std::string path;
    for (const Level& level : levels_) {
      if (level.array) {
        path += "[" + std::to_string(level.index) + "]";
      } else if (!level.key.empty()) {
        path += (path.empty() ? "" : ".") + level.key;
      }
    }
    return path;
  }

 private:
  struct Level {
    bool array = false;
    std::size_t index = 0;  // of the array element being parsed
    std::string key;        // of the object member being parsed
  };
  void NextElement() {
    if (!levels_.empty() && levels_.back().array) {
      ++levels_.back().index;
    }
  }
  std::vector<Level> levels_;
};

// A JSON object being read: remembers which keys were used so the rest can be reported.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path, Diagnostics& diag)
      : object_(object), path_(std::move(path)), diag_(diag) {}
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  ~ObjectReader() {
    for (const auto& [key, value] : object_.items()) {
      if (used_.count(key) != 0) {
        continue;
      }
      std::string hint;
      for (const std::string& known : known_) {
        if (Lower(known) == Lower(key)) {
          hint = " (did you mean \"" + known + "\"? keys are case-sensitive)";
        }
      }
      diag_.warnings.push_back("unknown configuration key \"" + Join(path_, key) + "\" ignored" +
                               hint);
    }
  }

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const { return Join(path_, key); }

  // Returns the value, or nullptr when absent or null (null keeps the default).
  const json* Find(std::string_view key) {
    known_.emplace(key);
    auto it = object_.find(std::string(key));
    if (it == object_.end()) {
      return nullptr;
    }
    used_.emplace(key);
    if (it->is_null()) {
      return nullptr;
    }
    return &*it;
  }

  bool Has(std::string_view key) const { return object_.contains(std::string(key)); }

  void Bool(std::string_view key, bool& out) {
    if (const json* v = Find(key)) {
      if (v->is_boolean()) {
        out = v->get<bool>();
      } else {
        diag_.Error(PathOf(key), "expected true or false, got " + TypeOf(*v));
      }
    }
  }

  template <typename Int>
  void Integer(std::string_view key, Int& out) {
    if (const json* v = Find(key)) {
      if (v->is_number_unsigned()) {
        // Above LLONG_MAX only an unsigned read is exact.
        auto value = v->get<unsigned long long>();
        if (value > static_cast<unsigned long long>(std::numeric_limits<Int>::max())) {
          diag_.Error(PathOf(key), "value " + std::to_string(value) + " is out of range");
        } else {
          out = static_cast<Int>(value);
        }
      } else if (v->is_number_integer()) {
        auto value = v->get<long long>();
        if (value < static_cast<long long>(std::numeric_limits<Int>::min()) ||
            (value > 0 && static_cast<unsigned long long>(value) >
                              static_cast<unsigned long long>(std::numeric_limits<Int>::max()))) {
          diag_.Error(PathOf(key), "value " + std::to_string(value) + " is out of range");
        } else {
          out = static_cast<Int>(value);
        }
      } else {
        diag_.Error(PathOf(key), "expected an integer, got " + TypeOf(*v));
      }
    }
  }

  void String(std::string_view key, std::string& out) {
    if (const json* v = Find(key)) {
      if (v->is_string()) {
        out = v->get<std::string>();
      } else {
        diag_.Error(PathOf(key), "expected a string, got " + TypeOf(*v));
      }
    }
  }

  // A duration string ("30s", "500ms") or an integer number of nanoseconds.
  template <typename Duration>
  void DurationValue(std::string_view key, Duration& out) {
    std::optional<std::chrono::nanoseconds> parsed;
    if (!ReadDuration(key, parsed)) {
      return;
    }
    if (parsed) {
      out = std::chrono::duration_cast<Duration>(*parsed);
    }
  }
  template <typename Duration>
  void DurationValue(std::string_view key, std::optional<Duration>& out) {
    std::optional<std::chrono::nanoseconds> parsed;
    if (ReadDuration(key, parsed) && parsed) {
      out = std::chrono::duration_cast<Duration>(*parsed);
    }
  }

  void StringMap(std::string_view key, std::map<std::string, std::string>& out) {
    if (const json* v = Find(key)) {
      if (!v->is_object()) {
        diag_.Error(PathOf(key), "expected an object of strings, got " + TypeOf(*v));
        return;
      }
      out.clear();
      for (const auto& [name, value] : v->items()) {
        if (!value.is_string()) {
          diag_.Error(PathOf(key) + "." + name, "expected a string, got " + TypeOf(value));
          continue;
        }
        out[name] = value.get<std::string>();
      }
    }
  }

  // An array whose items `read` converts one by one; an item it refuses is reported as not
  // being `what`.
  template <typename T, typename Read>
  void List(std::string_view key, std::vector<T>& out, std::string_view what, Read read) {
    if (const json* v = Find(key)) {
      if (!v->is_array()) {
        diag_.Error(PathOf(key), "expected an array, got " + TypeOf(*v));
        return;
      }
      out.clear();
      for (std::size_t i = 0; i < v->size(); ++i) {
        const json& item = (*v)[i];
        if (std::optional<T> value = read(item)) {
          out.push_back(std::move(*value));
        } else {
          diag_.Error(PathOf(key) + "[" + std::to_string(i) + "]",
                      "expected " + std::string(what) + ", got " + TypeOf(item));
        }
      }
    }
  }

  void StringList(std::string_view key, std::vector<std::string>& out) {
    List(key, out, "a string", [](const json& item) -> std::optional<std::string> {
      return item.is_string() ? std::optional(item.get<std::string>()) : std::nullopt;
    });
  }

  void IntegerList(std::string_view key, std::vector<int>& out) {
    List(key, out, "an integer", [](const json& item) -> std::optional<int> {
      if (!item.is_number_integer() || item.get<long long>() < std::numeric_limits<int>::min() ||
          item.get<long long>() > std::numeric_limits<int>::max()) {
        return std::nullopt;
      }
      return static_cast<int>(item.get<long long>());
    });
  }

  // Absent or null: stays unset; a string, even empty, is kept.
  void String(std::string_view key, std::optional<std::string>& out) {
    if (Find(key) != nullptr) {
      String(key, out.emplace());
    }
  }

  void Tls(std::string_view key, TlsVersion& out) {
    if (const json* v = Find(key)) {
      if (!v->is_string()) {
        diag_.Error(PathOf(key), "expected a string such as \"TLS1.2\", got " + TypeOf(*v));
        return;
      }
      auto parsed = ParseTlsVersion(v->get<std::string>());
      if (!parsed) {
        diag_.Error(PathOf(key), "unknown TLS version \"" + v->get<std::string>() +
                                     "\" (expected TLS1.0, TLS1.1, TLS1.2 or TLS1.3)");
      } else {
        out = *parsed;
      }
    }
  }

  // Calls fn(ObjectReader&) for a nested object.
  template <typename Fn>
  void Object(std::string_view key, Fn&& fn) {
    if (const json* v = Find(key)) {
      if (!v->is_object()) {
        diag_.Error(PathOf(key), "expected an object, got " + TypeOf(*v));
        return;
      }
      ObjectReader nested(*v, PathOf(key), diag_);
      fn(nested);
    }
  }

  Diagnostics& diag() { return diag_; }

 private:
  bool ReadDuration(std::string_view key, std::optional<std::chrono::nanoseconds>& out) {
    const json* v = Find(key);
    if (v == nullptr) {
      return true;
    }
    if (v->is_number_unsigned() &&
        v->get<unsigned long long>() >
            static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
      diag_.Error(PathOf(key), "value " + v->dump() + " is out of range");
      return false;
    }
    if (v->is_number_integer()) {
      long long ns = v->get<long long>();
      if (ns < 0) {
        diag_.Error(PathOf(key), "must not be negative");
        return false;
      }
      out = std::chrono::nanoseconds(ns);
      return true;
    }
    if (v->is_string()) {
      auto parsed = ParseDuration(v->get<std::string>());
      if (!parsed) {
        diag_.Error(PathOf(key), "invalid duration \"" + v->get<std::string>() +
                                     "\" (use e.g. \"30s\", \"500ms\", \"1m30s\", or integer "
                                     "nanoseconds)");
        return false;
      }
      out = *parsed;
      return true;
    }
    diag_.Error(PathOf(key),
                "expected a duration string or integer nanoseconds, got " + TypeOf(*v));
    return false;
  }

  const json& object_;
  std::string path_;
  Diagnostics& diag_;
  std::set<std::string, std::less<>> used_;
  std::set<std::string, std::less<>> known_;
};

void ReadTls(ObjectReader& r, TlsOptions& tls) {
  r.Bool("enabled", tls.enabled);
  r.String("ca_file", tls.ca_file);
  r.String("cert_file", tls.cert_file);
  r.String("key_file", tls.key_file);
  r.String("server_name", tls.server_name);
  r.Bool("insecure_skip_verify", tls.insecure_skip_verify);
  r.Tls("min_version", tls.min_version);
  r.Tls("max_version", tls.max_version);
  r.StringList("cipher_suites", tls.cipher_suites);
  r.Bool("session_tickets", tls.session_tickets);
}

void ReadAuth(ObjectReader& r, HttpAuth& auth) {
  r.Object("basic_auth", [&](ObjectReader& b) {
    b.String("username", auth.basic_auth.username);
    b.String("password", auth.basic_auth.password);
    b.String("password_file", auth.basic_auth.password_file);
  });
  r.String("bearer_token", auth.bearer_token);
  r.String("bearer_token_file", auth.bearer_token_file);
  r.StringMap("headers", auth.headers);
}

std::optional<ShipperType> ParseShipperType(std::string_view text) {
  if (text == "prometheus_remote_write") {
    return ShipperType::kPrometheusRemoteWrite;
  }
  if (text == "http_json") {
    return ShipperType::kHttpJson;
  }
  if (text == "influx_line") {
    return ShipperType::kInfluxLine;
  }
  return std::nullopt;
}

// `type_text` receives the raw type so that validation can report a missing one.
void ReadShipper(ObjectReader& r, ShipperOptions& s, std::string& type_text) {
  r.String("type", type_text);
  r.String("endpoint", s.endpoint);
  r.DurationValue("timeout", s.timeout);
  r.Object("tls", [&](ObjectReader& t) { ReadTls(t, s.tls); });
  ReadAuth(r, s.auth);
  r.Integer("max_samples_per_request", s.max_samples_per_request);
  r.Bool("gzip", s.gzip);
  r.Object("queue", [&](ObjectReader& q) {
    q.Integer("max_disk_bytes", s.queue.max_disk_bytes);
    q.Integer("max_memory_samples", s.queue.max_memory_samples);
    q.DurationValue("min_backoff", s.queue.min_backoff);
    q.DurationValue("max_backoff", s.queue.max_backoff);
    q.Bool("retry_on_429", s.queue.retry_on_429);
    q.DurationValue("max_retry_after", s.queue.max_retry_after);
    q.IntegerList("hold_on_status", s.queue.hold_on_status);
    q.Bool("fsync", s.queue.fsync);
    q.DurationValue("fsync_interval", s.queue.fsync_interval);
  });
}

std::optional<ScrapeFormat> ParseScrapeFormat(std::string_view text) {
  if (text == "auto" || text.empty()) {
    return ScrapeFormat::kAuto;
  }
  if (text == "prometheus" || text == "text") {
    return ScrapeFormat::kPrometheusText;
  }
  if (text == "openmetrics") {
    return ScrapeFormat::kOpenMetrics;
  }
  if (text == "json") {
    return ScrapeFormat::kJson;
  }
  return std::nullopt;
}

struct RawShipper {
  ShipperOptions options;
  std::string type_text;
  std::string path;
  std::string type_from_env;  // the variable that set type_text, for error messages
};

struct RawConfig {
  Config config;
  std::vector<RawShipper> shippers;
  std::vector<std::string> endpoint_formats;
  std::optional<std::string> server_client_auth_text;  // server.tls.client_auth_type
  std::string log_level_text = "info";
  std::string log_format_text = "text";
  std::string log_level_from_env;
  std::string log_format_from_env;
};

std::string FromEnv(const std::string& variable) {
  return variable.empty() ? "" : " (set by " + variable + ")";
}

void ReadRoot(const json& root, RawConfig& raw, Diagnostics& diag) {
  ObjectReader r(root, "", diag);
  Config& c = raw.config;
  r.Object("server", [&](ObjectReader& s) {
    s.String("host", c.server.host);
    s.Integer("port", c.server.port);
    s.DurationValue("health_degraded_after", c.server.health_degraded_after);
    s.Object("tls", [&](ObjectReader& t) {
      ServerTlsOptions& tls = c.server.tls;
      t.String("cert_file", tls.cert_file);
      t.String("key_file", tls.key_file);
      t.String("client_ca_file", tls.client_ca_file);
      std::optional<std::string> client_auth;
      t.String("client_auth_type", client_auth);
      if (client_auth) {
        raw.server_client_auth_text = *client_auth;
      }
      t.Tls("min_version", tls.min_version);
    });
    s.StringMap("basic_auth_users", c.server.basic_auth_users);
    s.Bool("probes_skip_auth", c.server.probes_skip_auth);
  });
  r.Object("collector", [&](ObjectReader& s) {
    long long interval = c.collector.interval.count();
    s.Integer("interval_seconds", interval);
    c.collector.interval = std::chrono::seconds(interval);
    s.Bool("enable_cpu", c.collector.enable_cpu);
    s.Bool("enable_memory", c.collector.enable_memory);
    s.Bool("enable_disk", c.collector.enable_disk);
    s.Bool("enable_network", c.collector.enable_network);
    s.Bool("enable_gpu", c.collector.enable_gpu);
    s.Bool("enable_host", c.collector.enable_host);
    s.Bool("enable_pressure", c.collector.enable_pressure);
    s.Object("filesystems", [&](ObjectReader& f) {
      f.String("mountpoint_include", c.collector.filesystems.mountpoint_include);
      f.String("mountpoint_exclude", c.collector.filesystems.mountpoint_exclude);
      f.String("fstype_include", c.collector.filesystems.fstype_include);
      f.String("fstype_exclude", c.collector.filesystems.fstype_exclude);
      f.DurationValue("statfs_timeout", c.collector.filesystems.statfs_timeout);
    });
    s.Object("disk_io", [&](ObjectReader& d) {
      d.String("device_include", c.collector.disk_io.device_include);
      d.String("device_exclude", c.collector.disk_io.device_exclude);
    });
    s.Object("network", [&](ObjectReader& n) {
      n.String("interface_include", c.collector.network.interface_include);
      n.String("interface_exclude", c.collector.network.interface_exclude);
    });
    s.Object("gpu",
             [&](ObjectReader& g) { g.String("nvml_library", c.collector.gpu.nvml_library); });
  });
  r.Object("shipper", [&](ObjectReader& s) {
    RawShipper shipper;
    shipper.path = "shipper";
    ReadShipper(s, shipper.options, shipper.type_text);
    // The seed's single shipper; an empty block (no type, no endpoint) means none.
    if (!shipper.type_text.empty() || !shipper.options.endpoint.empty()) {
      raw.shippers.push_back(std::move(shipper));
    }
  });
  if (const json* list = r.Find("shippers")) {
    if (!list->is_array()) {
      diag.Error("shippers", "expected an array of shipper objects, got " + TypeOf(*list));
    } else {
      for (std::size_t i = 0; i < list->size(); ++i) {
        std::string path = "shippers[" + std::to_string(i) + "]";
        if (!(*list)[i].is_object()) {
          diag.Error(path, "expected an object, got " + TypeOf((*list)[i]));
          continue;
        }
        ObjectReader s((*list)[i], path, diag);
        RawShipper shipper;
        shipper.path = path;
        shipper.options.name.clear();
        s.String("name", shipper.options.name);
        ReadShipper(s, shipper.options, shipper.type_text);
        raw.shippers.push_back(std::move(shipper));
      }
    }
  }
  if (const json* list = r.Find("endpoints")) {
    if (!list->is_array()) {
      diag.Error("endpoints", "expected an array of endpoint objects, got " + TypeOf(*list));
    } else {
      for (std::size_t i = 0; i < list->size(); ++i) {
        std::string path = "endpoints[" + std::to_string(i) + "]";
        if (!(*list)[i].is_object()) {
          diag.Error(path, "expected an object, got " + TypeOf((*list)[i]));
          continue;
        }
        ObjectReader e((*list)[i], path, diag);
        EndpointOptions endpoint;
        std::string format = "auto";
        e.String("name", endpoint.name);
        e.String("url", endpoint.url);
        e.String("format", format);
        e.String("metric_prefix", endpoint.metric_prefix);
        e.StringMap("labels", endpoint.labels);
        e.DurationValue("timeout", endpoint.timeout);
        e.DurationValue("interval", endpoint.interval);
        e.Integer("max_body_bytes", endpoint.max_body_bytes);
        e.Object("tls", [&](ObjectReader& t) { ReadTls(t, endpoint.tls); });
        ReadAuth(e, endpoint.auth);
        c.endpoints.push_back(std::move(endpoint));
        raw.endpoint_formats.push_back(format);
      }
    }
  }
  r.StringMap("global_labels", c.global_labels);
  r.String("instance", c.instance);
  r.Bool("hostname_label", c.hostname_label);
  r.String("data_dir", c.data_dir);
  r.String("log_level", raw.log_level_text);
  r.String("log_format", raw.log_format_text);
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

void ApplyEnvironment(RawConfig& raw, const EnvLookup& env, Diagnostics& diag) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    const char* value = env(name);
    if (value == nullptr || *value == '\0') {
      return std::nullopt;  // empty means unset, as documented
    }
    return std::string(value);
  };
  auto bad = [&](const char* name, const std::string& value, const std::string& expected) {
    diag.errors.push_back(std::string(name) + ": cannot parse \"" + value + "\" (" + expected +
                          ")");
  };
  Config& c = raw.config;
  if (auto v = get("MC_SERVER_HOST")) {
    c.server.host = *v;
  }
  if (auto v = get("MC_SERVER_PORT")) {
    if (auto n = ParseIntText(*v)) {
      c.server.port = static_cast<int>(std::clamp<long long>(*n, -1, 1 << 20));
    } else {
      bad("MC_SERVER_PORT", *v, "expected an integer port");
    }
  }
  if (auto v = get("MC_SERVER_TLS_CERT_FILE")) {
    c.server.tls.cert_file = *v;
  }
  if (auto v = get("MC_SERVER_TLS_KEY_FILE")) {
    c.server.tls.key_file = *v;
  }
  if (auto v = get("MC_SERVER_TLS_CLIENT_CA_FILE")) {
    c.server.tls.client_ca_file = *v;
  }
  if (auto v = get("MC_COLLECTOR_INTERVAL")) {
    if (auto n = ParseIntText(*v)) {
      c.collector.interval = std::chrono::seconds(*n);
    } else {
      bad("MC_COLLECTOR_INTERVAL", *v, "expected an integer number of seconds");
    }
  }
  if (auto v = get("MC_LOG_LEVEL")) {
    raw.log_level_text = *v;
    raw.log_level_from_env = "MC_LOG_LEVEL";
  }
  if (auto v = get("MC_LOG_FORMAT")) {
    raw.log_format_text = *v;
    raw.log_format_from_env = "MC_LOG_FORMAT";
  }
  if (auto v = get("MC_DATA_DIR")) {
    c.data_dir = *v;
  }
  if (auto v = get("MC_INSTANCE")) {
    c.instance = *v;
  }
  if (auto v = get("MC_GLOBAL_LABELS")) {
    // "node=worker-1,cluster=eu1": Kubernetes can fill it from the downward API.
    std::string_view rest = *v;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view pair = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        bad("MC_GLOBAL_LABELS", *v, "expected name=value pairs separated by commas");
        break;
      }
      c.global_labels[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    }
  }

  // The seed's shipper variables address the single "shipper" block. They create it when
  // the file has none; with only a "shippers" list they apply to its sole entry.
  static constexpr const char* kShipperVars[] = {
      "MC_SHIPPER_TYPE",    "MC_SHIPPER_ENDPOINT",        "MC_SHIPPER_TIMEOUT",
      "MC_TLS_ENABLED",     "MC_TLS_CERT_FILE",           "MC_TLS_KEY_FILE",
      "MC_TLS_CA_FILE",     "MC_TLS_SERVER_NAME",         "MC_TLS_MIN_VERSION",
      "MC_TLS_MAX_VERSION", "MC_TLS_INSECURE_SKIP_VERIFY"};
  const char* first_set = nullptr;
  for (const char* name : kShipperVars) {
    if (get(name)) {
      first_set = name;
      break;
    }
  }
  if (first_set == nullptr) {
    return;
  }
  RawShipper* target = nullptr;
  for (RawShipper& s : raw.shippers) {
    if (s.path == "shipper") {
      target = &s;
    }
  }
  if (target == nullptr && raw.shippers.size() == 1) {
    target = &raw.shippers.front();
  }
  if (target == nullptr && !raw.shippers.empty()) {
    diag.errors.push_back(std::string(first_set) +
                          ": several shippers are configured; set this in the file instead");
    return;
  }
  if (target == nullptr) {
    raw.shippers.push_back(RawShipper{.options = {}, .type_text = {}, .path = "shipper"});
    target = &raw.shippers.back();
  }
  ShipperOptions& s = target->options;
  if (auto v = get("MC_SHIPPER_TYPE")) {
    target->type_text = *v;
    target->type_from_env = "MC_SHIPPER_TYPE";
  }
  if (auto v = get("MC_SHIPPER_ENDPOINT")) {
    s.endpoint = *v;
  }
  if (auto v = get("MC_SHIPPER_TIMEOUT")) {
    std::optional<std::chrono::nanoseconds> d = ParseDuration(*v);
    if (!d) {
      if (auto n = ParseIntText(*v); n && *n >= 0) {
        d = std::chrono::nanoseconds(*n);
      }
    }
    if (d) {
      s.timeout = std::chrono::duration_cast<milliseconds>(*d);
    } else {
      bad("MC_SHIPPER_TIMEOUT", *v, "expected a duration such as 30s");
    }
  }
  auto set_bool = [&](const char* name, bool& out) {
    if (auto v = get(name)) {
      if (auto b = ParseBoolText(*v)) {
        out = *b;
      } else {
        bad(name, *v, "expected true or false");
      }
    }
  };
  auto set_version = [&](const char* name, TlsVersion& out) {
    if (auto v = get(name)) {
      if (auto t = ParseTlsVersion(*v)) {
        out = *t;
      } else {
        bad(name, *v, "expected TLS1.0, TLS1.1, TLS1.2 or TLS1.3");
      }
    }
  };
  set_bool("MC_TLS_ENABLED", s.tls.enabled);
  if (auto v = get("MC_TLS_CERT_FILE")) {
    s.tls.cert_file = *v;
  }
  if (auto v = get("MC_TLS_KEY_FILE")) {
    s.tls.key_file = *v;
  }
  if (auto v = get("MC_TLS_CA_FILE")) {
    s.tls.ca_file = *v;
  }
  if (auto v = get("MC_TLS_SERVER_NAME")) {
    s.tls.server_name = *v;
  }
  set_version("MC_TLS_MIN_VERSION", s.tls.min_version);
  set_version("MC_TLS_MAX_VERSION", s.tls.max_version);
  set_bool("MC_TLS_INSECURE_SKIP_VERIFY", s.tls.insecure_skip_verify);
}

bool ValidUrl(std::string_view url, std::string& why) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    why = "is not a URL (expected http://host[:port]/path or https://...)";
    return false;
  }
  std::string scheme = Lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    why = "unsupported scheme \"" + scheme + "\" (expected http or https)";
    return false;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "has an unterminated IPv6 address";
      return false;
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        why = "has garbage after the IPv6 address";
        return false;
      }
      port = authority.substr(close + 2);
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) {
    why = "has no host";
    return false;
  }
  for (char c : url) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      why = "contains whitespace or control characters";
      return false;
    }
  }
  if (!port.empty() || authority.back() == ':') {
    auto n = ParseIntText(port);
    if (!n || *n < 1 || *n > 65535) {
      why = "has an invalid port \"" + std::string(port) + "\"";
      return false;
    }
  }
  return true;
}

bool Readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

void ValidateRegex(const std::string& path, const std::string& pattern, Diagnostics& diag) {
  if (pattern.empty()) {
    return;
  }
  try {
    std::regex compiled(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    diag.Error(path, "invalid regular expression: " + std::string(e.what()));
  }
}

void ValidateTls(const std::string& path, const TlsOptions& tls, Diagnostics& diag) {
  auto file = [&](const char* key, const std::string& value) {
    if (!value.empty() && !Readable(value)) {
      diag.Error(path + "." + key, "cannot read \"" + value + "\"");
    }
  };
  file("ca_file", tls.ca_file);
  file("cert_file", tls.cert_file);
  file("key_file", tls.key_file);
  if (!tls.cert_file.empty() && tls.key_file.empty()) {
    diag.Error(path + ".key_file", "is required when cert_file is set");
  }
  if (tls.cert_file.empty() && !tls.key_file.empty()) {
    diag.Error(path + ".cert_file", "is required when key_file is set");
  }
  if (tls.min_version > tls.max_version) {
    diag.Error(path + ".min_version", std::string(TlsVersionName(tls.min_version)) +
                                          " is higher than max_version " +
                                          std::string(TlsVersionName(tls.max_version)));
  }
  for (std::size_t i = 0; i < tls.cipher_suites.size(); ++i) {
    if (tls.cipher_suites[i].empty()) {
      diag.Error(path + ".cipher_suites[" + std::to_string(i) + "]", "is empty");
    }
  }
}

void ValidateAuth(const std::string& path, const HttpAuth& auth, Diagnostics& diag) {
  const BasicAuth& b = auth.basic_auth;
  if (!b.password.empty() && !b.password_file.empty()) {
    diag.Error(path + ".basic_auth", "set password or password_file, not both");
  }
  if ((!b.password.empty() || !b.password_file.empty()) && b.username.empty()) {
    diag.Error(path + ".basic_auth.username", "is required with a password");
  }
  if (!b.password_file.empty() && !Readable(b.password_file)) {
    diag.Error(path + ".basic_auth.password_file", "cannot read \"" + b.password_file + "\"");
  }
  if (!auth.bearer_token.empty() && !auth.bearer_token_file.empty()) {
    diag.Error(path, "set bearer_token or bearer_token_file, not both");
  }
  if (!auth.bearer_token_file.empty() && !Readable(auth.bearer_token_file)) {
    diag.Error(path + ".bearer_token_file", "cannot read \"" + auth.bearer_token_file + "\"");
  }
  if ((!b.username.empty()) && (!auth.bearer_token.empty() || !auth.bearer_token_file.empty())) {
    diag.Error(path, "basic_auth and a bearer token cannot be used together");
  }
  for (const auto& [name, value] : auth.headers) {
    bool valid = !name.empty();
    for (char c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
        valid = false;
      }
    }
    if (!valid) {
      diag.Error(path + ".headers." + name, "is not a valid header name");
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
      diag.Error(path + ".headers." + name, "value must not contain line breaks");
    }
  }
}

// tls.enabled says the operator expects encryption; over http:// the secrets would still go
// out in clear (the factory only warns that TLS is unused), so that combination is refused.
void ValidateTransport(const std::string& url_key, const std::string& url, const TlsOptions& tls,
                       const HttpAuth& auth, Diagnostics& diag) {
  if (!tls.enabled || Lower(url.substr(0, 7)) != "http://") {
    return;
  }
  const BasicAuth& b = auth.basic_auth;
  bool credentials = !b.username.empty() || !b.password.empty() || !b.password_file.empty() ||
                     !auth.bearer_token.empty() || !auth.bearer_token_file.empty() ||
                     !UrlUserInfo(url).empty();
  for (const auto& [name, value] : auth.headers) {
    credentials = credentials || !IsNonSecretHeader(name);
  }
  if (credentials) {
    diag.Error(url_key,
               "is plain http:// but tls.enabled is true and credentials or secret headers are "
               "configured: they would be sent unencrypted; use https://");
  }
}

bool SafeName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return name != "." && name != "..";
}

std::optional<ClientAuth> ParseClientAuth(std::string_view text) {
  for (ClientAuth auth : {ClientAuth::kNoClientCert, ClientAuth::kVerifyClientCertIfGiven,
                          ClientAuth::kRequireAndVerifyClientCert}) {
    if (text == ClientAuthName(auth)) {
      return auth;
    }
  }
  return std::nullopt;
}

// "$2y$10$" + 53 characters of bcrypt's base64 (22 of salt, 31 of hash).
bool IsBcryptHash(std::string_view hash) {
  constexpr std::string_view kAlphabet =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') {
    return false;
  }
  if (!std::isdigit(static_cast<unsigned char>(hash[4])) ||
      !std::isdigit(static_cast<unsigned char>(hash[5]))) {
    return false;
  }
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  return cost >= 4 && cost <= 31 &&
         hash.substr(7).find_first_not_of(kAlphabet) == std::string::npos;
}

void ValidateServerSecurity(RawConfig& raw, Diagnostics& diag) {
  ServerOptions& server = raw.config.server;
  ServerTlsOptions& tls = server.tls;
  if (raw.server_client_auth_text) {
    if (auto auth = ParseClientAuth(*raw.server_client_auth_text)) {
      tls.client_auth_type = auth;
    } else {
      diag.Error("server.tls.client_auth_type",
                 "unknown value \"" + *raw.server_client_auth_text +
                     "\" (expected NoClientCert, VerifyClientCertIfGiven or "
                     "RequireAndVerifyClientCert)");
    }
  }
  auto file = [&](const char* key, const std::string& value) {
    if (!value.empty() && !Readable(value)) {
      diag.Error(std::string("server.tls.") + key, "cannot read \"" + value + "\"");
    }
  };
  file("cert_file", tls.cert_file);
  file("key_file", tls.key_file);
  file("client_ca_file", tls.client_ca_file);
  if (!tls.cert_file.empty() && tls.key_file.empty()) {
    diag.Error("server.tls.key_file", "is required when server.tls.cert_file is set");
  }
  if (tls.cert_file.empty() && !tls.key_file.empty()) {
    diag.Error("server.tls.cert_file", "is required when server.tls.key_file is set");
  }
  if (!tls.enabled() && (!tls.client_ca_file.empty() || tls.client_auth_type)) {
    diag.Error("server.tls.cert_file",
               "is required for client certificates (server.tls.client_ca_file, "
               "client_auth_type): mTLS needs TLS");
  }
  if (tls.client_ca_file.empty() && tls.client_auth_type &&
      *tls.client_auth_type != ClientAuth::kNoClientCert) {
    diag.Error("server.tls.client_ca_file", "is required when server.tls.client_auth_type is " +
                                                std::string(ClientAuthName(*tls.client_auth_type)));
  }
  for (const auto& [user, hash] : server.basic_auth_users) {
    if (user.empty() || user.find(':') != std::string::npos) {
      diag.Error("server.basic_auth_users",
                 "user name \"" + user + "\" must be non-empty and contain no ':'");
    }
    if (!IsBcryptHash(hash)) {
      // The value is not echoed: it may be a plaintext password pasted by mistake.
      diag.Error("server.basic_auth_users." + user,
                 "must be a bcrypt hash ($2y$10$ followed by 53 characters), not a password; "
                 "make one with `htpasswd -nbBC 10 USER PASSWORD` or Python's "
                 "crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH))");
    }
  }
  if (server.probes_skip_auth && server.basic_auth_users.empty() &&
      tls.effective_client_auth() == ClientAuth::kNoClientCert) {
    diag.warnings.push_back(
        "server.probes_skip_auth is set, but there is no basic auth or client certificate "
        "requirement to skip");
  }
  if (!server.basic_auth_users.empty() && !tls.enabled()) {
    diag.warnings.push_back(
        "server.basic_auth_users is set without server.tls: passwords cross the network in "
        "clear text");
  }
}

void Validate(RawConfig& raw, Diagnostics& diag) {
  Config& c = raw.config;
  if (c.server.port < 1 || c.server.port > 65535) {
    diag.Error("server.port", "must be between 1 and 65535, got " + std::to_string(c.server.port));
  }
  if (c.server.health_degraded_after.count() <= 0) {
    diag.Error("server.health_degraded_after", "must be positive");
  }
  ValidateServerSecurity(raw, diag);
  if (c.collector.interval.count() < 1 || c.collector.interval.count() > 86400) {
    diag.Error("collector.interval_seconds",
               "must be between 1 and 86400, got " + std::to_string(c.collector.interval.count()));
  }
  ValidateRegex("collector.filesystems.mountpoint_include",
                c.collector.filesystems.mountpoint_include, diag);
  ValidateRegex("collector.filesystems.mountpoint_exclude",
                c.collector.filesystems.mountpoint_exclude, diag);
  ValidateRegex("collector.filesystems.fstype_include", c.collector.filesystems.fstype_include,
                diag);
  ValidateRegex("collector.filesystems.fstype_exclude", c.collector.filesystems.fstype_exclude,
                diag);
  ValidateRegex("collector.disk_io.device_include", c.collector.disk_io.device_include, diag);
  ValidateRegex("collector.disk_io.device_exclude", c.collector.disk_io.device_exclude, diag);
  ValidateRegex("collector.network.interface_include", c.collector.network.interface_include, diag);
  ValidateRegex("collector.network.interface_exclude", c.collector.network.interface_exclude, diag);
  if (c.collector.filesystems.statfs_timeout.count() <= 0) {
    diag.Error("collector.filesystems.statfs_timeout", "must be positive");
  }

  std::set<std::string> shipper_names;
  for (RawShipper& raw_shipper : raw.shippers) {
    const std::string& p = raw_shipper.path;
    ShipperOptions& s = raw_shipper.options;
    if (raw_shipper.type_text.empty()) {
      diag.Error(p + ".type", "is required (prometheus_remote_write, http_json or influx_line)");
    } else if (auto type = ParseShipperType(raw_shipper.type_text)) {
      s.type = *type;
    } else {
      diag.Error(p + ".type", "unknown shipper type \"" + raw_shipper.type_text +
                                  "\" (expected prometheus_remote_write, http_json or "
                                  "influx_line)" +
                                  FromEnv(raw_shipper.type_from_env));
    }
    std::string why;
    if (s.endpoint.empty()) {
      diag.Error(p + ".endpoint", "is required");
    } else if (!ValidUrl(s.endpoint, why)) {
      diag.Error(p + ".endpoint", "\"" + RedactUrl(s.endpoint) + "\" " + why);
    }
    if (s.timeout.count() <= 0 || s.timeout > std::chrono::minutes(10)) {
      diag.Error(p + ".timeout", "must be between 1ms and 10m");
    }
    if (!SafeName(s.name)) {
      diag.Error(p + ".name", "\"" + s.name +
                                  "\" must be non-empty and use only letters, digits, '-', '_' "
                                  "and '.'");
    } else if (!shipper_names.insert(s.name).second) {
      diag.Error(p + ".name", "duplicate shipper name \"" + s.name + "\"");
    }
    if (s.max_samples_per_request < 1) {
      diag.Error(p + ".max_samples_per_request", "must be at least 1");
    }
    if (s.queue.min_backoff.count() <= 0 || s.queue.max_backoff < s.queue.min_backoff) {
      diag.Error(p + ".queue.max_backoff", "backoffs must be positive and min <= max");
    }
    if (s.queue.fsync_interval.count() < 0 || s.queue.fsync_interval > std::chrono::hours(1)) {
      diag.Error(p + ".queue.fsync_interval", "must be between 0s and 1h");
    }
    for (std::size_t i = 0; i < s.queue.hold_on_status.size(); ++i) {
      const int status = s.queue.hold_on_status[i];
      // 413 splits and 429 retries: holding them would hide a receiver that wants less.
      if (status < 400 || status > 599 || status == 413 || status == 429) {
        diag.Error(p + ".queue.hold_on_status[" + std::to_string(i) + "]",
                   std::to_string(status) + " is not a 4xx or 5xx status other than 413 and 429");
      }
    }
    if (s.queue.max_disk_bytes < (1u << 20)) {
      diag.Error(p + ".queue.max_disk_bytes", "must be at least 1048576 (1 MiB)");
    }
    if (s.queue.max_memory_samples < 1) {
      diag.Error(p + ".queue.max_memory_samples", "must be at least 1");
    }
    ValidateTls(p + ".tls", s.tls, diag);
    ValidateAuth(p, s.auth, diag);
    ValidateTransport(p + ".endpoint", s.endpoint, s.tls, s.auth, diag);
    if (s.tls.insecure_skip_verify) {
      diag.warnings.push_back(p +
                              ".tls.insecure_skip_verify is true: the receiver's certificate "
                              "is NOT verified; anyone on the path can read and alter data");
    }
  }
  for (RawShipper& s : raw.shippers) {
    c.shippers.push_back(std::move(s.options));
  }

  std::set<std::string> endpoint_names;
  for (std::size_t i = 0; i < c.endpoints.size(); ++i) {
    EndpointOptions& e = c.endpoints[i];
    std::string p = "endpoints[" + std::to_string(i) + "]";
    if (e.name.empty()) {
      diag.Error(p + ".name", "is required");
    } else if (!endpoint_names.insert(e.name).second) {
      diag.Error(p + ".name", "duplicate endpoint name \"" + e.name + "\"");
    }
    std::string why;
    if (e.url.empty()) {
      diag.Error(p + ".url", "is required");
    } else if (!ValidUrl(e.url, why)) {
      diag.Error(p + ".url", "\"" + RedactUrl(e.url) + "\" " + why);
    }
    if (auto format = ParseScrapeFormat(raw.endpoint_formats[i])) {
      e.format = *format;
    } else {
      diag.Error(p + ".format", "unknown format \"" + raw.endpoint_formats[i] +
                                    "\" (expected auto, prometheus, openmetrics or json)");
    }
    if (!e.metric_prefix.empty() && !IsValidMetricName(e.metric_prefix)) {
      diag.Error(p + ".metric_prefix",
                 "\"" + e.metric_prefix + "\" is not a valid metric name prefix");
    }
    for (const auto& [name, value] : e.labels) {
      if (!IsValidLabelName(name) || name.starts_with("__")) {
        diag.Error(p + ".labels." + name, "is not a valid label name");
      }
      if (name == "endpoint") {
        diag.Error(p + ".labels.endpoint", "is set by metricsd from the endpoint name");
      }
    }
    if (e.timeout && (e.timeout->count() <= 0 || *e.timeout > std::chrono::minutes(10))) {
      diag.Error(p + ".timeout", "must be between 1ms and 10m");
    }
    if (e.interval && (e.interval->count() < 1 || e.interval->count() > 86400)) {
      diag.Error(p + ".interval", "must be between 1s and 24h");
    }
    if (e.max_body_bytes < 1024) {
      diag.Error(p + ".max_body_bytes", "must be at least 1024");
    }
    ValidateTls(p + ".tls", e.tls, diag);
    ValidateAuth(p, e.auth, diag);
    ValidateTransport(p + ".url", e.url, e.tls, e.auth, diag);
  }
  if (c.global_labels.contains("instance")) {
    diag.Error("global_labels.instance",
               "set the instance key (or MC_INSTANCE) instead; it is added to every shipped "
               "sample");
  }
  if (c.hostname_label) {
    diag.warnings.push_back(
        "hostname_label is deprecated: every shipped sample now carries "
        "instance=\"<host name>\" (the instance key); hostname_label still adds "
        "hostname=\"<host name>\" as well");
  }
  for (const auto& [name, value] : c.global_labels) {
    if (!IsValidLabelName(name) || name.starts_with("__")) {
      diag.Error("global_labels." + name, "is not a valid label name");
    }
    if (value.empty()) {
      diag.Error("global_labels." + name, "must not be empty");
    }
  }
  if (auto level = ParseLogLevel(raw.log_level_text)) {
    c.log_level = *level;
  } else {
    diag.Error("log_level", "unknown level \"" + raw.log_level_text +
                                "\" (expected debug, info, warn or error)" +
                                FromEnv(raw.log_level_from_env));
  }
  if (raw.log_format_text == "text") {
    c.log_format = LogFormat::kText;
  } else if (raw.log_format_text == "json") {
    c.log_format = LogFormat::kJson;
  } else {
    diag.Error("log_format", "unknown format \"" + raw.log_format_text +
                                 "\" (expected text or json)" + FromEnv(raw.log_format_from_env));
  }
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") {
    return LogLevel::kDebug;
  }
  if (text == "info") {
    return LogLevel::kInfo;
  }
  if (text == "warn" || text == "warning") {
    return LogLevel::kWarn;
  }
  if (text == "error") {
    return LogLevel::kError;
  }
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string_view ShipperTypeName(ShipperType type) {
  switch (type) {
    case ShipperType::kPrometheusRemoteWrite:
      return "prometheus_remote_write";
    case ShipperType::kHttpJson:
      return "http_json";
    case ShipperType::kInfluxLine:
      return "influx_line";
  }
  return "prometheus_remote_write";
}

Result<Loaded> LoadFromText(std::string_view text, std::string source, const EnvLookup& env) {
  EnvLookup lookup = env ? env : EnvLookup([](const char* name) { return std::getenv(name); });
  json root;
  ParsePath path;
  try {
    root = json::parse(text.begin(), text.end(),
                       [&path](int, json::parse_event_t event, json& parsed) {
                         return path.Track(event, parsed);
                       });
  } catch (const json::parse_error& e) {
    return Error{source + ": not valid JSON: " + e.what()};
  } catch (const json::exception& e) {
    return Error{source + ": " + (path.str().empty() ? "" : path.str() + ": ") + e.what()};
  }
  if (!root.is_object()) {
    return Error{source + ": the configuration must be a JSON object"};
  }
  Diagnostics diag;
  RawConfig raw;
  try {
    ReadRoot(root, raw, diag);
    ApplyEnvironment(raw, lookup, diag);
    Validate(raw, diag);
  } catch (const json::exception& e) {
    // The readers check every type first; this only keeps a missed case from aborting.
    return Error{source + ": " + e.what()};
  }
  if (!diag.errors.empty()) {
    std::string message = "invalid configuration (" + source + "):";
    for (const std::string& e : diag.errors) {
      message += "\n  " + e;
    }
    return Error{message};
  }
  return Loaded{std::move(raw.config), std::move(source), std::move(diag.warnings)};
}

Result<Loaded> LoadFromFile(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{"cannot read configuration file \"" + path + "\": " + std::strerror(errno)};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return LoadFromText(text.str(), path, env);
}

namespace {

json Redacted(const std::string& secret) { return secret.empty() ? json("") : json(kRedacted); }

json TlsJson(const TlsOptions& t) {
  return {{"enabled", t.enabled},
          {"ca_file", t.ca_file},
          {"cert_file", t.cert_file},
          {"key_file", t.key_file},
          {"server_name", t.server_name},
          {"insecure_skip_verify", t.insecure_skip_verify},
          {"min_version", TlsVersionName(t.min_version)},
          {"max_version", TlsVersionName(t.max_version)},
          {"cipher_suites", t.cipher_suites},
          {"session_tickets", t.session_tickets}};
}

void AuthJson(const HttpAuth& a, json& out) {
  out["basic_auth"] = {{"username", a.basic_auth.username},
                       {"password", Redacted(a.basic_auth.password)},
                       {"password_file", a.basic_auth.password_file}};
  out["bearer_token"] = Redacted(a.bearer_token);
  out["bearer_token_file"] = a.bearer_token_file;
  json headers = json::object();
  for (const auto& [name, value] : a.headers) {
    headers[name] = IsNonSecretHeader(name) ? json(value) : Redacted(value);
  }
  out["headers"] = headers;
}

std::string Ms(milliseconds d) { return FormatDuration(d); }

}  // namespace

std::string RenderEffectiveConfig(const Config& c) {
  json out;
  json users = json::object();
  for (const auto& [user, hash] : c.server.basic_auth_users) {
    users[user] = Redacted(hash);
  }
  const ServerTlsOptions& server_tls = c.server.tls;
  out["server"] = {{"host", c.server.host},
                   {"port", c.server.port},
                   {"health_degraded_after", Ms(c.server.health_degraded_after)},
                   {"tls",
                    {{"cert_file", server_tls.cert_file},
                     {"key_file", server_tls.key_file},
                     {"client_ca_file", server_tls.client_ca_file},
                     {"client_auth_type", ClientAuthName(server_tls.effective_client_auth())},
                     {"min_version", TlsVersionName(server_tls.min_version)}}},
                   {"basic_auth_users", users},
                   {"probes_skip_auth", c.server.probes_skip_auth}};
  const CollectorOptions& k = c.collector;
  out["collector"] = {{"interval_seconds", k.interval.count()},
                      {"enable_cpu", k.enable_cpu},
                      {"enable_memory", k.enable_memory},
                      {"enable_disk", k.enable_disk},
                      {"enable_network", k.enable_network},
                      {"enable_gpu", k.enable_gpu},
                      {"enable_host", k.enable_host},
                      {"enable_pressure", k.enable_pressure},
                      {"filesystems",
                       {{"mountpoint_include", k.filesystems.mountpoint_include},
                        {"mountpoint_exclude", k.filesystems.mountpoint_exclude},
                        {"fstype_include", k.filesystems.fstype_include},
                        {"fstype_exclude", k.filesystems.fstype_exclude},
                        {"statfs_timeout", Ms(k.filesystems.statfs_timeout)}}},
                      {"disk_io",
                       {{"device_include", k.disk_io.device_include},
                        {"device_exclude", k.disk_io.device_exclude}}},
                      {"network",
                       {{"interface_include", k.network.interface_include},
                        {"interface_exclude", k.network.interface_exclude}}},
                      {"gpu", {{"nvml_library", k.gpu.nvml_library}}}};
  json shippers = json::array();
  for (const ShipperOptions& s : c.shippers) {
    json j = {{"name", s.name},
              {"type", ShipperTypeName(s.type)},
              {"endpoint", RedactUrl(s.endpoint)},
              {"timeout", Ms(s.timeout)},
              {"tls", TlsJson(s.tls)},
              {"max_samples_per_request", s.max_samples_per_request},
              {"gzip", s.gzip},
              {"queue",
               {{"max_disk_bytes", s.queue.max_disk_bytes},
                {"max_memory_samples", s.queue.max_memory_samples},
                {"min_backoff", Ms(s.queue.min_backoff)},
                {"max_backoff", Ms(s.queue.max_backoff)},
                {"retry_on_429", s.queue.retry_on_429},
                {"max_retry_after", Ms(s.queue.max_retry_after)},
                {"hold_on_status", s.queue.hold_on_status},
                {"fsync", s.queue.fsync},
                {"fsync_interval", Ms(s.queue.fsync_interval)}}}};
    AuthJson(s.auth, j);
    shippers.push_back(j);
  }
  out["shippers"] = shippers;
  json endpoints = json::array();
  for (const EndpointOptions& e : c.endpoints) {
    static constexpr std::string_view kFormats[] = {"auto", "prometheus", "openmetrics", "json"};
    json j = {{"name", e.name},
              {"url", RedactUrl(e.url)},
              {"format", kFormats[static_cast<int>(e.format)]},
              {"metric_prefix", e.metric_prefix},
              {"labels", e.labels},
              {"max_body_bytes", e.max_body_bytes},
              {"tls", TlsJson(e.tls)}};
    if (e.timeout) {
      j["timeout"] = Ms(*e.timeout);
    }
    if (e.interval) {
      j["interval"] = Ms(*e.interval);
    }
    AuthJson(e.auth, j);
    endpoints.push_back(j);
  }
  out["endpoints"] = endpoints;
  out["global_labels"] = c.global_labels;
  out["instance"] = c.instance.has_value() ? json(*c.instance) : json("<host name>");
  out["hostname_label"] = c.hostname_label;
  out["data_dir"] = c.data_dir;
  out["log_level"] = LogLevelName(c.log_level);
  out["log_format"] = c.log_format == LogFormat::kJson ? "json" : "text";
  // Values from the environment need not be UTF-8; dump() would throw on them.
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace metricsd::config
