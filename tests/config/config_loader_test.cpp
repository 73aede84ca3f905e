#include "config/config_loader.h"
#include "config/option_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace metricsd::config {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Loads `text` with exactly the given environment (nothing from the real one).
Result<Loaded> LoadWith(std::string_view text, std::map<std::string, std::string> env = {}) {
  auto holder = std::make_shared<std::map<std::string, std::string>>(std::move(env));
  return LoadFromText(text, "test.json", [holder](const char* name) -> const char* {
    auto it = holder->find(name);
    return it == holder->end() ? nullptr : it->second.c_str();
  });
}

Config MustLoad(std::string_view text, std::map<std::string, std::string> env = {}) {
  auto loaded = LoadWith(text, std::move(env));
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error());
  return loaded.ok() ? loaded->config : Config{};
}

std::string MustFail(std::string_view text, std::map<std::string, std::string> env = {}) {
  auto loaded = LoadWith(text, std::move(env));
  EXPECT_FALSE(loaded.ok()) << "expected an error for " << text;
  return loaded.ok() ? "" : loaded.error();
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/metricsd-config-test-XXXXXX";
    int fd = ::mkstemp(name);
    path_ = name;
    ::write(fd, content.data(), content.size());
    ::close(fd);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Defaults, EmptyObjectGivesDocumentedDefaults) {
  Config c = MustLoad("{}");
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.health_degraded_after, 5min);
  EXPECT_EQ(c.collector.interval, 60s);
  EXPECT_TRUE(c.collector.enable_cpu);
  EXPECT_TRUE(c.collector.enable_memory);
  EXPECT_TRUE(c.collector.enable_disk);
  EXPECT_TRUE(c.collector.enable_network);
  EXPECT_FALSE(c.collector.enable_gpu);
  EXPECT_TRUE(c.collector.enable_host);
  EXPECT_TRUE(c.collector.enable_pressure);
  EXPECT_EQ(c.collector.filesystems.statfs_timeout, 5s);
  EXPECT_FALSE(c.collector.filesystems.fstype_exclude.empty());
  EXPECT_FALSE(c.collector.disk_io.device_exclude.empty());
  EXPECT_TRUE(c.shippers.empty());  // pull mode
  EXPECT_TRUE(c.endpoints.empty());
  EXPECT_TRUE(c.global_labels.empty());
  EXPECT_FALSE(c.hostname_label);
  EXPECT_EQ(c.data_dir, "");
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.log_format, LogFormat::kText);
}

TEST(Defaults, EmbeddedDefaultIsValidPullMode) {
  Config c = MustLoad(kEmbeddedDefaultConfig);
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.collector.interval, 60s);
  EXPECT_TRUE(c.shippers.empty());
}

TEST(Defaults, ShipperDefaults) {
  Config c = MustLoad(
      R"({"shipper":{"type":"prometheus_remote_write","endpoint":"http://h:9090/api/v1/write"}})");
  ASSERT_EQ(c.shippers.size(), 1u);
  const ShipperOptions& s = c.shippers[0];
  EXPECT_EQ(s.name, "default");
  EXPECT_EQ(s.type, ShipperType::kPrometheusRemoteWrite);
  EXPECT_EQ(s.timeout, 30s);
  EXPECT_FALSE(s.tls.enabled);
  EXPECT_EQ(s.tls.min_version, TlsVersion::kTls12);
  EXPECT_EQ(s.tls.max_version, TlsVersion::kTls13);
  EXPECT_TRUE(s.tls.session_tickets);
  EXPECT_FALSE(s.tls.insecure_skip_verify);
  EXPECT_EQ(s.max_samples_per_request, 2000u);
  EXPECT_FALSE(s.gzip);
  EXPECT_EQ(s.queue.max_disk_bytes, 1ULL << 30);
  EXPECT_EQ(s.queue.min_backoff, 500ms);
  EXPECT_EQ(s.queue.max_backoff, 1min);
  EXPECT_TRUE(s.queue.retry_on_429);
  EXPECT_EQ(s.queue.fsync_interval, 0ms);
  EXPECT_EQ(s.queue.hold_on_status, (std::vector<int>{401, 403, 404}));
}

TEST(Keys, HoldOnStatusIsReadAndChecked) {
  Config c = MustLoad(
      R"({"shipper":{"type":"prometheus_remote_write","endpoint":"http://h/api/v1/write",
                     "queue":{"hold_on_status":[401, 503]}}})");
  EXPECT_EQ(c.shippers[0].queue.hold_on_status, (std::vector<int>{401, 503}));
  Config none = MustLoad(
      R"({"shipper":{"type":"prometheus_remote_write","endpoint":"http://h/api/v1/write",
                     "queue":{"hold_on_status":[]}}})");
  EXPECT_TRUE(none.shippers[0].queue.hold_on_status.empty());
  for (const char* bad : {"[200]", "[429]", "[413]", "[\"401\"]", "401"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(MustFail(std::string(R"({"shipper":{"type":"prometheus_remote_write",
                     "endpoint":"http://h/","queue":{"hold_on_status":)") +
                         bad + "}}}"),
                HasSubstr("shipper.queue.hold_on_status"));
  }
}

TEST(Keys, InstanceDefaultsToTheHostNameAndCanBeTurnedOff) {
  EXPECT_FALSE(MustLoad("{}").instance.has_value());  // the agent uses the host name
  EXPECT_EQ(MustLoad(R"({"instance":"web-1"})").instance, "web-1");
  EXPECT_EQ(MustLoad(R"({"instance":""})").instance, "");
  EXPECT_EQ(MustLoad(R"({"instance":"web-1"})", {{"MC_INSTANCE", "web-2"}}).instance, "web-2");
  EXPECT_THAT(MustFail(R"({"instance":7})"), HasSubstr("instance: expected a string"));
  EXPECT_THAT(MustFail(R"({"global_labels":{"instance":"x"}})"),
              HasSubstr("global_labels.instance"));
}

TEST(Keys, HostnameLabelStillWorksWithADeprecationWarning) {
  auto loaded = LoadWith(R"({"hostname_label":true})");
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->config.hostname_label);
  ASSERT_FALSE(loaded->warnings.empty());
  EXPECT_THAT(loaded->warnings.back(), HasSubstr("deprecated"));
}

// bcrypt of "right-pw" at cost 10.
constexpr std::string_view kBcryptHash =
    "$2b$10$X/OwgflWGUvVEhLbHIlt0exOtBVoEiBzSTh8VytGBaMZdNUUmaWtC";

