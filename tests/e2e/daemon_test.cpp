// End-to-end tests of the real metricsd binary: start-up, /health, /metrics, reload,
// shutdown, exit codes.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "support/process.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpGet;
using testing::TempDir;
using testing::WaitFor;

const std::string kBinary = METRICSD_BINARY;

std::string ConfigJson(int port, int interval = 1, const std::string& extra = "") {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":)" + std::to_string(interval) + "}" + extra + "}";
}

// Environment that keeps the host's MC_* and HOST_* settings out of the test.
bool Serving(int port) { return HttpGet("127.0.0.1", port, "/health").status == 200; }

TEST(Daemon, ServesHealthAndMetrics) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", ConfigJson(port));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Serving(port); }, 10s)) << daemon.Stderr();

  auto health = HttpGet("127.0.0.1", port, "/health");
  EXPECT_EQ(health.headers["Content-Type"], "application/json");
  auto body = nlohmann::json::parse(health.body);
  EXPECT_EQ(body["status"], "healthy");
  EXPECT_TRUE(body["timestamp"].is_string());
  EXPECT_TRUE(body["uptime"].is_string());
  EXPECT_GE(body["uptime_seconds"].get<double>(), 0.0);
  EXPECT_TRUE(body["collectors"].is_object());
  EXPECT_TRUE(body["shippers"].is_object());

  auto head = HttpGet("127.0.0.1", port, "/health", "HEAD");
  EXPECT_EQ(head.status, 200);  // container health checks use HEAD (wget --spider)
  EXPECT_TRUE(head.body.empty());

  ASSERT_TRUE(WaitFor([&] { return HttpGet("127.0.0.1", port, "/ready").status == 200; }, 10s));
  auto metrics = HttpGet("127.0.0.1", port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE metricsd_build_info gauge"));
  EXPECT_THAT(metrics.body, HasSubstr("# HELP metricsd_collection_cycles_total"));
  EXPECT_THAT(metrics.body, HasSubstr("process_resident_memory_bytes "));
  EXPECT_EQ(HttpGet("127.0.0.1", port, "/metrics", "HEAD").status, 200);

  EXPECT_EQ(HttpGet("127.0.0.1", port, "/nope").status, 404);
  EXPECT_EQ(HttpGet("127.0.0.1", port, "/health", "POST").status, 405);

  daemon.Signal(SIGTERM);
  auto status = daemon.Wait(5s);
  ASSERT_TRUE(status.has_value()) << "did not stop on SIGTERM";
  EXPECT_EQ(*status, 0);
  EXPECT_THAT(daemon.Stderr(), HasSubstr("shutting down"));
}

// The collection thread carries its name, so `top -H` and per-thread CPU accounting can tell
// it from the server and shipper threads.
TEST(Daemon, CollectionThreadIsNamed) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", ConfigJson(port));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Serving(port); }, 10s)) << daemon.Stderr();
  auto names = [&] {
    std::vector<std::string> out;
    std::error_code ec;
    const std::string tasks = "/proc/" + std::to_string(daemon.pid()) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      out.push_back(name);
    }
    return out;
  };
  EXPECT_TRUE(WaitFor(
      [&] {
        std::vector<std::string> n = names();
        return std::find(n.begin(), n.end(), "md-collect") != n.end();
      },
      10s))
      << ::testing::PrintToString(names());
}

TEST(Daemon, ReloadsOnSighupAndKeepsRunningOnABadConfig) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", ConfigJson(port, 1));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Serving(port); }, 10s)) << daemon.Stderr();

  dir.Write("config.json", ConfigJson(port, 2, R"(,"global_labels":{"cluster":"eu1"})"));
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] { return daemon.Stderr().find("configuration reloaded") != std::string::npos; }, 5s))
      << daemon.Stderr();

  dir.Write("config.json", R"({"server":{"port":0},
      "endpoints":[{"name":"a","url":"http://u:hunter2@127.0.0.1:0/"}]})");
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(
      WaitFor([&] { return daemon.Stderr().find("reload failed") != std::string::npos; }, 5s))
      << daemon.Stderr();
  EXPECT_THAT(daemon.Stderr(), HasSubstr("server.port"));
  EXPECT_THAT(daemon.Stderr(), HasSubstr("endpoints[0].url"));
  EXPECT_THAT(daemon.Stderr(), Not(HasSubstr("hunter2")));
  EXPECT_TRUE(daemon.running());
  EXPECT_TRUE(Serving(port));

  daemon.Signal(SIGINT);
  EXPECT_EQ(daemon.Wait(5s), 0);
}

