#include "config/config_loader.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config_rows.h"
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

// The key path of the value being parsed ("server.port", "endpoints[0].url"), kept up to date
// by the parser callback: nlohmann reports some errors (a number beyond double: 1e400) with
// neither key nor position, and the message must still name the key.
class ParsePath {
 public:
  bool Track(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        levels_.push_back({});
        break;
      case Json::parse_event_t::array_start:
        levels_.push_back({.array = true});
        break;
      case Json::parse_event_t::key:
        if (!levels_.empty() && parsed.is_string()) {
          levels_.back().key = parsed.get<std::string>();
        }
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!levels_.empty()) {
          levels_.pop_back();
        }
        NextElement();
        break;
      case Json::parse_event_t::value:
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

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Built once per load: every row set the file is read, overridden, checked and printed with.
struct Rows {
  std::vector<OptionRow<Config>> config = ConfigRows();
  std::vector<OptionRow<ShipperOptions>> shipper = ShipperRows();
  std::vector<OptionRow<ShipperOptions>> shipper_list = ShipperListRows();
  std::vector<OptionRow<EndpointOptions>> endpoint = EndpointRows();
};

// A shipper before validation. has_type tells a missing type from the enum's default value.
struct ShipperEntry {
  ShipperOptions options;
  std::string path;  // "shipper" or "shippers[i]"
  bool has_type = false;
};

bool HasValue(const Json& object, const std::string& key) {
  auto it = object.find(key);
  return it != object.end() && !it->is_null();
}

// A top-level array of objects; `read` gets each object and its path.
template <typename Read>
void ReadList(const Json& root, const std::string& key, std::string_view what, Diagnostics& diag,
              Read read) {
  if (!HasValue(root, key)) {
    return;
  }
  const Json& list = root.at(key);
  if (!list.is_array()) {
    diag.Error(key,
               "expected an array of " + std::string(what) + " objects, got " + DescribeJson(list));
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string path = key + "[" + std::to_string(i) + "]";
    if (!list[i].is_object()) {
      diag.Error(path, "expected an object, got " + DescribeJson(list[i]));
      continue;
    }
    read(list[i], path);
  }
}

void ReadFile(const Json& root, const Rows& rows, Config& c, std::vector<ShipperEntry>& shippers,
              Diagnostics& diag) {
  ReadRows(rows.config, root, "", c, diag);
  if (HasValue(root, "shipper")) {
    const Json& block = root.at("shipper");
    if (!block.is_object()) {
      diag.Error("shipper", "expected an object, got " + DescribeJson(block));
    } else {
      ShipperEntry shipper{.path = "shipper", .has_type = HasValue(block, "type")};
      ReadRows(rows.shipper, block, shipper.path, shipper.options, diag);
      // The seed's single shipper; an empty block (no type, no endpoint) means none.
      if (shipper.has_type || !shipper.options.endpoint.empty()) {
        shippers.push_back(std::move(shipper));
      }
    }
  }
  std::vector<std::string> shipper_keys;
  AddKnownKeys(rows.shipper_list, "", shipper_keys);
  AddKnownKeys(rows.shipper, "", shipper_keys);
  ReadList(root, "shippers", "shipper", diag, [&](const Json& entry, const std::string& path) {
    ShipperEntry shipper{.path = path, .has_type = HasValue(entry, "type")};
    shipper.options.name.clear();  // required in a list
    ReadRows(rows.shipper_list, entry, path, shipper.options, diag);
    ReadRows(rows.shipper, entry, path, shipper.options, diag);
    WarnUnknownKeys(entry, path, "", shipper_keys, diag);
    shippers.push_back(std::move(shipper));
  });
  std::vector<std::string> endpoint_keys;
  AddKnownKeys(rows.endpoint, "", endpoint_keys);
  ReadList(root, "endpoints", "endpoint", diag, [&](const Json& entry, const std::string& path) {
    // scrape.* has no MC_* variable, so the file's values are final here.
    EndpointOptions endpoint{.limits = c.scrape_limits};
    ReadRows(rows.endpoint, entry, path, endpoint, diag);
    WarnUnknownKeys(entry, path, "", endpoint_keys, diag);
    c.endpoints.push_back(std::move(endpoint));
  });
  std::vector<std::string> root_keys = {"shipper", "shippers", "endpoints"};
  AddKnownKeys(rows.config, "", root_keys);
  AddKnownKeys(rows.shipper, "shipper.", root_keys);
  WarnUnknownKeys(root, "", "", root_keys, diag);
}

void ApplyEnvironment(const Rows& rows, const EnvLookup& env, Config& c,
                      std::vector<ShipperEntry>& shippers, Diagnostics& diag) {
  auto lookup = [&](const char* name) -> std::optional<std::string> {
    const char* value = env(name);
    if (value == nullptr || *value == '\0') {
      return std::nullopt;  // empty means unset, as documented
    }
    return std::string(value);
  };
  ApplyEnvRows(rows.config, lookup, "", c, diag);

  // The seed's shipper variables address the single "shipper" block. They create it when
  // the file has none; with only a "shippers" list they apply to its sole entry.
  std::string_view first_set;
  bool sets_type = false;
  for (const OptionRow<ShipperOptions>& row : rows.shipper) {
    if (row.read_text && lookup(std::string(row.doc.env).c_str())) {
      first_set = first_set.empty() ? row.doc.env : first_set;
      sets_type = sets_type || row.key == "type";
    }
  }
  if (first_set.empty()) {
    return;
  }
  ShipperEntry* target = nullptr;
  for (ShipperEntry& s : shippers) {
    if (s.path == "shipper") {
      target = &s;
    }
  }
  if (target == nullptr && shippers.size() == 1) {
    target = &shippers.front();
  }
  if (target == nullptr && !shippers.empty()) {
    diag.errors.push_back(std::string(first_set) +
                          ": several shippers are configured; set this in the file instead");
    return;
  }
  if (target == nullptr) {
    target = &shippers.emplace_back(ShipperEntry{.path = "shipper"});
  }
  target->has_type = target->has_type || sets_type;
  ApplyEnvRows(rows.shipper, lookup, target->path, target->options, diag);
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

void ValidateServerSecurity(const ServerOptions& server, Diagnostics& diag) {
  const ServerTlsOptions& tls = server.tls;
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

// What one row cannot say: required keys, unique names, URLs, pairs of keys, files.
void Validate(const Rows& rows, std::vector<ShipperEntry>& shippers, Config& c, Diagnostics& diag) {
  CheckRows(rows.config, "", c, diag);
  ValidateServerSecurity(c.server, diag);

  std::set<std::string> shipper_names;
  for (ShipperEntry& entry : shippers) {
    const std::string& p = entry.path;
    const ShipperOptions& s = entry.options;
    CheckRows(rows.shipper, p, s, diag);
    if (!entry.has_type) {
      diag.Error(p + ".type", "is required (prometheus_remote_write, http_json or influx_line)");
    }
    std::string why;
    if (s.endpoint.empty()) {
      diag.Error(p + ".endpoint", "is required");
    } else if (!ValidUrl(s.endpoint, why)) {
      diag.Error(p + ".endpoint", "\"" + RedactUrl(s.endpoint) + "\" " + why);
    }
    if (!SafeName(s.name)) {
      diag.Error(p + ".name", "\"" + s.name +
                                  "\" must be non-empty and use only letters, digits, '-', '_' "
                                  "and '.'");
    } else if (!shipper_names.insert(s.name).second) {
      diag.Error(p + ".name", "duplicate shipper name \"" + s.name + "\"");
    }
    if (s.queue.min_backoff.count() <= 0 || s.queue.max_backoff < s.queue.min_backoff) {
      diag.Error(p + ".queue.max_backoff", "backoffs must be positive and min <= max");
    }
    ValidateTls(p + ".tls", s.tls, diag);
    ValidateAuth(p, s.auth, diag);
    ValidateTransport(p + ".endpoint", s.endpoint, s.tls, s.auth, diag);
    if (s.tls.insecure_skip_verify) {
      diag.warnings.push_back(p +
                              ".tls.insecure_skip_verify is true: the receiver's certificate "
                              "is NOT verified; anyone on the path can read and alter data");
    }
    c.shippers.push_back(std::move(entry.options));
  }

  std::set<std::string> endpoint_names;
  for (std::size_t i = 0; i < c.endpoints.size(); ++i) {
    const EndpointOptions& e = c.endpoints[i];
    std::string p = "endpoints[" + std::to_string(i) + "]";
    CheckRows(rows.endpoint, p, e, diag);
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
    ValidateTls(p + ".tls", e.tls, diag);
    ValidateAuth(p, e.auth, diag);
    ValidateTransport(p + ".url", e.url, e.tls, e.auth, diag);
  }
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  return ParseEnum<LogLevel>(kLogLevelNames, text);
}

std::string_view LogLevelName(LogLevel level) {
  return EnumNameOf<LogLevel>(kLogLevelNames, level);
}

std::string_view ShipperTypeName(ShipperType type) {
  return EnumNameOf<ShipperType>(kShipperTypeNames, type);
}

Result<Loaded> LoadFromText(std::string_view text, std::string source, const EnvLookup& env) {
  EnvLookup lookup = env ? env : EnvLookup([](const char* name) { return std::getenv(name); });
  Json root;
  ParsePath path;
  try {
    root = Json::parse(text.begin(), text.end(),
                       [&path](int, Json::parse_event_t event, Json& parsed) {
                         return path.Track(event, parsed);
                       });
  } catch (const Json::parse_error& e) {
    return Error{source + ": not valid JSON: " + e.what()};
  } catch (const Json::exception& e) {
    return Error{source + ": " + (path.str().empty() ? "" : path.str() + ": ") + e.what()};
  }
  if (!root.is_object()) {
    return Error{source + ": the configuration must be a JSON object"};
  }
  Diagnostics diag;
  Config config;
  try {
    const Rows rows;
    std::vector<ShipperEntry> shippers;
    ReadFile(root, rows, config, shippers, diag);
    ApplyEnvironment(rows, lookup, config, shippers, diag);
    Validate(rows, shippers, config, diag);
  } catch (const Json::exception& e) {
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
  return Loaded{std::move(config), std::move(source), std::move(diag.warnings)};
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

std::string RenderEffectiveConfig(const Config& c) {
  const Rows rows;
  Json out = RenderRows(rows.config, c);
  Json shippers = Json::array();
  for (const ShipperOptions& s : c.shippers) {
    Json shipper = RenderRows(rows.shipper, s);
    shipper.update(RenderRows(rows.shipper_list, s));
    shippers.push_back(std::move(shipper));
  }
  out["shippers"] = std::move(shippers);
  Json endpoints = Json::array();
  for (const EndpointOptions& e : c.endpoints) {
    endpoints.push_back(RenderRows(rows.endpoint, e));
  }
  out["endpoints"] = std::move(endpoints);
  // Values from the environment need not be UTF-8; dump() would throw on them.
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace metricsd::config