TEST(Keys, EveryKeyIsRead) {
  TempFile ca("ca"), cert("cert"), key("key"), pw("secret\n"), token("tok");
  std::string text = R"({
    "server": {"host": "127.0.0.1", "port": 9100, "health_degraded_after": "2m",
      "tls": {"cert_file": ")" +
                     cert.path() + R"(", "key_file": ")" + key.path() +
                     R"(", "client_ca_file": ")" + ca.path() + R"(",
        "client_auth_type": "VerifyClientCertIfGiven", "min_version": "TLS1.3"},
      "basic_auth_users": {"prom": ")" +
                     std::string(kBcryptHash) + R"("},
      "probes_skip_auth": true},
    "collector": {"interval_seconds": 15, "enable_cpu": false, "enable_memory": false,
      "enable_disk": false, "enable_network": false, "enable_gpu": true, "enable_host": false,
      "enable_pressure": false,
      "filesystems": {"mountpoint_include": "^/data", "mountpoint_exclude": "^/boot",
        "fstype_include": "^ext4$", "fstype_exclude": "^tmpfs$", "statfs_timeout": "2s"},
      "disk_io": {"device_include": "^sd", "device_exclude": "^loop"},
      "network": {"interface_include": "^eth", "interface_exclude": "^veth"},
      "gpu": {"nvml_library": "/opt/nvml.so"}},
    "shipper": {"type": "http_json", "endpoint": "https://collector:8443/v1", "timeout": "1500ms",
      "tls": {"enabled": true, "ca_file": ")" +
                     ca.path() + R"(", "cert_file": ")" + cert.path() + R"(", "key_file": ")" +
                     key.path() + R"(", "server_name": "collector.example",
        "insecure_skip_verify": false, "min_version": "TLS1.3", "max_version": "TLS1.3",
        "cipher_suites": ["TLS_AES_128_GCM_SHA256"], "session_tickets": false},
      "basic_auth": {"username": "u", "password_file": ")" +
                     pw.path() + R"("},
      "headers": {"X-Scope-OrgID": "tenant1"},
      "max_samples_per_request": 500, "gzip": true,
      "queue": {"max_disk_bytes": 2097152, "max_memory_samples": 10, "min_backoff": "1s",
        "max_backoff": "30s", "retry_on_429": false, "fsync_interval": "2s"}},
    "shippers": [{"name": "vm", "type": "influx_line", "endpoint": "http://vm:8428/write",
      "bearer_token_file": ")" +
                     token.path() + R"("}],
    "endpoints": [{"name": "app", "url": "https://localhost:3000/metrics", "format": "openmetrics",
      "metric_prefix": "", "labels": {"team": "a"}, "timeout": "3s", "interval": "30s",
      "max_body_bytes": 4096, "tls": {"enabled": true, "insecure_skip_verify": true},
      "bearer_token": "t", "headers": {"X-A": "b"}}],
    "global_labels": {"cluster": "eu1"}, "hostname_label": true, "data_dir": "/tmp/x",
    "log_level": "debug", "log_format": "json", "instance": "web-1"
  })";
  auto loaded = LoadWith(text);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  // Only hostname_label's deprecation: every key was read.
  ASSERT_EQ(loaded->warnings.size(), 1u) << loaded->warnings.front();
  EXPECT_THAT(loaded->warnings[0], HasSubstr("hostname_label is deprecated"));
  EXPECT_EQ(loaded->config.instance, "web-1");
  const Config& c = loaded->config;
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 9100);
  EXPECT_EQ(c.server.health_degraded_after, 2min);
  EXPECT_EQ(c.server.tls.cert_file, cert.path());
  EXPECT_EQ(c.server.tls.key_file, key.path());
  EXPECT_EQ(c.server.tls.client_ca_file, ca.path());
  EXPECT_EQ(c.server.tls.client_auth_type, ClientAuth::kVerifyClientCertIfGiven);
  EXPECT_EQ(c.server.tls.min_version, TlsVersion::kTls13);
  EXPECT_EQ(c.server.basic_auth_users.at("prom"), kBcryptHash);
  EXPECT_TRUE(c.server.probes_skip_auth);
  EXPECT_EQ(c.collector.interval, 15s);
  EXPECT_FALSE(c.collector.enable_cpu);
  EXPECT_FALSE(c.collector.enable_memory);
  EXPECT_FALSE(c.collector.enable_disk);
  EXPECT_FALSE(c.collector.enable_network);
  EXPECT_TRUE(c.collector.enable_gpu);
  EXPECT_FALSE(c.collector.enable_host);
  EXPECT_FALSE(c.collector.enable_pressure);
  EXPECT_EQ(c.collector.filesystems.mountpoint_include, "^/data");
  EXPECT_EQ(c.collector.filesystems.mountpoint_exclude, "^/boot");
  EXPECT_EQ(c.collector.filesystems.fstype_include, "^ext4$");
  EXPECT_EQ(c.collector.filesystems.fstype_exclude, "^tmpfs$");
  EXPECT_EQ(c.collector.filesystems.statfs_timeout, 2s);
  EXPECT_EQ(c.collector.disk_io.device_include, "^sd");
  EXPECT_EQ(c.collector.disk_io.device_exclude, "^loop");
  EXPECT_EQ(c.collector.network.interface_include, "^eth");
  EXPECT_EQ(c.collector.network.interface_exclude, "^veth");
  EXPECT_EQ(c.collector.gpu.nvml_library, "/opt/nvml.so");
  ASSERT_EQ(c.shippers.size(), 2u);
  const ShipperOptions& s = c.shippers[0];
  EXPECT_EQ(s.type, ShipperType::kHttpJson);
  EXPECT_EQ(s.endpoint, "https://collector:8443/v1");
  EXPECT_EQ(s.timeout, 1500ms);
  EXPECT_TRUE(s.tls.enabled);
  EXPECT_EQ(s.tls.ca_file, ca.path());
  EXPECT_EQ(s.tls.cert_file, cert.path());
  EXPECT_EQ(s.tls.key_file, key.path());
  EXPECT_EQ(s.tls.server_name, "collector.example");
  EXPECT_EQ(s.tls.min_version, TlsVersion::kTls13);
  EXPECT_EQ(s.tls.cipher_suites, std::vector<std::string>{"TLS_AES_128_GCM_SHA256"});
  EXPECT_FALSE(s.tls.session_tickets);
  EXPECT_EQ(s.auth.basic_auth.username, "u");
  EXPECT_EQ(s.auth.basic_auth.password_file, pw.path());
  EXPECT_EQ(s.auth.headers.at("X-Scope-OrgID"), "tenant1");
  EXPECT_EQ(s.max_samples_per_request, 500u);
  EXPECT_TRUE(s.gzip);
  EXPECT_EQ(s.queue.max_disk_bytes, 2097152u);
  EXPECT_EQ(s.queue.max_memory_samples, 10u);
  EXPECT_EQ(s.queue.min_backoff, 1s);
  EXPECT_EQ(s.queue.max_backoff, 30s);
  EXPECT_FALSE(s.queue.retry_on_429);
  EXPECT_EQ(s.queue.fsync_interval, 2s);
  EXPECT_EQ(c.shippers[1].name, "vm");
  EXPECT_EQ(c.shippers[1].type, ShipperType::kInfluxLine);
  EXPECT_EQ(c.shippers[1].auth.bearer_token_file, token.path());
  ASSERT_EQ(c.endpoints.size(), 1u);
  const EndpointOptions& e = c.endpoints[0];
  EXPECT_EQ(e.name, "app");
  EXPECT_EQ(e.format, ScrapeFormat::kOpenMetrics);
  EXPECT_EQ(e.metric_prefix, "");
  EXPECT_EQ(e.labels.at("team"), "a");
  EXPECT_EQ(e.timeout, 3s);
  EXPECT_EQ(e.interval, 30s);
  EXPECT_EQ(e.max_body_bytes, 4096u);
  EXPECT_TRUE(e.tls.insecure_skip_verify);
  EXPECT_EQ(e.auth.bearer_token, "t");
  EXPECT_EQ(e.auth.headers.at("X-A"), "b");
  EXPECT_EQ(c.global_labels.at("cluster"), "eu1");
  EXPECT_TRUE(c.hostname_label);
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.log_format, LogFormat::kJson);
}