// Plays systemd's side of Type=notify with WatchdogSec: READY once serving, then keep-alives
// while every thread makes progress (an idle wait between cycles is progress).
TEST(Daemon, FeedsTheSystemdWatchdogWhileEveryThreadMakesProgress) {
  TempDir dir;
  const std::string socket_path = dir.path() + "/notify";
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof(addr.sun_path));
  socket_path.copy(addr.sun_path, socket_path.size());
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  auto receive = [&]() -> std::string {
    pollfd p{.fd = fd.get(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 5000) != 1) return "";
    char buf[4096];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  };
  int port = testing::FreePort();
  auto env = testing::MetricsdTestEnv();
  env["NOTIFY_SOCKET"] = socket_path;
  env["WATCHDOG_USEC"] = "400000";  // a kick every 100 ms
  // A 60 s interval: the collection thread spends the test waiting, which must still count.
  ChildProcess daemon(kBinary, {"-config", dir.Write("c.json", ConfigJson(port, 60))}, env,
                      dir.path());
  EXPECT_THAT(receive(), HasSubstr("READY=1"));
  int kicks = 0;
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    kicks += receive() == "WATCHDOG=1";
  }
  EXPECT_GE(kicks, 5) << daemon.Stderr();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(5s), 0);
}

TEST(Daemon, InvalidConfigExitsNonZeroBeforeBinding) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write(
      "config.json",
      ConfigJson(
          port, 1,
          R"(,"shipper":{"type":"prometheus_remote_write","endpoint":"http://h/","tls":{"min_version":"TLS1.9"}})"));
  auto started = std::chrono::steady_clock::now();
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  auto status = daemon.Wait(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);  // a normal exit with code 1, not a signal
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_THAT(daemon.Stderr(), HasSubstr("shipper.tls.min_version"));
  EXPECT_FALSE(Serving(port));
}

TEST(Daemon, NetworkModuleIsLoadedOnlyWhenNeededAndItsAbsenceIsNamed) {
  // A copy of the binary without metricsd-net.so beside it or in ../lib/metricsd.
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/bin");
  std::string binary = dir.path() + "/bin/metricsd";
  std::filesystem::copy_file(kBinary, binary);
  std::string pull = dir.Write("pull.json", ConfigJson(testing::FreePort()));
  ChildProcess pull_check(binary, {"-check-config", "-config", pull}, testing::MetricsdTestEnv(),
                          dir.path());
  EXPECT_EQ(pull_check.Wait(5s), 0) << pull_check.Stderr();

  std::string shipping = dir.Write(
      "shipping.json",
      ConfigJson(testing::FreePort(), 1,
                 R"(,"shipper":{"type":"prometheus_remote_write","endpoint":"http://h/"})"));
  ChildProcess check(binary, {"-check-config", "-config", shipping}, testing::MetricsdTestEnv(),
                     dir.path());
  EXPECT_EQ(check.Wait(5s), 3);
  EXPECT_THAT(check.Stderr(), HasSubstr(dir.path() + "/lib/metricsd/metricsd-net.so"));
  EXPECT_THAT(check.Stderr(), HasSubstr(dir.path() + "/bin/metricsd-net.so"));
}

TEST(Daemon, UnknownCipherOfAScrapeTargetIsAConfigError) {
  TempDir dir;
  std::string config =
      dir.Write("c.json", R"({"endpoints":[{"name":"a","url":"https://127.0.0.1:1/metrics",
                    "tls":{"enabled":true,"cipher_suites":["TLS_BOGUS"]}}]})");
  ChildProcess check(kBinary, {"-check-config", "-config", config}, testing::MetricsdTestEnv(),
                     dir.path());
  EXPECT_EQ(check.Wait(5s), 1);
  EXPECT_THAT(check.Stderr(), HasSubstr("endpoints[0].tls.cipher_suites[0]"));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  EXPECT_EQ(daemon.Wait(5s), 1);
  EXPECT_THAT(daemon.Stderr(), HasSubstr("TLS_BOGUS"));
}

TEST(Daemon, UnparsableEnvironmentIsAnError) {
  TempDir dir;
  auto env = testing::MetricsdTestEnv();
  env["MC_SERVER_PORT"] = "eighty";
  ChildProcess daemon(kBinary, {"-config", dir.Write("c.json", "{}")}, env, dir.path());
  EXPECT_EQ(daemon.Wait(5s), 1);
  EXPECT_THAT(daemon.Stderr(), HasSubstr("MC_SERVER_PORT"));
}

