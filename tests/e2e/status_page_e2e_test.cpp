// End-to-end: the status page the way a person sees it. The real metricsd binary runs with a
// scrape target that answers 500, one shipper whose receiver is down (connection refused) and
// one whose receiver answers 401 to everything (so that queue holds). Headless Chromium opens
// "/" and its DOM must show the target's error and the held queue; its screenshot is kept as
// a test artefact (build/test-artifacts/status-page.png). The JSON form is checked over plain
// HTTP. Skipped only when the chromium binary is absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/local_http_server.h"
#include "support/process.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;
using testing::WaitFor;

// A loopback HTTP server answering every GET and POST with one status and body.
class FixedAnswerServer {
 public:
  FixedAnswerServer(int status, std::string body) {
    auto answer = [status, body](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, "text/plain");
    };
    server_.http().Get(".*", answer);
    server_.http().Post(".*", answer);
    server_.Start();
  }
  std::string url(const std::string& path) const { return server_.url(path); }

 private:
  testing::LocalHttpServer server_;
};

std::string Shipper(const std::string& name, const std::string& url) {
  return R"({"name":")" + name + R"(","type":"prometheus_remote_write","endpoint":")" + url +
         R"(","timeout":"2s","queue":{"min_backoff":"200ms","max_backoff":"2s"}})";
}

// Runs headless Chromium on `url` with `args`, bounded by timeout(1) and killed by PID if
// even that hangs; returns its stdout.
std::string RunChromium(const std::string& chromium, const TempDir& profile_parent,
                        const std::string& name, const std::vector<std::string>& args,
                        const std::string& url) {
  std::vector<std::string> argv = {"-k",
                                   "10",
                                   "60",
                                   chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--disable-background-networking",
                                   "--disable-extensions",
                                   "--no-first-run",
                                   "--no-proxy-server",
                                   "--user-data-dir=" + profile_parent.path() + "/" + name};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  ChildProcess browser(testing::FindBinary("timeout"), argv, testing::MetricsdTestEnv(),
                       profile_parent.path());
  std::optional<int> status = browser.Wait(90s);
  EXPECT_EQ(status, 0) << browser.Stderr();
  return browser.Stdout();
}

TEST(StatusPageE2e, ChromiumShowsTheFailingTargetAndTheHeldQueue) {
  const std::string chromium = testing::FindBinary("chromium");
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed";
  }
  FixedAnswerServer target(500, "boom");
  FixedAnswerServer refusing(401, "bad credentials");
  const std::string down = "http://127.0.0.1:" + std::to_string(testing::FreePort()) + "/write";
  TempDir dir;
  const int port = testing::FreePort();
  const std::string config = dir.Write(
      "c.json", R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
                    R"(},"collector":{"interval_seconds":1},"data_dir":")" + dir.path() +
                    R"(/data","endpoints":[{"name":"failing-app","url":")" +
                    target.url("/metrics") + R"("}],"shippers":[)" + Shipper("down", down) + "," +
                    Shipper("refused", refusing.url("/api/v1/write")) + "]}");
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, testing::MetricsdTestEnv(), dir.path());

  // The JSON form, over plain HTTP, once every failure has shown up.
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  nlohmann::json status;
  auto shipper = [&](const std::string& name) {
    for (const nlohmann::json& s : status["shippers"]) {
      if (s["name"] == name) {
        return s;
      }
    }
    return nlohmann::json();
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = client.Get("/", {{"Accept", "application/json"}});
        if (!res || res->status != 200) {
          return false;
        }
        status = nlohmann::json::parse(res->body, nullptr, false);
        return !status.is_discarded() && status["targets"].size() == 1 &&
               status["targets"][0]["last_error"] == "HTTP status 500" &&
               shipper("refused")["held"] == true &&
               !shipper("down")["last_error"].get<std::string>().empty() &&
               shipper("down")["pending_samples"].get<long long>() > 0;
      },
      30s))
      << status.dump(2) << daemon.Stderr();
  auto res = client.Get("/", {{"Accept", "application/json"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  for (const char* section : {"version", "uptime_seconds", "ready", "config", "collectors",
                              "collection_seconds_history", "targets", "shippers"}) {
    EXPECT_TRUE(status.contains(section)) << section;
  }
  EXPECT_EQ(status["targets"][0]["up"], false);
  EXPECT_EQ(shipper("refused")["state"], "held");
  EXPECT_EQ(shipper("down")["held"], false);
  EXPECT_EQ(status["config"]["shippers"].size(), 2U);

  // What a person sees: the DOM as Chromium built it, and a screenshot.
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const std::string dom = RunChromium(chromium, dir, "dom", {"--dump-dom"}, url);
  EXPECT_THAT(dom, HasSubstr("<h1>metricsd</h1>"));
  EXPECT_THAT(dom, HasSubstr("failing-app"));
  EXPECT_THAT(dom, HasSubstr("HTTP status 500"));
  EXPECT_THAT(dom, HasSubstr("refused <span class=\"state bad\">held</span>"));
  EXPECT_THAT(dom, HasSubstr("Queue held"));
  EXPECT_THAT(dom, HasSubstr("down <span class=\"state bad\">"));
  EXPECT_THAT(dom, HasSubstr("Couldn't connect to server"));
  EXPECT_THAT(dom, HasSubstr("<svg class=\"spark\""));

  const std::filesystem::path artifacts = METRICSD_TEST_ARTIFACTS_DIR;
  std::filesystem::create_directories(artifacts);
  const std::filesystem::path png = artifacts / "status-page.png";
  std::filesystem::remove(png);
  RunChromium(chromium, dir, "shot",
              {"--screenshot=" + png.string(), "--window-size=1280,1600", "--hide-scrollbars"},
              url);
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 20 * 1024U) << "an (almost) empty screenshot";
  EXPECT_EQ(testing::ReadFile(png.string()).substr(0, 8), "\x89PNG\r\n\x1a\n");
}

}  // namespace
}  // namespace metricsd