TEST(Keys, SeedExampleConfigLoads) {
  // The seed README's example, minus file paths that do not exist here.
  Config c = MustLoad(R"({
    "server": {"host": "0.0.0.0", "port": 8080},
    "collector": {"interval_seconds": 60, "enable_cpu": true, "enable_memory": true,
                  "enable_disk": true, "enable_network": true, "enable_gpu": false},
    "shipper": {"type": "http_json", "endpoint": "https://collector.example.com:9090/api/v1/metrics",
      "timeout": 30000000000,
      "tls": {"enabled": true, "insecure_skip_verify": false, "server_name": "collector.example.com",
        "min_version": "TLS1.2", "max_version": "TLS1.3",
        "cipher_suites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"],
        "session_tickets": true}},
    "endpoints": [{"name": "app1", "url": "http://localhost:3000/metrics"}]})");
  ASSERT_EQ(c.shippers.size(), 1u);
  EXPECT_EQ(c.shippers[0].timeout, 30s);  // integer nanoseconds
  EXPECT_EQ(c.endpoints[0].metric_prefix, "app_");
}

TEST(Keys, TimeoutAcceptsNanosecondsAndDurationStrings) {
  auto with = [](const std::string& timeout) {
    return R"({"shipper":{"type":"http_json","endpoint":"http://h/","timeout":)" + timeout + "}}";
  };
  EXPECT_EQ(MustLoad(with("30000000000")).shippers[0].timeout, 30s);
  EXPECT_EQ(MustLoad(with("\"30s\"")).shippers[0].timeout, 30s);
  EXPECT_EQ(MustLoad(with("\"500ms\"")).shippers[0].timeout, 500ms);
  EXPECT_THAT(MustFail(with("\"30 parsecs\"")), HasSubstr("shipper.timeout: invalid duration"));
  EXPECT_THAT(MustFail(with("30.5")), HasSubstr("shipper.timeout"));
  EXPECT_THAT(MustFail(with("-1")), HasSubstr("shipper.timeout: must not be negative"));
  EXPECT_THAT(MustFail(with("\"0s\"")), HasSubstr("shipper.timeout: must be between"));
}

TEST(Keys, UnknownKeysWarnWithCaseHint) {
  auto loaded = LoadWith(R"({"SERVER":{"port":1},"collector":{"enable_cpus":true}})");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_EQ(loaded->warnings.size(), 2u);
  EXPECT_THAT(loaded->warnings[0], HasSubstr("\"collector.enable_cpus\""));
  EXPECT_THAT(loaded->warnings[1], HasSubstr("\"SERVER\""));
  EXPECT_THAT(loaded->warnings[1], HasSubstr("did you mean \"server\""));
}

TEST(Keys, NullKeepsDefault) {
  EXPECT_EQ(MustLoad(R"({"server":{"port":null}})").server.port, 8080);
}

struct EnvCase {
  const char* var;
  const char* value;
  std::function<void(const Config&)> check;
};

TEST(Environment, EveryVariableOverridesTheFile) {
  TempFile cert("c"), key("k"), ca("a");
  const std::string base =
      R"({"server":{"host":"1.2.3.4","port":1},"collector":{"interval_seconds":5},
          "shipper":{"type":"http_json","endpoint":"http://file/"},"log_level":"error","log_format":"text"})";
  std::vector<EnvCase> cases = {
      {"MC_SERVER_HOST", "127.0.0.1",
       [](const Config& c) { EXPECT_EQ(c.server.host, "127.0.0.1"); }},
      {"MC_SERVER_PORT", "9999", [](const Config& c) { EXPECT_EQ(c.server.port, 9999); }},
      {"MC_COLLECTOR_INTERVAL", "7", [](const Config& c) { EXPECT_EQ(c.collector.interval, 7s); }},
      {"MC_COLLECTOR_NAMING", "both",
       [](const Config& c) { EXPECT_EQ(c.collector.naming, MetricNaming::kBoth); }},
      {"MC_COLLECTOR_TEXTFILE_DIRECTORY", "/var/lib/metricsd/textfile",
       [](const Config& c) {
         EXPECT_EQ(c.collector.textfile.directory, "/var/lib/metricsd/textfile");
       }},
      {"MC_SHIPPER_TYPE", "prometheus_remote_write",
       [](const Config& c) { EXPECT_EQ(c.shippers[0].type, ShipperType::kPrometheusRemoteWrite); }},
      {"MC_SHIPPER_ENDPOINT", "https://env:1/w",
       [](const Config& c) { EXPECT_EQ(c.shippers[0].endpoint, "https://env:1/w"); }},
      {"MC_SHIPPER_TIMEOUT", "5s", [](const Config& c) { EXPECT_EQ(c.shippers[0].timeout, 5s); }},
      {"MC_TLS_ENABLED", "true", [](const Config& c) { EXPECT_TRUE(c.shippers[0].tls.enabled); }},
      {"MC_TLS_SERVER_NAME", "sni.example",
       [](const Config& c) { EXPECT_EQ(c.shippers[0].tls.server_name, "sni.example"); }},
      {"MC_TLS_MIN_VERSION", "TLS1.3",
       [](const Config& c) { EXPECT_EQ(c.shippers[0].tls.min_version, TlsVersion::kTls13); }},
      {"MC_TLS_MAX_VERSION", "TLS1.2",
       [](const Config& c) { EXPECT_EQ(c.shippers[0].tls.max_version, TlsVersion::kTls12); }},
      {"MC_TLS_INSECURE_SKIP_VERIFY", "1",
       [](const Config& c) { EXPECT_TRUE(c.shippers[0].tls.insecure_skip_verify); }},
      {"MC_DATA_DIR", "/var/tmp/md", [](const Config& c) { EXPECT_EQ(c.data_dir, "/var/tmp/md"); }},
      {"MC_LOG_LEVEL", "debug", [](const Config& c) { EXPECT_EQ(c.log_level, LogLevel::kDebug); }},
      {"MC_LOG_FORMAT", "json", [](const Config& c) { EXPECT_EQ(c.log_format, LogFormat::kJson); }},
      {"MC_INSTANCE", "node-7", [](const Config& c) { EXPECT_EQ(c.instance, "node-7"); }},
      {"MC_GLOBAL_LABELS", "node=w1,cluster=eu1",
       [](const Config& c) {
         EXPECT_EQ(c.global_labels,
                   (std::map<std::string, std::string>{{"cluster", "eu1"}, {"node", "w1"}}));
       }},
  };
  for (const EnvCase& ec : cases) {
    SCOPED_TRACE(ec.var);
    ec.check(MustLoad(base, {{ec.var, ec.value}}));
  }
  Config files = MustLoad(base, {{"MC_TLS_CERT_FILE", cert.path()},
                                 {"MC_TLS_KEY_FILE", key.path()},
                                 {"MC_TLS_CA_FILE", ca.path()}});
  EXPECT_EQ(files.shippers[0].tls.cert_file, cert.path());
  EXPECT_EQ(files.shippers[0].tls.key_file, key.path());
  EXPECT_EQ(files.shippers[0].tls.ca_file, ca.path());
}

TEST(Environment, ServerTlsFilesComeFromTheEnvironment) {
  TempFile cert("c"), key("k"), ca("a");
  Config c = MustLoad("{}", {{"MC_SERVER_TLS_CERT_FILE", cert.path()},
                             {"MC_SERVER_TLS_KEY_FILE", key.path()},
                             {"MC_SERVER_TLS_CLIENT_CA_FILE", ca.path()}});
  EXPECT_EQ(c.server.tls.cert_file, cert.path());
  EXPECT_EQ(c.server.tls.key_file, key.path());
  EXPECT_EQ(c.server.tls.client_ca_file, ca.path());
  EXPECT_TRUE(c.server.tls.enabled());
}