TEST(Daemon, PortInUseIsAFatalStartupError) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", ConfigJson(port));
  ChildProcess first(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Serving(port); }, 10s)) << first.Stderr();
  ChildProcess second(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  EXPECT_EQ(second.Wait(5s), 3);
  EXPECT_THAT(second.Stderr(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
}

TEST(Daemon, EmbeddedDefaultWhenNoConfigExists) {
  TempDir dir;  // empty working directory: no config.json
  int port = testing::FreePort();
  auto env = testing::MetricsdTestEnv();
  env["MC_SERVER_PORT"] = std::to_string(port);
  env["MC_SERVER_HOST"] = "127.0.0.1";
  ChildProcess daemon(kBinary, {}, env, dir.path());
  ASSERT_TRUE(WaitFor([&] { return Serving(port); }, 10s)) << daemon.Stderr();
  std::string log = daemon.Stderr();
  std::string first_line = log.substr(0, log.find('\n'));
  EXPECT_THAT(first_line, HasSubstr("embedded default"));
  EXPECT_THAT(first_line, HasSubstr("pull mode"));
}

TEST(Daemon, ConfigJsonInWorkingDirectoryIsPickedUp) {
  TempDir dir;
  int port = testing::FreePort();
  dir.Write("config.json", ConfigJson(port));
  ChildProcess daemon(kBinary, {}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Serving(port); }, 10s)) << daemon.Stderr();
  EXPECT_THAT(daemon.Stderr(), HasSubstr("configuration config.json"));
}

TEST(Cli, CheckConfigPrintsRedactedConfig) {
  TempDir dir;
  std::string config = dir.Write(
      "c.json",
      R"({"shipper":{"type":"http_json","endpoint":"http://h/","basic_auth":{"username":"u","password":"hunter2"}},"colector":{}})");
  ChildProcess check(kBinary, {"-check-config", "-config", config}, testing::MetricsdTestEnv(),
                     dir.path());
  EXPECT_EQ(check.Wait(5s), 0);
  EXPECT_THAT(check.Stdout(), HasSubstr("\"endpoint\": \"http://h/\""));
  EXPECT_THAT(check.Stdout(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(check.Stderr(), HasSubstr("unknown configuration key \"colector\""));

  std::string bad = dir.Write("bad.json", R"({"collector":{"interval_seconds":-1}})");
  ChildProcess check_bad(kBinary, {"--check-config", "--config=" + bad}, testing::MetricsdTestEnv(),
                         dir.path());
  EXPECT_EQ(check_bad.Wait(5s), 1);
  EXPECT_THAT(check_bad.Stderr(), HasSubstr("collector.interval_seconds"));
}

TEST(Cli, CheckConfigHidesUrlPasswordsAndCustomHeaderValues) {
  TempDir dir;
  std::string config = dir.Write("c.json", R"({
    "shipper": {"type": "http_json", "endpoint": "https://u:hunter2@h/",
                "headers": {"X-Api-Key": "key-aaa", "X-Scope-OrgID": "tenant-1"}},
    "endpoints": [{"name": "a", "url": "http://v:pw-bbb@127.0.0.1:9/metrics"}]})");
  ChildProcess check(kBinary, {"-check-config", "-config", config}, testing::MetricsdTestEnv(),
                     dir.path());
  EXPECT_EQ(check.Wait(5s), 0) << check.Stderr();
  const std::string out = check.Stdout() + check.Stderr();
  for (const char* secret : {"hunter2", "key-aaa", "pw-bbb"}) {
    EXPECT_THAT(out, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(check.Stdout(), HasSubstr("\"endpoint\": \"https://u:<redacted>@h/\""));
  EXPECT_THAT(check.Stdout(), HasSubstr("tenant-1"));

  // An invalid URL is quoted in the error, without its password.
  std::string bad = dir.Write("bad.json", R"({"shipper":{"type":"http_json",
                                             "endpoint":"https://u:hunter2@h:0/"}})");
  ChildProcess check_bad(kBinary, {"-check-config", "-config", bad}, testing::MetricsdTestEnv(),
                         dir.path());
  EXPECT_EQ(check_bad.Wait(5s), 1);
  EXPECT_THAT(check_bad.Stderr(), HasSubstr("shipper.endpoint"));
  EXPECT_THAT(check_bad.Stderr(), Not(HasSubstr("hunter2")));
}

// A number beyond double (nlohmann throws out_of_range while parsing) or a wrong type is a
// configuration error: exit 1 naming the file and the key, never an uncaught exception.
TEST(Cli, CheckConfigOverflowAndWrongTypesExitOneNamingTheKey) {
  TempDir dir;
  for (const std::string& text : {std::string(R"({"server":{"port":1e400}})"),
                                  std::string(R"({"server":{"port":[8080]}})")}) {
    std::string config = dir.Write("c.json", text);
    ChildProcess check(kBinary, {"-check-config", "-config", config}, testing::MetricsdTestEnv(),
                       dir.path());
    EXPECT_EQ(check.Wait(5s), 1) << text << "\n" << check.Stderr();
    EXPECT_THAT(check.Stderr(), HasSubstr(config)) << text;
    EXPECT_THAT(check.Stderr(), HasSubstr("server.port")) << text;
  }
}

TEST(Cli, TlsEnabledOverPlainHttpWithCredentialsExitsOne) {
  TempDir dir;
  std::string config = dir.Write("c.json", R"({"endpoints":[{"name":"a",
      "url":"http://127.0.0.1:9/metrics","tls":{"enabled":true},
      "headers":{"X-Api-Key":"key-aaa"}}]})");
  ChildProcess check(kBinary, {"-check-config", "-config", config}, testing::MetricsdTestEnv(),
                     dir.path());
  EXPECT_EQ(check.Wait(5s), 1);
  EXPECT_THAT(check.Stderr(), HasSubstr("endpoints[0].url"));
}