TEST(Environment, EveryTableVariableIsHonoured) {
  // Guards the table and the loader against drifting apart.
  for (const OptionInfo& o : AllOptions()) {
    if (!o.env.empty()) {
      auto loaded = LoadWith(R"({"shipper":{"type":"http_json","endpoint":"http://h/"}})",
                             {{std::string(o.env), "@@not-a-valid-value@@"}});
      bool string_like = o.env == "MC_SERVER_HOST" || o.env == "MC_SHIPPER_ENDPOINT" ||
                         o.env == "MC_DATA_DIR" || o.env == "MC_TLS_SERVER_NAME" ||
                         o.env == "MC_GLOBAL_LABELS" || o.env == "MC_INSTANCE" ||
                         o.env == "MC_COLLECTOR_TEXTFILE_DIRECTORY" ||
                         o.env.find("_FILE") != std::string_view::npos;
      if (!string_like) {
        ASSERT_FALSE(loaded.ok()) << o.env << " was ignored";
        EXPECT_THAT(loaded.error(), HasSubstr(std::string(o.env))) << o.env;
      }
    }
  }
}

TEST(Environment, CreatesShipperWhenFileHasNone) {
  Config c =
      MustLoad("{}", {{"MC_SHIPPER_TYPE", "http_json"}, {"MC_SHIPPER_ENDPOINT", "http://x/"}});
  ASSERT_EQ(c.shippers.size(), 1u);
  EXPECT_EQ(c.shippers[0].name, "default");
}

TEST(Environment, UnparsableValuesNameTheVariable) {
  const char* shipper = R"({"shipper":{"type":"http_json","endpoint":"http://h/"}})";
  EXPECT_THAT(MustFail("{}", {{"MC_SERVER_PORT", "80x"}}), HasSubstr("MC_SERVER_PORT"));
  EXPECT_THAT(MustFail("{}", {{"MC_COLLECTOR_INTERVAL", "1m"}}),
              HasSubstr("MC_COLLECTOR_INTERVAL"));
  EXPECT_THAT(MustFail(shipper, {{"MC_TLS_ENABLED", "yes"}}), HasSubstr("MC_TLS_ENABLED"));
  EXPECT_THAT(MustFail(shipper, {{"MC_TLS_INSECURE_SKIP_VERIFY", "maybe"}}),
              HasSubstr("MC_TLS_INSECURE_SKIP_VERIFY"));
  EXPECT_THAT(MustFail(shipper, {{"MC_TLS_MIN_VERSION", "SSL3"}}), HasSubstr("MC_TLS_MIN_VERSION"));
  EXPECT_THAT(MustFail("{}", {{"MC_LOG_LEVEL", "trace"}}), HasSubstr("log_level"));
  EXPECT_THAT(MustFail("{}", {{"MC_LOG_FORMAT", "xml"}}), HasSubstr("log_format"));
  EXPECT_THAT(MustFail("{}", {{"MC_GLOBAL_LABELS", "novalue"}}), HasSubstr("MC_GLOBAL_LABELS"));
  EXPECT_THAT(MustFail("{}", {{"MC_GLOBAL_LABELS", "bad-name=x"}}),
              HasSubstr("global_labels.bad-name"));
}

TEST(Environment, EmptyValueMeansUnset) {
  EXPECT_EQ(MustLoad(R"({"server":{"port":1234}})", {{"MC_SERVER_PORT", ""}}).server.port, 1234);
}

TEST(Environment, AmbiguousWithSeveralShippers) {
  std::string two = R"({"shippers":[{"name":"a","type":"http_json","endpoint":"http://a/"},
                                    {"name":"b","type":"http_json","endpoint":"http://b/"}]})";
  EXPECT_THAT(MustFail(two, {{"MC_TLS_ENABLED", "true"}}), HasSubstr("MC_TLS_ENABLED"));
}

struct ValidationCase {
  std::string json;
  std::string expected;
};

class Validation : public ::testing::TestWithParam<ValidationCase> {};

TEST_P(Validation, NamesTheKey) {
  EXPECT_THAT(MustFail(GetParam().json), HasSubstr(GetParam().expected));
}

const char* kRw = R"("type":"prometheus_remote_write","endpoint":"https://h:9090/api/v1/write")";

std::string Shipper(const std::string& extra) {
  return std::string(R"({"shipper":{)") + kRw + (extra.empty() ? "" : "," + extra) + "}}";
}

INSTANTIATE_TEST_SUITE_P(
    Config, Validation,
    ::testing::Values(
        ValidationCase{R"({"server":{"port":0}})", "server.port: must be between 1 and 65535"},
        ValidationCase{R"({"server":{"port":70000}})", "server.port: must be between 1 and 65535"},
        ValidationCase{R"({"server":{"port":"8080"}})",
                       "server.port: expected an integer, got a string"},
        ValidationCase{R"({"server":{"port":8080.0}})", "server.port: expected an integer"},
        ValidationCase{R"({"server":{"host":5}})", "server.host: expected a string"},
        ValidationCase{R"({"server":{"health_degraded_after":"0s"}})",
                       "server.health_degraded_after"},
        ValidationCase{R"({"server":[]})", "server: expected an object"},
        ValidationCase{R"({"collector":{"interval_seconds":0}})",
                       "collector.interval_seconds: must be between 1 and 86400"},
        ValidationCase{R"({"collector":{"interval_seconds":999999999999}})",
                       "collector.interval_seconds"},
        ValidationCase{R"({"collector":{"enable_cpu":"true"}})",
                       "collector.enable_cpu: expected true or false"},
        ValidationCase{R"({"collector":{"filesystems":{"mountpoint_exclude":"(["}}})",
                       "collector.filesystems.mountpoint_exclude: invalid regular expression"},
        ValidationCase{R"({"collector":{"disk_io":{"device_exclude":"+"}}})",
                       "collector.disk_io.device_exclude: invalid regular expression"},
        ValidationCase{R"({"collector":{"network":{"interface_include":"a("}}})",
                       "collector.network.interface_include"},
        ValidationCase{R"({"collector":{"filesystems":{"statfs_timeout":"0s"}}})",
                       "collector.filesystems.statfs_timeout"},
        ValidationCase{R"({"shipper":{"type":"splunk","endpoint":"http://h/"}})",
                       "shipper.type: unknown shipper type \"splunk\""},
        ValidationCase{R"({"shipper":{"endpoint":"http://h/"}})", "shipper.type: is required"},
        ValidationCase{R"({"shipper":{"type":"http_json"}})", "shipper.endpoint: is required"},
        ValidationCase{R"({"shipper":{"type":"http_json","endpoint":"ftp://h/"}})",
                       "shipper.endpoint: \"ftp://h/\" unsupported scheme"},
        ValidationCase{R"({"shipper":{"type":"http_json","endpoint":"collector:9090"}})",
                       "shipper.endpoint: \"collector:9090\" is not a URL"},
        ValidationCase{R"({"shipper":{"type":"http_json","endpoint":"http://:80/"}})",
                       "shipper.endpoint: \"http://:80/\" has no host"},
        ValidationCase{R"({"shipper":{"type":"http_json","endpoint":"http://h:99999/"}})",
                       "has an invalid port"},
        ValidationCase{R"({"shipper":{"type":"http_json","endpoint":"http://h /"}})", "whitespace"},
        ValidationCase{Shipper(R"("timeout":"11m")"), "shipper.timeout: must be between"},
        ValidationCase{Shipper(R"("tls":{"ca_file":"/nonexistent/ca.pem"})"),
                       "shipper.tls.ca_file: cannot read \"/nonexistent/ca.pem\""},
        ValidationCase{
            Shipper(R"("tls":{"cert_file":"/nonexistent/c.pem","key_file":"/nonexistent/k.pem"})"),
            "shipper.tls.cert_file: cannot read"},
        ValidationCase{Shipper(R"("tls":{"cert_file":"/etc/hostname"})"),
                       "shipper.tls.key_file: is required when cert_file is set"},
        ValidationCase{Shipper(R"("tls":{"key_file":"/etc/hostname"})"),
                       "shipper.tls.cert_file: is required when key_file is set"},
        ValidationCase{Shipper(R"("tls":{"min_version":"TLS1.5"})"),
                       "shipper.tls.min_version: unknown TLS version \"TLS1.5\""},
        ValidationCase{Shipper(R"("tls":{"max_version":"SSL3"})"),
                       "shipper.tls.max_version: unknown TLS version"},
        ValidationCase{Shipper(R"("tls":{"min_version":"TLS1.3","max_version":"TLS1.2"})"),
                       "shipper.tls.min_version: TLS1.3 is higher than max_version TLS1.2"},
        ValidationCase{Shipper(R"("tls":{"cipher_suites":"TLS_AES_128_GCM_SHA256"})"),
                       "shipper.tls.cipher_suites: expected an array"},
        ValidationCase{Shipper(R"("tls":{"cipher_suites":[""]})"),
                       "shipper.tls.cipher_suites[0]: is empty"},
        ValidationCase{Shipper(R"("tls":{"enabled":"true"})"),
                       "shipper.tls.enabled: expected true or false"},
        ValidationCase{Shipper(R"("basic_auth":{"password":"p"})"),
                       "shipper.basic_auth.username: is required"},
        ValidationCase{
            Shipper(
                R"("basic_auth":{"username":"u","password":"p","password_file":"/etc/hostname"})"),
            "set password or password_file, not both"},
        ValidationCase{Shipper(R"("bearer_token":"a","bearer_token_file":"/etc/hostname")"),
                       "set bearer_token or bearer_token_file"},
        ValidationCase{Shipper(R"("bearer_token_file":"/nonexistent/t")"),
                       "shipper.bearer_token_file: cannot read"},
        ValidationCase{Shipper(R"("headers":{"Bad Header":"x"})"),
                       "shipper.headers.Bad Header: is not a valid header name"},
        ValidationCase{Shipper(R"("max_samples_per_request":0)"),
                       "shipper.max_samples_per_request"},
        ValidationCase{Shipper(R"("queue":{"max_disk_bytes":10})"), "shipper.queue.max_disk_bytes"},
        ValidationCase{Shipper(R"("queue":{"min_backoff":"10s","max_backoff":"1s"})"),
                       "shipper.queue.max_backoff"},
        ValidationCase{Shipper(R"("queue":{"fsync_interval":"2h"})"),
                       "shipper.queue.fsync_interval: must be between 0s and 1h"},
        ValidationCase{R"({"shippers":[{"type":"http_json","endpoint":"http://a/"}]})",
                       "shippers[0].name: \"\" must be non-empty"},
        ValidationCase{
            R"({"shippers":[{"name":"a","type":"http_json","endpoint":"http://a/"},{"name":"a","type":"http_json","endpoint":"http://b/"}]})",
            "shippers[1].name: duplicate shipper name \"a\""},
        ValidationCase{
            R"({"shippers":[{"name":"../x","type":"http_json","endpoint":"http://a/"}]})",
            "shippers[0].name"},
        ValidationCase{R"({"shippers":{}})", "shippers: expected an array"},
        ValidationCase{R"({"endpoints":[{"url":"http://a/"}]})", "endpoints[0].name: is required"},
        ValidationCase{
            R"({"endpoints":[{"name":"a","url":"http://a/"},{"name":"a","url":"http://b/"}]})",
            "endpoints[1].name: duplicate endpoint name \"a\""},
        ValidationCase{R"({"endpoints":[{"name":"a"}]})", "endpoints[0].url: is required"},
        ValidationCase{R"({"endpoints":[{"name":"a","url":"localhost:3000"}]})",
                       "endpoints[0].url"},
        ValidationCase{R"({"endpoints":[{"name":"a","url":"http://a/","format":"xml"}]})",
                       "endpoints[0].format: unknown format \"xml\""},
        ValidationCase{R"({"endpoints":[{"name":"a","url":"http://a/","metric_prefix":"9x"}]})",
                       "endpoints[0].metric_prefix"},
        ValidationCase{
            R"({"endpoints":[{"name":"a","url":"http://a/","labels":{"bad-name":"x"}}]})",
            "endpoints[0].labels.bad-name"},
        ValidationCase{
            R"({"endpoints":[{"name":"a","url":"http://a/","labels":{"endpoint":"x"}}]})",
            "endpoints[0].labels.endpoint"},
        ValidationCase{R"({"endpoints":[{"name":"a","url":"http://a/","timeout":"0s"}]})",
                       "endpoints[0].timeout"},
        ValidationCase{R"({"endpoints":[{"name":"a","url":"http://a/","interval":"0s"}]})",
                       "endpoints[0].interval"},
        ValidationCase{R"({"endpoints":[{"name":"a","url":"http://a/","max_body_bytes":1}]})",
                       "endpoints[0].max_body_bytes"},
        ValidationCase{
            R"({"endpoints":[{"name":"a","url":"http://a/","tls":{"min_version":"x"}}]})",
            "endpoints[0].tls.min_version"},
        ValidationCase{R"({"endpoints":{}})", "endpoints: expected an array"},
        ValidationCase{R"({"global_labels":{"__x":"a"}})",
                       "global_labels.__x: is not a valid label name"},
        ValidationCase{R"({"global_labels":{"a":""}})", "global_labels.a: must not be empty"},
        ValidationCase{R"({"global_labels":{"a":1}})", "global_labels.a: expected a string"},
        ValidationCase{R"({"hostname_label":1})", "hostname_label: expected true or false"},
        ValidationCase{R"({"log_level":"verbose"})", "log_level: unknown level \"verbose\""},
        ValidationCase{R"({"log_format":"xml"})", "log_format: unknown format \"xml\""}));

TEST(Validation, ReportsEveryErrorAtOnce) {
  std::string error = MustFail(R"({"server":{"port":0},"collector":{"interval_seconds":0}})");
  EXPECT_THAT(error, HasSubstr("server.port"));
  EXPECT_THAT(error, HasSubstr("collector.interval_seconds"));
}

TEST(Validation, ServerSecurityErrorsNameTheirKey) {
  TempFile cert("cert"), key("key"), ca("ca");
  const std::string files =
      R"("cert_file":")" + cert.path() + R"(","key_file":")" + key.path() + R"(")";
  // A plaintext password is refused, and not echoed into the log.
  std::string plain = MustFail(R"({"server":{"basic_auth_users":{"prom":"hunter2"}}})");
  EXPECT_THAT(plain, HasSubstr("server.basic_auth_users.prom: must be a bcrypt hash"));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(
      MustFail(R"({"server":{"basic_auth_users":{"a:b":")" + std::string(kBcryptHash) + R"("}}})"),
      HasSubstr("contain no ':'"));
  // A truncated hash and one of another scheme ($6$ is SHA-512 crypt).
  EXPECT_THAT(MustFail(R"({"server":{"basic_auth_users":{"p":")" +
                       std::string(kBcryptHash.substr(0, 59)) + R"("}}})"),
              HasSubstr("server.basic_auth_users.p"));
  EXPECT_THAT(MustFail(R"({"server":{"basic_auth_users":{"p":"$6$salt$abc"}}})"),
              HasSubstr("server.basic_auth_users.p"));
  EXPECT_THAT(MustFail(R"({"server":{"tls":{"cert_file":")" + cert.path() + R"("}}})"),
              HasSubstr("server.tls.key_file: is required"));
  EXPECT_THAT(MustFail(R"({"server":{"tls":{"client_ca_file":")" + ca.path() + R"("}}})"),
              HasSubstr("server.tls.cert_file: is required for client certificates"));
  EXPECT_THAT(MustFail(R"({"server":{"tls":{)" + files + R"(,"client_auth_type":"Maybe"}}})"),
              HasSubstr("server.tls.client_auth_type: unknown value \"Maybe\""));
  EXPECT_THAT(MustFail(R"({"server":{"tls":{)" + files +
                       R"(,"client_auth_type":"RequireAndVerifyClientCert"}}})"),
              HasSubstr("server.tls.client_ca_file: is required"));
  EXPECT_THAT(MustFail(R"({"server":{"tls":{"cert_file":"/nonexistent/c","key_file":")" +
                       key.path() + R"("}}})"),
              HasSubstr("server.tls.cert_file: cannot read \"/nonexistent/c\""));
  EXPECT_THAT(MustFail(R"({"server":{"tls":{)" + files + R"(,"min_version":"SSL3"}}})"),
              HasSubstr("server.tls.min_version"));
}