TEST(Cli, OncePrintsOneCycleAndExits) {
  TempDir dir;
  std::string config = dir.Write("c.json", "{}");
  ChildProcess once(kBinary, {"-once", "-config", config}, testing::MetricsdTestEnv(), dir.path());
  EXPECT_EQ(once.Wait(20s), 0) << once.Stderr();
}

TEST(Cli, CollectorRelabelRulesShapeTheHostSamples) {
  TempDir dir;
  std::string config = dir.Write("c.json", R"({"collector":{"metric_relabel_configs":[
      {"source_labels":["__name__"],"regex":"system_memory_.*","action":"drop"},
      {"target_label":"rack","replacement":"r1"}]}})");
  ChildProcess once(kBinary, {"-once", "-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_EQ(once.Wait(20s), 0) << once.Stderr();
  std::size_t samples = 0;
  std::istringstream lines(once.Stdout());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    ++samples;
    EXPECT_FALSE(line.starts_with("system_memory_")) << line;
    EXPECT_THAT(line, HasSubstr("rack=\"r1\"")) << line;
  }
  EXPECT_GT(samples, 10u);
  EXPECT_THAT(once.Stdout(), HasSubstr("system_cpu_count{rack=\"r1\"}"));

  std::string bad = dir.Write("bad.json", R"({"collector":{"metric_relabel_configs":[
      {"target_label":"rack","replacement":"r1"},{"regex":"(","action":"drop",
      "source_labels":["a"]}]}})");
  ChildProcess check(kBinary, {"-check-config", "-config", bad}, testing::MetricsdTestEnv(),
                     dir.path());
  EXPECT_EQ(check.Wait(5s), 1);
  EXPECT_THAT(check.Stderr(), HasSubstr("collector.metric_relabel_configs[1].regex"));
}

TEST(Cli, VersionHelpAndUsageErrors) {
  ChildProcess version(kBinary, {"-version"});
  EXPECT_EQ(version.Wait(5s), 0);
  EXPECT_THAT(version.Stdout(), HasSubstr("metricsd "));
  ChildProcess help(kBinary, {"--help"});
  EXPECT_EQ(help.Wait(5s), 0);
  EXPECT_THAT(help.Stdout(), HasSubstr("-check-config"));
  ChildProcess bogus(kBinary, {"-bogus"});
  EXPECT_EQ(bogus.Wait(5s), 2);
  EXPECT_THAT(bogus.Stderr(), HasSubstr("flag provided but not defined: -bogus"));
  ChildProcess level(kBinary, {"-log-level", "loud"});
  EXPECT_EQ(level.Wait(5s), 2);
  EXPECT_THAT(level.Stderr(), HasSubstr("-log-level"));
}

TEST(Logging, JsonLinesWhenConfigured) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", ConfigJson(port, 1, R"(,"log_format":"json")"));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Serving(port); }, 10s)) << daemon.Stderr();
  std::string log = daemon.Stderr();
  std::string first_line = log.substr(0, log.find('\n'));
  auto line = nlohmann::json::parse(first_line);
  EXPECT_EQ(line["level"], "info");
  EXPECT_THAT(line["msg"].get<std::string>(), HasSubstr("starting"));
  EXPECT_THAT(log, Not(HasSubstr("\x1b[")));  // no colour codes when not a terminal
}

}  // namespace
}  // namespace metricsd