TEST(Validation, ServerSecurityDefaultsAndWarnings) {
  TempFile cert("cert"), key("key"), ca("ca");
  Config c = MustLoad(R"({"server":{"tls":{"cert_file":")" + cert.path() + R"(","key_file":")" +
                      key.path() + R"(","client_ca_file":")" + ca.path() + R"("}}})");
  // A client CA without a policy means mTLS.
  EXPECT_EQ(c.server.tls.effective_client_auth(), ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(Config{}.server.tls.effective_client_auth(), ClientAuth::kNoClientCert);
  auto clear =
      LoadWith(R"({"server":{"basic_auth_users":{"p":")" + std::string(kBcryptHash) + R"("}}})");
  ASSERT_TRUE(clear.ok());
  ASSERT_EQ(clear->warnings.size(), 1u);
  EXPECT_THAT(clear->warnings[0], HasSubstr("clear text"));
  std::string rendered = RenderEffectiveConfig(clear->config);
  EXPECT_THAT(rendered, ::testing::Not(HasSubstr(std::string(kBcryptHash))));
  EXPECT_THAT(rendered, HasSubstr("basic_auth_users"));
  auto pointless = LoadWith(R"({"server":{"probes_skip_auth":true}})");
  ASSERT_TRUE(pointless.ok());
  ASSERT_EQ(pointless->warnings.size(), 1u);
  EXPECT_THAT(pointless->warnings[0], HasSubstr("probes_skip_auth"));
}

TEST(Validation, ServerOnlyTlsIsValid) {
  TempFile ca("ca");
  Config c = MustLoad(Shipper(R"("tls":{"enabled":true,"ca_file":")" + ca.path() + R"("})"));
  EXPECT_TRUE(c.shippers[0].tls.enabled);
  EXPECT_TRUE(c.shippers[0].tls.cert_file.empty());
}

TEST(Validation, InsecureSkipVerifyWarnsLoudly) {
  auto loaded = LoadWith(Shipper(R"("tls":{"enabled":true,"insecure_skip_verify":true})"));
  ASSERT_TRUE(loaded.ok());
  ASSERT_FALSE(loaded->warnings.empty());
  EXPECT_THAT(loaded->warnings[0], HasSubstr("NOT verified"));
}

TEST(Syntax, BadJsonAndNonObjects) {
  EXPECT_THAT(MustFail(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(MustFail("{} x"), HasSubstr("not valid JSON"));
  EXPECT_THAT(MustFail("[]"), HasSubstr("must be a JSON object"));
}

TEST(Files, MissingFileIsAnError) {
  auto loaded = LoadFromFile("/nonexistent/metricsd.json");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error(), HasSubstr("/nonexistent/metricsd.json"));
}

TEST(Render, RedactsSecrets) {
  TempFile pw("pw");
  Config c = MustLoad(Shipper(R"("basic_auth":{"username":"alice","password":"hunter2"},
                                  "headers":{"Authorization":"Bearer abc","X-Scope-OrgID":"t1"})"));
  std::string text = RenderEffectiveConfig(c);
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, Not(HasSubstr("Bearer abc")));
  EXPECT_THAT(text, HasSubstr("alice"));
  EXPECT_THAT(text, HasSubstr("t1"));
  EXPECT_THAT(text, HasSubstr("<redacted>"));
  // The rendering is itself a loadable configuration shape for the main sections.
  EXPECT_THAT(text, HasSubstr("\"interval_seconds\": 60"));
}

TEST(Render, HidesUrlPasswordsAndCustomHeaderValues) {
  Config c = MustLoad(R"({
    "shipper": {"type": "prometheus_remote_write",
                "endpoint": "https://alice:hunter2@h:9090/api/v1/write",
                "headers": {"X-Api-Key": "key-aaa", "X-Honeycomb-Team": "team-bbb",
                            "Signature": "sig-ccc", "X-Scope-OrgID": "tenant-1"}},
    "endpoints": [{"name": "app", "url": "http://bob:pw-ddd@127.0.0.1:9100/metrics"}]})");
  std::string text = RenderEffectiveConfig(c);
  for (const char* secret : {"hunter2", "key-aaa", "team-bbb", "sig-ccc", "pw-ddd"}) {
    EXPECT_THAT(text, Not(HasSubstr(secret))) << text;
  }
  EXPECT_THAT(text, HasSubstr("https://alice:<redacted>@h:9090/api/v1/write"));
  EXPECT_THAT(text, HasSubstr("http://bob:<redacted>@127.0.0.1:9100/metrics"));
  EXPECT_THAT(text, HasSubstr("tenant-1"));  // a known non-secret header stays readable
}

TEST(Render, SurvivesValuesThatAreNotUtf8) {
  Config c = MustLoad("{}", {{"MC_SERVER_HOST", "host\xff"}});
  EXPECT_NO_THROW(RenderEffectiveConfig(c));
}

TEST(Validation, ErrorsDoNotPrintUrlPasswords) {
  std::string error = MustFail(R"({"shipper":{"type":"prometheus_remote_write",
      "endpoint":"https://alice:hunter2@h:99999/write"},
      "endpoints":[{"name":"a","url":"ftp://bob:pw-ddd@h/metrics"}]})");
  EXPECT_THAT(error, HasSubstr("shipper.endpoint: \"https://alice:<redacted>@h:99999/write\""));
  EXPECT_THAT(error, HasSubstr("endpoints[0].url"));
  EXPECT_THAT(error, Not(HasSubstr("hunter2")));
  EXPECT_THAT(error, Not(HasSubstr("pw-ddd")));
}

TEST(Validation, TlsEnabledOverPlainHttpWithCredentialsIsAnError) {
  const std::string tls = R"("tls":{"enabled":true})";
  auto shipper = [&](const std::string& endpoint, const std::string& extra) {
    return R"({"shipper":{"type":"prometheus_remote_write","endpoint":")" + endpoint + R"(",)" +
           tls + extra + "}}";
  };
  EXPECT_THAT(MustFail(shipper("http://h:9090/write", R"(,"bearer_token":"t")")),
              HasSubstr("shipper.endpoint: is plain http:// but tls.enabled is true"));
  EXPECT_THAT(
      MustFail(shipper("http://h:9090/write", R"(,"basic_auth":{"username":"u","password":"p"})")),
      HasSubstr("shipper.endpoint: is plain http://"));
  EXPECT_THAT(MustFail(shipper("http://u:p@h:9090/write", "")),
              HasSubstr("shipper.endpoint: is plain http://"));
  EXPECT_THAT(MustFail(R"({"endpoints":[{"name":"a","url":"HTTP://h/metrics",)" + tls +
                       R"(,"headers":{"X-Api-Key":"k"}}]})"),
              HasSubstr("endpoints[0].url: is plain http://"));
  // Nothing secret to leak: still valid (the shipper factory warns that TLS is unused).
  MustLoad(shipper("http://h:9090/write", R"(,"headers":{"X-Scope-OrgID":"t1"})"));
  MustLoad(shipper("https://h:9090/write", R"(,"bearer_token":"t")"));
}

TEST(Syntax, NumberBeyondDoubleNamesFileAndKey) {
  EXPECT_THAT(MustFail(R"({"server":{"port":1e400}})"), HasSubstr("test.json: server.port: "));
  EXPECT_THAT(MustFail(R"({"endpoints":[{"name":"a","url":"http://h/"},
                                        {"name":"b","max_body_bytes":-1e999}]})"),
              HasSubstr("test.json: endpoints[1].max_body_bytes: "));
}

TEST(Syntax, IntegersBeyondInt64AreOutOfRange) {
  EXPECT_THAT(MustFail(R"({"server":{"port":9223372036854775808}})"),
              HasSubstr("server.port: value 9223372036854775808 is out of range"));
  EXPECT_THAT(MustFail(Shipper(R"("timeout":18446744073709551615)")),
              HasSubstr("shipper.timeout: value 18446744073709551615 is out of range"));
}

// Every key of the option table, given a number beyond double or a value of a wrong type,
// fails with a message naming the file and the key; nothing throws.
TEST(Syntax, EveryKeyRejectsOverflowAndWrongTypesByName) {
  for (const OptionInfo& o : AllOptions()) {
    // An array is the right type for a list key ([1] is a valid hold_on_status type):
    // give those an object instead.
    for (const std::string& value :
         {std::string("1e400"), std::string(o.type == "list" ? "{\"a\":1}" : "[1]")}) {
      // "endpoints[].url" becomes {"endpoints":[{"url":V}]}, reported as endpoints[0].url.
      std::vector<std::string> parts;
      std::string key(o.key);
      for (std::size_t start = 0; start <= key.size();) {
        std::size_t dot = std::min(key.find('.', start), key.size());
        parts.push_back(key.substr(start, dot - start));
        start = dot + 1;
      }
      std::string json = value;
      std::string expected_key;
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        std::string name = *it;
        if (name.ends_with("[]")) {
          name.resize(name.size() - 2);
          json = "[" + json + "]";
        }
        json = "{\"" + name + "\":" + json + "}";
      }
      for (const std::string& part : parts) {
        expected_key += (expected_key.empty() ? "" : ".") +
                        (part.ends_with("[]") ? part.substr(0, part.size() - 2) + "[0]" : part);
      }
      Result<Loaded> loaded = Loaded{};
      ASSERT_NO_THROW(loaded = LoadWith(json)) << json;
      ASSERT_FALSE(loaded.ok()) << json;
      EXPECT_THAT(loaded.error(), HasSubstr("test.json")) << json;
      EXPECT_THAT(loaded.error(), HasSubstr(expected_key)) << json;
    }
  }
}

TEST(Environment, OverflowingNumbersNameTheVariable) {
  EXPECT_THAT(MustFail("{}", {{"MC_SERVER_PORT", "99999999999999999999"}}),
              HasSubstr("MC_SERVER_PORT"));
  EXPECT_THAT(MustFail("{}", {{"MC_COLLECTOR_INTERVAL", "99999999999999999999"}}),
              HasSubstr("MC_COLLECTOR_INTERVAL"));
  EXPECT_THAT(MustFail(Shipper(""), {{"MC_SHIPPER_TIMEOUT", "9223372036854775808ns"}}),
              HasSubstr("MC_SHIPPER_TIMEOUT"));
  EXPECT_THAT(MustFail(Shipper(""), {{"MC_SHIPPER_TIMEOUT", "1e400s"}}),
              HasSubstr("MC_SHIPPER_TIMEOUT"));
}

// The five Prometheus scrape limits, in the order of ScrapeLimits.
constexpr const char* kLimitKeys[] = {"sample_limit", "label_limit", "label_name_length_limit",
                                      "label_value_length_limit", "line_length_limit"};

std::vector<std::size_t> LimitValues(const ScrapeLimits& l) {
  return {l.sample_limit, l.label_limit, l.label_name_length_limit, l.label_value_length_limit,
          l.line_length_limit};
}

TEST(ScrapeLimits, DefaultsAreThePrometheusLikeOnes) {
  Config c = MustLoad(R"({"endpoints":[{"name":"a","url":"http://a/"}]})");
  const std::vector<std::size_t> expected = {200'000, 64, 256, 4096, 65536};
  EXPECT_EQ(LimitValues(c.scrape_limits), expected);
  EXPECT_EQ(LimitValues(c.endpoints[0].limits), expected);
}

TEST(ScrapeLimits, EachGlobalKeyIsReadAndInheritedByEndpoints) {
  for (std::size_t i = 0; i < std::size(kLimitKeys); ++i) {
    SCOPED_TRACE(kLimitKeys[i]);
    Config c = MustLoad(std::string(R"({"scrape":{")") + kLimitKeys[i] +
                        R"(":7},"endpoints":[{"name":"a","url":"http://a/"}]})");
    std::vector<std::size_t> expected = LimitValues(ScrapeLimits{});
    expected[i] = 7;
    EXPECT_EQ(LimitValues(c.scrape_limits), expected);
    EXPECT_EQ(LimitValues(c.endpoints[0].limits), expected);
  }
  // 0 turns a limit off, as in Prometheus.
  EXPECT_EQ(MustLoad(R"({"scrape":{"sample_limit":0}})").scrape_limits.sample_limit, 0u);
}

// Endpoints take the global limits while the file is read, before the environment: an
// MC_* variable for a scrape.* key would not reach them.
TEST(ScrapeLimits, GlobalKeysHaveNoEnvironmentVariable) {
  for (const OptionInfo& o : AllOptions()) {
    if (o.key.starts_with("scrape.")) {
      EXPECT_TRUE(o.env.empty()) << o.key;
    }
  }
}

TEST(ScrapeLimits, EachEndpointKeyOverridesOnlyItsEndpoint) {
  for (std::size_t i = 0; i < std::size(kLimitKeys); ++i) {
    SCOPED_TRACE(kLimitKeys[i]);
    Config c = MustLoad(std::string(R"({"scrape":{"sample_limit":1000,"label_limit":10},
        "endpoints":[{"name":"a","url":"http://a/"},{"name":"b","url":"http://b/",")") +
                        kLimitKeys[i] + R"(":3}]})");
    std::vector<std::size_t> global = LimitValues(ScrapeLimits{});
    global[0] = 1000;
    global[1] = 10;
    std::vector<std::size_t> overridden = global;
    overridden[i] = 3;
    EXPECT_EQ(LimitValues(c.scrape_limits), global);
    EXPECT_EQ(LimitValues(c.endpoints[0].limits), global);
    EXPECT_EQ(LimitValues(c.endpoints[1].limits), overridden);
  }
}

TEST(ScrapeLimits, NegativeAndWrongTypesAreRefusedByKeyPath) {
  for (const char* key : kLimitKeys) {
    SCOPED_TRACE(key);
    const std::string global = std::string(R"({"scrape":{")") + key + R"(":)";
    const std::string endpoint =
        std::string(
            R"({"endpoints":[{"name":"a","url":"http://a/"},{"name":"b","url":"http://b/",")") +
        key + R"(":)";
    const std::string global_path = std::string("scrape.") + key + ": ";
    const std::string endpoint_path = std::string("endpoints[1].") + key + ": ";
    EXPECT_THAT(MustFail(global + "-1}}"), HasSubstr(global_path + "must not be negative, got -1"));
    EXPECT_THAT(MustFail(endpoint + "-5}]}"),
                HasSubstr(endpoint_path + "must not be negative, got -5"));
    EXPECT_THAT(MustFail(global + "\"10\"}}"),
                HasSubstr(global_path + "expected an integer, got a string"));
    EXPECT_THAT(MustFail(endpoint + "1.5}]}"),
                HasSubstr(endpoint_path + "expected an integer, got a number with a fraction"));
    EXPECT_THAT(MustFail(endpoint + "true}]}"),
                HasSubstr(endpoint_path + "expected an integer, got a boolean"));
  }
  EXPECT_THAT(MustFail(R"({"scrape":5})"), HasSubstr("scrape: expected an object, got an integer"));
}

TEST(ScrapeLimits, UnknownKeysWarnAndCheckConfigShowsTheEffectiveLimits) {
  auto loaded = LoadWith(R"({"scrape":{"sample_limits":1},
      "endpoints":[{"name":"a","url":"http://a/","label_limit":9,"Sample_limit":1}]})");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_EQ(loaded->warnings.size(), 2u);
  EXPECT_THAT(loaded->warnings[0], HasSubstr("\"endpoints[0].Sample_limit\""));
  EXPECT_THAT(loaded->warnings[0], HasSubstr("did you mean \"sample_limit\""));
  EXPECT_THAT(loaded->warnings[1], HasSubstr("\"scrape.sample_limits\""));
  std::string text = RenderEffectiveConfig(loaded->config);
  EXPECT_THAT(text, HasSubstr("\"label_limit\": 9"));
  EXPECT_THAT(text, HasSubstr("\"sample_limit\": 200000"));
}

}  // namespace
TEST(MetricRelabelConfigs, RulesAreReadWithPrometheusDefaults) {
  Config c = MustLoad(R"({"endpoints":[{"name":"a","url":"http://a/","metric_relabel_configs":[
      {"source_labels":["__name__","code"],"regex":"http_.*;5..","action":"drop"},
      {"target_label":"team","replacement":"infra"},
      {"source_labels":["instance"],"modulus":4,"target_label":"__tmp_hash","action":"hashmod"}]}]})");
  ASSERT_EQ(c.endpoints.size(), 1u);
  const std::vector<RelabelRule>& rules = c.endpoints[0].metric_relabel_configs;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].source_labels, (std::vector<std::string>{"__name__", "code"}));
  EXPECT_EQ(rules[0].regex, "http_.*;5..");
  EXPECT_EQ(rules[0].action, "drop");
  EXPECT_EQ(rules[0].separator, ";");
  EXPECT_EQ(rules[1].action, "replace");
  EXPECT_EQ(rules[1].regex, "(.*)");
  EXPECT_EQ(rules[1].replacement, "infra");
  EXPECT_EQ(rules[2].modulus, 4u);
  // No rules: nothing changes.
  EXPECT_TRUE(MustLoad(R"({"endpoints":[{"name":"a","url":"http://a/"}]})")
                  .endpoints[0]
                  .metric_relabel_configs.empty());
}

TEST(MetricRelabelConfigs, WriteRulesBelongToEachShipper) {
  Config c = MustLoad(R"({"shippers":[
      {"name":"a","type":"prometheus_remote_write","endpoint":"http://a/"},
      {"name":"b","type":"prometheus_remote_write","endpoint":"http://b/",
       "write_relabel_configs":[{"source_labels":["__name__"],"regex":"go_.*","action":"drop"}]}]})");
  ASSERT_EQ(c.shippers.size(), 2u);
  EXPECT_TRUE(c.shippers[0].write_relabel_configs.empty());
  ASSERT_EQ(c.shippers[1].write_relabel_configs.size(), 1u);
  EXPECT_EQ(c.shippers[1].write_relabel_configs[0].action, "drop");
  EXPECT_THAT(MustFail(R"({"shippers":[{"name":"a","type":"prometheus_remote_write",
      "endpoint":"http://a/","write_relabel_configs":[{"regex":"("}]}]})"),
              HasSubstr("shippers[0].write_relabel_configs[0].regex"));
  EXPECT_THAT(MustFail(R"({"shipper":{"type":"prometheus_remote_write","endpoint":"http://a/",
      "write_relabel_configs":[{"action":"nope"}]}})"),
              HasSubstr("shipper.write_relabel_configs[0].action"));
}

TEST(MetricRelabelConfigs, ABadRuleIsRefusedNamingItsKeyPath) {
  auto with = [](const std::string& rules) {
    return R"({"endpoints":[{"name":"a","url":"http://a/"},{"name":"b","url":"http://b/",
        "metric_relabel_configs":)" +
           rules + "}]}";
  };
  EXPECT_THAT(MustFail(with(R"([{"action":"keep","source_labels":["x"]},{"regex":"(a"}])")),
              HasSubstr("endpoints[1].metric_relabel_configs[1].regex: error parsing regexp"));
  EXPECT_THAT(MustFail(with(R"([{"action":"explode"}])")),
              HasSubstr("endpoints[1].metric_relabel_configs[0].action:"));
  EXPECT_THAT(MustFail(with(R"([{"action":"hashmod","target_label":"h","source_labels":["a"]}])")),
              HasSubstr("endpoints[1].metric_relabel_configs[0].modulus:"));
  EXPECT_THAT(MustFail(with(R"([{"sourcelabels":["a"]}])")),
              HasSubstr("endpoints[1].metric_relabel_configs[0].sourcelabels: unknown field"));
  EXPECT_THAT(MustFail(with(R"([{"modulus":-1}])")),
              HasSubstr("endpoints[1].metric_relabel_configs[0].modulus: expected a non-negative"));
  EXPECT_THAT(MustFail(with(R"({"action":"drop"})")),
              HasSubstr("endpoints[1].metric_relabel_configs: expected an array of relabel rules"));
  EXPECT_THAT(MustFail(with(R"([{"source_labels":"a"}])")),
              HasSubstr("endpoints[1].metric_relabel_configs[0].source_labels: expected an array"));
}

}  // namespace metricsd::config
