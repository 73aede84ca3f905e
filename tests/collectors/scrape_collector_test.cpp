// ScrapeCollector against in-test servers on 127.0.0.1: the three formats, the target labels,
// and hostile servers (never answering, endless body, huge body, gzip bomb, malformed lines,
// 500, redirect loop, invalid UTF-8), plus a real prometheus-node-exporter when installed.
#include "collectors/scrape_collector.h"
#include "formats/prometheus_text_writer.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/clock.h"
#include "support/curl_environment.h"
#include "support/local_http_server.h"
#include "support/process.h"

namespace metricsd {
namespace {

::testing::Environment* const kCurlEnv =
    ::testing::AddGlobalTestEnvironment(new metricsd::testing::CurlEnvironment);

using namespace std::chrono_literals;

CollectContext Now() {
  return CollectContext{.steady_now = std::chrono::steady_clock::now(),
                        .wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count()};
}

// A cpp-httplib server with handlers set by the test.
using Server = metricsd::testing::LocalHttpServer;

// A raw TCP server for behaviour no HTTP library produces: each connection runs `handler`
// on its own thread until it returns or the server stops.
class RawServer {
 public:
  using Handler = std::function<void(int fd, const std::atomic<bool>& stop)>;

  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawServer() {
    stop_ = true;
    accept_thread_.join();
    for (std::thread& t : connections_) {
      t.join();
    }
    ::close(listen_fd_);
  }
  std::string url(const std::string& path = "/metrics") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Reads the request head (up to the blank line); false when the peer went away.
  static bool ReadRequest(int fd, const std::atomic<bool>& stop) {
    std::string head;
    char buf[4096];
    while (!stop && head.find("\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        return false;
      }
      head.append(buf, static_cast<std::size_t>(n));
    }
    return !stop;
  }
  // Writes all of `data`; false when the peer closed or the server stops.
  static bool WriteAll(int fd, std::string_view data, const std::atomic<bool>& stop) {
    while (!data.empty() && !stop) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return data.empty();
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      connections_.emplace_back([this, fd] {
        handler_(fd, stop_);
        ::close(fd);
      });
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::list<std::thread> connections_;  // touched by the accept thread, joined after it
};

config::EndpointOptions Endpoint(const std::string& name, const std::string& url) {
  config::EndpointOptions e;
  e.name = name;
  e.url = url;
  return e;
}

// What the collector streams for shipping, flattened to samples.
struct RecordingSink final : ScrapeSampleSink {
  struct Entry {
    std::string family;
    std::string help;
    MetricType type;
    Sample sample;
  };
  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override {
    Sample sample{std::string(name), {}, value, timestamp_ms};
    for (const LabelView& l : labels) {
      sample.labels.push_back(Label{std::string(l.name), std::string(l.value)});
    }
    entries.push_back(Entry{std::string(family), std::string(help), type, std::move(sample)});
  }
  void Mark() override { mark = entries.size(); }
  void Rollback() override {
    ++rollbacks;
    entries.resize(mark);
  }
  std::size_t CountFor(std::string_view endpoint) const {
    std::size_t n = 0;
    for (const Entry& e : entries) {
      for (const Label& l : e.sample.labels) {
        n += l.name == "endpoint" && l.value == endpoint ? 1 : 0;
      }
    }
    return n;
  }
  std::vector<Entry> entries;
  std::size_t mark = 0;
  int rollbacks = 0;
};

// One tick as /metrics sees it: the tick's own families plus the kept text bodies.
// Two seconds later: every target with a 1 s interval is due again.
void NextTick(CollectContext& ctx) {
  ctx.steady_now += 2s;
  ctx.wall_ms += 2000;
}

CollectResult Scrape(ScrapeCollector& collector, const CollectContext& ctx) {
  CollectResult r = collector.Collect(ctx);
  std::vector<MetricFamily> stored = collector.MaterializeStored();
  // /metrics renders the kept bodies straight to text: the text of the same families.
  std::string expected;
  AppendPrometheusText(stored, expected);
  TextExpositionBuilder rendered;
  collector.RenderStored(rendered);
  EXPECT_EQ(rendered.Finish(), expected);
  for (MetricFamily& f : stored) {
    r.families.push_back(std::move(f));
  }
  return r;
}

const MetricFamily* Family(const CollectResult& r, std::string_view name) {
  for (const MetricFamily& f : r.families) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

std::string LabelValue(const Sample& s, std::string_view name) {
  for (const Label& l : s.labels) {
    if (l.name == name) {
      return l.value;
    }
  }
  return "";
}

// The value of a self-metric for one endpoint; NaN when absent.
double Self(const CollectResult& r, std::string_view family, const std::string& endpoint) {
  if (const MetricFamily* f = Family(r, family)) {
    for (const Sample& s : f->samples) {
      if (LabelValue(s, "endpoint") == endpoint) {
        return s.value;
      }
    }
  }
  return std::nan("");
}

std::size_t CountSamples(const CollectResult& r, const std::string& endpoint) {
  std::size_t n = 0;
  for (const MetricFamily& f : r.families) {
    if (f.name.starts_with("metricsd_scrape_")) {
      continue;
    }
    for (const Sample& s : f.samples) {
      n += LabelValue(s, "endpoint") == endpoint ? 1 : 0;
    }
  }
  return n;
}

constexpr char kPromText[] =
    "# HELP http_requests_total Requests served.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",endpoint=\"inner\"} 1027\n"
    "http_requests_total{code=\"500\"} 3 1700000000000\n"
    "# TYPE temperature gauge\n"
    "temperature 21.5\n";

TEST(ScrapeCollector, PrometheusTextKeepsTypesAndSetsTargetLabels) {
  Server server;
  std::string seen_accept;
  server.http().Get("/metrics", [&](const httplib::Request& req, httplib::Response& res) {
    seen_accept = req.get_header_value("Accept");
    res.set_content(kPromText, "text/plain; version=0.0.4");
  });
  server.Start();
  auto e = Endpoint("web", server.url("/metrics"));
  e.labels = {{"team", "a"}};
  ScrapeCollector collector({e}, 10s);
  EXPECT_EQ(collector.name(), "scrape");
  CollectContext ctx = Now();
  CollectResult r = Scrape(collector, ctx);
  ASSERT_EQ(r.status, CollectStatus::kOk);
  EXPECT_NE(seen_accept.find("application/openmetrics-text;version=1.0.0"), std::string::npos);

  const MetricFamily* counter = Family(r, "app_http_requests_total");
  ASSERT_NE(counter, nullptr);
  EXPECT_EQ(counter->type, MetricType::kCounter);
  EXPECT_EQ(counter->help, "Requests served.");
  ASSERT_EQ(counter->samples.size(), 2u);
  const Sample& first = counter->samples[0];
  EXPECT_EQ(first.name, "app_http_requests_total");
  EXPECT_EQ(LabelValue(first, "endpoint"), "web");
  EXPECT_EQ(LabelValue(first, "exported_endpoint"), "inner");
  EXPECT_EQ(LabelValue(first, "team"), "a");
  EXPECT_EQ(first.value, 1027);
  EXPECT_EQ(first.timestamp_ms, ctx.wall_ms);
  EXPECT_EQ(counter->samples[1].timestamp_ms, 1700000000000);  // the body's own timestamp
  const MetricFamily* gauge = Family(r, "app_temperature");
  ASSERT_NE(gauge, nullptr);
  EXPECT_EQ(gauge->type, MetricType::kGauge);

  EXPECT_EQ(Self(r, "metricsd_scrape_up", "web"), 1);
  EXPECT_EQ(Self(r, "metricsd_scrape_samples", "web"), 3);
  EXPECT_EQ(Self(r, "metricsd_scrape_body_bytes", "web"), sizeof kPromText - 1);
  EXPECT_EQ(Self(r, "metricsd_scrape_parse_errors_total", "web"), 0);
  EXPECT_GT(Self(r, "metricsd_scrape_duration_seconds", "web"), 0);
  EXPECT_EQ(Family(r, "metricsd_scrape_parse_errors_total")->type, MetricType::kCounter);
}

TEST(ScrapeCollector, OpenMetricsByContentTypeAndWholeBodyReject) {
  Server server;
  server.http().Get("/good", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "# TYPE jobs counter\njobs_total 5\njobs_created 1.5e9\n# TYPE up_s gauge\n"
        "up_s 1 1700000000.5\n# EOF\n",
        "application/openmetrics-text; version=1.0.0; charset=utf-8");
  });
  server.http().Get("/bad", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("# TYPE jobs counter\njobs_total 5\n",  // no # EOF
                    "application/openmetrics-text; version=1.0.0");
  });
  server.Start();
  auto good = Endpoint("good", server.url("/good"));
  good.metric_prefix = "";
  ScrapeCollector collector({good, Endpoint("bad", server.url("/bad"))}, 10s);
  CollectResult r = Scrape(collector, Now());
  ASSERT_EQ(r.status, CollectStatus::kOk);
  const MetricFamily* jobs = Family(r, "jobs");
  ASSERT_NE(jobs, nullptr);
  EXPECT_EQ(jobs->type, MetricType::kCounter);
  ASSERT_EQ(jobs->samples.size(), 2u);
  const MetricFamily* up = Family(r, "up_s");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->samples[0].timestamp_ms, 1700000000500);
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "good"), 1);
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "bad"), 0);
  EXPECT_EQ(Self(r, "metricsd_scrape_parse_errors_total", "bad"), 1);
  EXPECT_EQ(CountSamples(r, "bad"), 0u);
}

TEST(ScrapeCollector, NestedJsonGetsPrefixOnceAndEndpointLabel) {
  Server server;
  server.http().Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"requests": 10, "db": {"up": true, "pool": {"idle": 3}}})",
                    "application/json");
  });
  server.Start();
  ScrapeCollector collector({Endpoint("api", server.url("/status"))}, 10s);
  CollectResult r = Scrape(collector, Now());
  const MetricFamily* idle = Family(r, "app_db_pool_idle");
  ASSERT_NE(idle, nullptr);
  EXPECT_EQ(idle->samples[0].value, 3);
  EXPECT_EQ(LabelValue(idle->samples[0], "endpoint"), "api");
  ASSERT_NE(Family(r, "app_db_up"), nullptr);
  EXPECT_EQ(Family(r, "app_db_up")->samples[0].value, 1);
  ASSERT_NE(Family(r, "app_requests"), nullptr);
  EXPECT_EQ(Self(r, "metricsd_scrape_samples", "api"), 3);
}

TEST(ScrapeCollector, FormatOverrideWinsOverContentType) {
  Server server;
  server.http().Get("/m", [](const httplib::Request&, httplib::Response& res) {
    // Claims JSON but is text exposition.
    res.set_content("x_total 4\n", "application/json");
  });
  server.Start();
  auto e = Endpoint("o", server.url("/m"));
  e.format = config::ScrapeFormat::kPrometheusText;
  ScrapeCollector collector({e}, 10s);
  CollectResult r = Scrape(collector, Now());
  ASSERT_NE(Family(r, "app_x_total"), nullptr);
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "o"), 1);
}

TEST(ScrapeCollector, MalformedLinesAreCountedAndTheRestKept) {
  Server server;
  server.http().Get("/m", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "good_a 1\nbad{ 2\ngood_b{x=\"y\"} 2\n"
        "bad_utf8{v=\"\xc3\x28\"} 1\n"  // invalid UTF-8 in a label value
        "bad_overlong{v=\"\xc0\xaf\"} 1\n"
        "3starts_with_digit 1\ngood_c 3\n",
        "text/plain");
  });
  server.Start();
  ScrapeCollector collector({Endpoint("m", server.url("/m"))}, 10s);
  CollectContext ctx = Now();
  CollectResult r = Scrape(collector, ctx);
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "m"), 1);
  EXPECT_EQ(Self(r, "metricsd_scrape_samples", "m"), 3);
  EXPECT_EQ(Self(r, "metricsd_scrape_parse_errors_total", "m"), 4);
  EXPECT_NE(Family(r, "app_good_a"), nullptr);
  EXPECT_NE(Family(r, "app_good_b"), nullptr);
  EXPECT_NE(Family(r, "app_good_c"), nullptr);
  EXPECT_EQ(Family(r, "app_bad_utf8"), nullptr);
  // The counter accumulates across ticks.
  ctx.steady_now += 10s;
  r = Scrape(collector, ctx);
  EXPECT_EQ(Self(r, "metricsd_scrape_parse_errors_total", "m"), 8);
}

TEST(ScrapeCollector, Non2xxAndRedirectLoopFailAndRedirectsAreFollowed) {
  Server server;
  std::atomic<int> loop_hits{0};
  server.http().Get("/500", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("a 1\n", "text/plain");
  });
  server.http().Get("/loop", [&](const httplib::Request&, httplib::Response& res) {
    ++loop_hits;
    res.set_redirect("/loop");
  });
  server.http().Get("/moved", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/final");
  });
  server.http().Get("/final", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("moved_ok 1\n", "text/plain");
  });
  server.Start();
  ScrapeCollector collector(
      {Endpoint("e500", server.url("/500")), Endpoint("loop", server.url("/loop")),
       Endpoint("moved", server.url("/moved"))},
      10s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(r.status, CollectStatus::kOk);  // failing targets never fail the collector
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "e500"), 0);
  EXPECT_EQ(CountSamples(r, "e500"), 0u);
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "loop"), 0);
  EXPECT_LE(loop_hits.load(), 6);  // the first request and at most 5 redirects
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "moved"), 1);
  EXPECT_NE(Family(r, "app_moved_ok"), nullptr);
}

TEST(ScrapeCollector, NeverAnsweringTargetIsCutAtItsTimeoutWithoutDelayingOthers) {
  RawServer silent([](int fd, const std::atomic<bool>& stop) {
    RawServer::ReadRequest(fd, stop);
    while (!stop) {
      std::this_thread::sleep_for(20ms);  // holds the connection, never answers
    }
  });
  Server good;
  good.http().Get("/m", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("fine 1\n", "text/plain");
  });
  good.Start();
  auto slow = Endpoint("slow", silent.url());
  slow.timeout = 1000ms;
  ScrapeCollector collector({slow, Endpoint("good", good.url("/m"))}, 10s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "slow"), 0);
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "good"), 1);
  // The good target finished on its own, before the silent one's timeout cut it.
  EXPECT_LT(Self(r, "metricsd_scrape_duration_seconds", "good"),
            Self(r, "metricsd_scrape_duration_seconds", "slow"));
  EXPECT_GE(Self(r, "metricsd_scrape_duration_seconds", "slow"), 0.9);
}

TEST(ScrapeCollector, DefaultTimeoutAppliesWithoutConfiguration) {
  config::EndpointOptions e = Endpoint("x", "http://127.0.0.1:1/");
  EXPECT_EQ(ScrapeCollector::EffectiveTimeout(e, 60s), 10s);
  EXPECT_EQ(ScrapeCollector::EffectiveTimeout(e, 2s), 2s);
  e.interval = 5s;
  EXPECT_EQ(ScrapeCollector::EffectiveTimeout(e, 60s), 5s);
  e.timeout = 1500ms;
  EXPECT_EQ(ScrapeCollector::EffectiveTimeout(e, 60s), 1500ms);
}

TEST(ScrapeCollector, EndlessBodyIsCutAtTheCap) {
  RawServer endless([](int fd, const std::atomic<bool>& stop) {
    if (!RawServer::ReadRequest(fd, stop)) {
      return;
    }
    RawServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", stop);
    std::string chunk;
    for (int i = 0; i < 1000; ++i) {
      chunk += "endless_metric{i=\"" + std::to_string(i) + "\"} 1\n";
    }
    while (RawServer::WriteAll(fd, chunk, stop)) {
    }
  });
  auto e = Endpoint("endless", endless.url());
  e.max_body_bytes = 1 << 20;
  e.timeout = 20s;  // the cap, not the timeout, ends it
  ScrapeCollector collector({e}, 60s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "endless"), 0);
  EXPECT_EQ(CountSamples(r, "endless"), 0u);
  EXPECT_LT(Self(r, "metricsd_scrape_duration_seconds", "endless"), 20);
}

TEST(ScrapeCollector, EndlessTrickleIsCutAtTheTimeout) {
  RawServer trickle([](int fd, const std::atomic<bool>& stop) {
    if (!RawServer::ReadRequest(fd, stop)) {
      return;
    }
    RawServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", stop);
    while (!stop && RawServer::WriteAll(fd, "t 1\n", stop)) {
      std::this_thread::sleep_for(50ms);
    }
  });
  auto e = Endpoint("trickle", trickle.url());
  e.timeout = 700ms;
  ScrapeCollector collector({e}, 60s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "trickle"), 0);
  EXPECT_GE(Self(r, "metricsd_scrape_duration_seconds", "trickle"), 0.6);
}

TEST(ScrapeCollector, HugeBodyIsCutAtTheCap) {
  Server server;
  constexpr std::size_t kBody = 200u << 20;
  server.http().Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(
        kBody, "text/plain", [](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          static const std::string line(64 * 1024, '#');  // comment lines: valid, cheap
          std::size_t n = std::min(length, line.size());
          (void)offset;
          return sink.write(line.data(), n);
        });
  });
  server.Start();
  auto e = Endpoint("big", server.url("/big"));
  e.max_body_bytes = 4 << 20;
  ScrapeCollector collector({e}, 60s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "big"), 0);
  EXPECT_EQ(CountSamples(r, "big"), 0u);
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(ScrapeCollector, GzipBombIsCutAtTheCapOnDecodedBytes) {
  // 256 MiB of newlines compress to about 256 KiB.
  const std::string bomb = Gzip(std::string(256u << 20, '\n'));
  ASSERT_LT(bomb.size(), 1u << 20);
  RawServer server([&bomb](int fd, const std::atomic<bool>& stop) {
    if (!RawServer::ReadRequest(fd, stop)) {
      return;
    }
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
        "Content-Length: " +
        std::to_string(bomb.size()) + "\r\n\r\n";
    RawServer::WriteAll(fd, head, stop) && RawServer::WriteAll(fd, bomb, stop);
  });
  auto e = Endpoint("bomb", server.url());
  e.max_body_bytes = 8 << 20;  // larger than the compressed body, far smaller than decoded
  ScrapeCollector collector({e}, 60s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "bomb"), 0);

  // A small gzip body decodes and parses.
  const std::string small = Gzip("zipped 7\n");
  RawServer ok([&small](int fd, const std::atomic<bool>& stop) {
    if (!RawServer::ReadRequest(fd, stop)) {
      return;
    }
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
        "Content-Length: " +
        std::to_string(small.size()) + "\r\nConnection: close\r\n\r\n";
    RawServer::WriteAll(fd, head, stop) && RawServer::WriteAll(fd, small, stop);
  });
  ScrapeCollector collector2({Endpoint("zip", ok.url())}, 60s);
  r = Scrape(collector2, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "zip"), 1);
  ASSERT_NE(Family(r, "app_zipped"), nullptr);
  EXPECT_EQ(Family(r, "app_zipped")->samples[0].value, 7);
}

TEST(ScrapeCollector, PerEndpointIntervalSkipsTargetsNotDue) {
  Server server;
  std::atomic<int> hits{0};
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_content("h 1\n", "text/plain");
  });
  server.Start();
  auto e = Endpoint("slowpoke", server.url("/m"));
  e.interval = 60s;
  RecordingSink sink;
  ScrapeCollector collector({e, Endpoint("every", server.url("/m"))}, 10s, &sink);
  CollectContext ctx = Now();
  CollectResult r = Scrape(collector, ctx);
  EXPECT_EQ(hits.load(), 2);
  EXPECT_EQ(sink.CountFor("slowpoke"), 1u);
  ctx.steady_now += 10s;
  r = Scrape(collector, ctx);
  EXPECT_EQ(hits.load(), 3);  // only "every"
  // Shipped once, when scraped; /metrics keeps showing its last scrape until the next one.
  EXPECT_EQ(sink.CountFor("slowpoke"), 1u);
  EXPECT_EQ(sink.CountFor("every"), 2u);
  EXPECT_EQ(CountSamples(r, "slowpoke"), 1u);
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "slowpoke"), 1);  // self-metrics for every target
  ctx.steady_now += 50s;
  r = Scrape(collector, ctx);
  EXPECT_EQ(hits.load(), 5);
}

TEST(ScrapeCollector, AuthAndHeadersAreSent) {
  Server server;
  std::string authorization, custom;
  server.http().Get("/m", [&](const httplib::Request& req, httplib::Response& res) {
    authorization = req.get_header_value("Authorization");
    custom = req.get_header_value("X-Tenant");
    res.set_content("a 1\n", "text/plain");
  });
  server.Start();
  auto e = Endpoint("auth", server.url("/m"));
  e.auth.bearer_token = "s3cret";
  e.auth.headers = {{"X-Tenant", "t1"}};
  ScrapeCollector collector({e}, 10s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "auth"), 1);
  EXPECT_EQ(authorization, "Bearer s3cret");
  EXPECT_EQ(custom, "t1");
}

// Through the multi handle: a target on one port redirects to another origin, which must
// receive neither the configured headers nor the credentials.
TEST(ScrapeCollector, RedirectToAnotherOriginGetsNoHeadersNorCredentials) {
  Server a;
  Server b;
  std::mutex mu;
  httplib::Headers seen_by_a, seen_by_b;
  a.http().Get("/m", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    seen_by_a = req.headers;
    res.set_redirect(b.url("/m"));
  });
  b.http().Get("/m", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    seen_by_b = req.headers;
    res.set_content("a 1\n", "text/plain");
  });
  a.Start();
  b.Start();
  auto e = Endpoint("moved", a.url("/m"));
  e.auth.bearer_token = "s3cret";
  e.auth.headers = {{"X-Api-Key", "key-aaa"}};
  ScrapeCollector collector({e}, 10s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "moved"), 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen_by_a.count("X-Api-Key"), 1u);
  EXPECT_EQ(seen_by_a.count("Authorization"), 1u);
  EXPECT_EQ(seen_by_b.count("X-Api-Key"), 0u);
  EXPECT_EQ(seen_by_b.count("Authorization"), 0u);
  EXPECT_EQ(seen_by_b.count("Accept"), 1u);  // protocol headers still go
}

TEST(ScrapeCollector, ConnectionRefusedIsDownAndRecovers) {
  int port = metricsd::testing::FreePort();
  ScrapeCollector collector(
      {Endpoint("later", "http://127.0.0.1:" + std::to_string(port) + "/metrics")}, 10s);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "later"), 0);
}

// The status page's view of each target: as of its last scrape, the URL's password hidden.
TEST(ScrapeCollector, TargetStatusesFollowTheLastScrape) {
  Server server;
  server.http().Get("/ok", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kPromText, "text/plain; version=0.0.4");
  });
  server.http().Get("/fail", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("boom", "text/plain");
  });
  server.Start();
  std::string with_password = server.url("/fail");
  with_password.insert(std::string("http://").size(), "user:secret@");
  ScrapeCollector collector({Endpoint("good", server.url("/ok")), Endpoint("bad", with_password)},
                            10s);
  std::vector<ScrapeTargetStatus> before = collector.TargetStatuses();
  ASSERT_EQ(before.size(), 2U);
  EXPECT_EQ(before[1].last_scrape_ms, 0);
  EXPECT_EQ(before[1].url.find("secret"), std::string::npos) << before[1].url;

  const CollectContext ctx = Now();
  collector.Collect(ctx);
  std::vector<ScrapeTargetStatus> after = collector.TargetStatuses();
  ASSERT_EQ(after.size(), 2U);
  EXPECT_EQ(after[0].name, "good");
  EXPECT_TRUE(after[0].up);
  EXPECT_EQ(after[0].samples, 3);
  EXPECT_EQ(after[0].last_scrape_ms, ctx.wall_ms);
  EXPECT_GT(after[0].duration_seconds, 0);
  EXPECT_EQ(after[0].last_error, "");
  EXPECT_EQ(after[1].name, "bad");
  EXPECT_FALSE(after[1].up);
  EXPECT_EQ(after[1].last_error, "HTTP status 500");
  EXPECT_EQ(after[1].url.find("secret"), std::string::npos) << after[1].url;
}

// Counts the sample lines of a Prometheus text body.
std::size_t CountSampleLines(const std::string& body) {
  std::size_t n = 0;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string::npos) {
      end = body.size();
    }
    std::string_view line(body.data() + start, end - start);
    if (!line.empty() && line[0] != '#') {
      ++n;
    }
    start = end + 1;
  }
  return n;
}

TEST(ScrapeCollector, RealNodeExporter) {
  std::string binary = metricsd::testing::FindBinary("prometheus-node-exporter");
  if (binary.empty()) {
    binary = metricsd::testing::FindBinary("node_exporter");
  }
  if (binary.empty()) {
    GTEST_SKIP() << "prometheus-node-exporter is not installed";
  }
  metricsd::testing::TempDir dir;
  int port = metricsd::testing::FreePort();
  // A few collectors whose series set does not change between two scrapes.
  metricsd::testing::PeerProcess node(
      {binary, "--web.listen-address=127.0.0.1:" + std::to_string(port),
       "--web.disable-exporter-metrics", "--collector.disable-defaults", "--collector.meminfo",
       "--collector.loadavg", "--collector.cpu", "--collector.uname"},
      dir.path() + "/node.log");
  ASSERT_TRUE(metricsd::testing::WaitFor([&] { return metricsd::testing::TcpAccepts(port); }, 20s))
      << node.LogTail();
  metricsd::testing::HttpReply direct = metricsd::testing::HttpGet("127.0.0.1", port, "/metrics");
  ASSERT_EQ(direct.status, 200);

  auto e = Endpoint("node", "http://127.0.0.1:" + std::to_string(port) + "/metrics");
  e.metric_prefix = "";
  ScrapeCollector collector({e}, 10s);
  CollectResult r = Scrape(collector, Now());
  ASSERT_EQ(Self(r, "metricsd_scrape_up", "node"), 1);
  EXPECT_EQ(Self(r, "metricsd_scrape_parse_errors_total", "node"), 0);
  EXPECT_EQ(CountSamples(r, "node"), CountSampleLines(direct.body));
  EXPECT_EQ(Self(r, "metricsd_scrape_samples", "node"), CountSampleLines(direct.body));

  // node_memory_MemTotal_bytes never changes: same value both ways.
  double expected = std::nan("");
  std::size_t at = direct.body.find("\nnode_memory_MemTotal_bytes ");
  ASSERT_NE(at, std::string::npos);
  expected = std::stod(direct.body.substr(at + 28, direct.body.find('\n', at + 1) - at - 28));
  const MetricFamily* total = Family(r, "node_memory_MemTotal_bytes");
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->type, MetricType::kGauge);
  EXPECT_EQ(total->samples[0].value, expected);
  EXPECT_EQ(LabelValue(total->samples[0], "endpoint"), "node");
  const MetricFamily* cpu = Family(r, "node_cpu_seconds_total");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->type, MetricType::kCounter);
}

}  // namespace
}  // namespace metricsd

namespace metricsd {
namespace {

std::vector<Sample> Sorted(std::vector<Sample> samples) {
  std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) {
    return std::tie(a.name, a.labels, a.value) < std::tie(b.name, b.labels, b.value);
  });
  return samples;
}

TEST(ScrapeCollector, StreamedSamplesAreExactlyWhatMetricsShows) {
  Server server;
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "# HELP rpc_seconds RPC latency.\n"
        "# TYPE rpc_seconds histogram\n"
        "rpc_seconds_bucket{le=\"0.1\",endpoint=\"theirs\"} 3\n"
        "rpc_seconds_bucket{le=\"+Inf\",endpoint=\"theirs\",exported_endpoint=\"x\"} 5\n"
        "rpc_seconds_sum 1.5\n"
        "rpc_seconds_count 5\n"
        "other{path=\"a\\\\b\\\"c\\nd\",empty=\"\",team=\"theirs\"} 2 1700000000000\n"
        "rpc_seconds_sum{method=\"late\"} 9\n",
        "text/plain; version=0.0.4");
  });
  server.Start();
  auto e = Endpoint("mine", server.url("/m"));
  e.labels = {{"team", "core"}};
  RecordingSink sink;
  ScrapeCollector collector({e}, 10s, &sink);
  CollectResult r = Scrape(collector, Now());
  ASSERT_EQ(Self(r, "metricsd_scrape_up", "mine"), 1);

  std::vector<Sample> shown;
  for (const MetricFamily& f : r.families) {
    if (!f.name.starts_with("metricsd_")) {
      shown.insert(shown.end(), f.samples.begin(), f.samples.end());
    }
  }
  std::vector<Sample> streamed;
  for (const RecordingSink::Entry& entry : sink.entries) {
    streamed.push_back(entry.sample);
    EXPECT_TRUE(entry.sample.name.starts_with(entry.family)) << entry.sample.name;
    if (entry.family == "app_rpc_seconds") {
      EXPECT_EQ(entry.type, MetricType::kHistogram);
      EXPECT_EQ(entry.help, "RPC latency.");
    }
  }
  ASSERT_EQ(shown.size(), 6u);
  EXPECT_EQ(Sorted(streamed), Sorted(shown));
  // The rules themselves (prefix, exported_ renames, escapes, empty values dropped).
  bool found = false;
  for (const Sample& s : streamed) {
    if (s.name == "app_rpc_seconds_bucket" && LabelValue(s, "le") == "+Inf") {
      found = true;
      EXPECT_EQ(LabelValue(s, "endpoint"), "mine");
      // exported_endpoint is taken by the target's own label: one more prefix.
      EXPECT_EQ(LabelValue(s, "exported_endpoint"), "x");
      EXPECT_EQ(LabelValue(s, "exported_exported_endpoint"), "theirs");
      EXPECT_EQ(LabelValue(s, "team"), "core");
    }
    if (s.name == "app_other") {
      EXPECT_EQ(LabelValue(s, "path"), "a\\b\"c\nd");
      EXPECT_EQ(LabelValue(s, "exported_team"), "theirs");
      EXPECT_EQ(s.timestamp_ms, 1700000000000);
      EXPECT_EQ(s.labels.size(), 4u);  // endpoint, exported_team, path, team
    }
  }
  EXPECT_TRUE(found);
}

TEST(ScrapeCollector, RejectedOpenMetricsBodyStreamsNothing) {
  Server server;
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("# TYPE a counter\na_total 1\na_total 2\n",  // no # EOF
                    "application/openmetrics-text; version=1.0.0");
  });
  server.Start();
  RecordingSink sink;
  ScrapeCollector collector({Endpoint("om", server.url("/m"))}, 10s, &sink);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "om"), 0);
  EXPECT_TRUE(sink.entries.empty());
  EXPECT_EQ(CountSamples(r, "om"), 0u);
}

// The names of the series that got a staleness marker, at `wall_ms`, since `from`.
std::vector<std::string> StaleSince(const RecordingSink& sink, std::size_t from,
                                    std::int64_t wall_ms) {
  std::vector<std::string> names;
  for (std::size_t i = from; i < sink.entries.size(); ++i) {
    const Sample& s = sink.entries[i].sample;
    if (IsStaleNaN(s.value)) {
      EXPECT_EQ(s.timestamp_ms, wall_ms) << s.name;
      std::string name = s.name;
      for (const Label& l : s.labels) {
        name += "," + l.name + "=" + l.value;
      }
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ScrapeCollector, SeriesThatVanishOrAFailedScrapeGetStalenessMarkers) {
  std::atomic<int> body{0};
  Server server;
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    switch (body.load()) {
      case 0:
        res.set_content("up_a 1\nup_b{k=\"v\"} 2\nown_ts 3 1700000000000\n", "text/plain");
        break;
      case 1:
        res.set_content("up_a 1\n", "text/plain");
        break;
      default:
        res.status = 500;
    }
  });
  server.Start();
  RecordingSink sink;
  ScrapeCollector collector({Endpoint("t", server.url("/m"))}, 1s, &sink);
  CollectContext ctx = Now();
  Scrape(collector, ctx);
  EXPECT_TRUE(StaleSince(sink, 0, ctx.wall_ms).empty());

  // up_b is gone; own_ts has a timestamp of its own, so it never gets a marker.
  body = 1;
  std::size_t from = sink.entries.size();
  NextTick(ctx);
  Scrape(collector, ctx);
  EXPECT_EQ(StaleSince(sink, from, ctx.wall_ms),
            (std::vector<std::string>{"app_up_b,endpoint=t,k=v"}));

  // A failed scrape ends every series of the last good one.
  body = 2;
  from = sink.entries.size();
  NextTick(ctx);
  Scrape(collector, ctx);
  EXPECT_EQ(StaleSince(sink, from, ctx.wall_ms), (std::vector<std::string>{"app_up_a,endpoint=t"}));
  // ...once: the next failure has nothing left to end.
  from = sink.entries.size();
  NextTick(ctx);
  Scrape(collector, ctx);
  EXPECT_TRUE(StaleSince(sink, from, ctx.wall_ms).empty());

  // Back up: nothing is marked, and the series are tracked again.
  body = 0;
  from = sink.entries.size();
  NextTick(ctx);
  Scrape(collector, ctx);
  EXPECT_TRUE(StaleSince(sink, from, ctx.wall_ms).empty());
  EXPECT_EQ(sink.CountFor("t") - from, 3u);
}

TEST(ScrapeCollector, JsonSeriesThatVanishGetStalenessMarkers) {
  std::atomic<bool> both{true};
  Server server;
  server.http().Get("/j", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(both ? R"({"queue": 3, "workers": 2})" : R"({"queue": 3})", "application/json");
  });
  server.Start();
  RecordingSink sink;
  ScrapeCollector collector({Endpoint("j", server.url("/j"))}, 1s, &sink);
  CollectContext ctx = Now();
  Scrape(collector, ctx);
  both = false;
  std::size_t from = sink.entries.size();
  NextTick(ctx);
  Scrape(collector, ctx);
  EXPECT_EQ(StaleSince(sink, from, ctx.wall_ms),
            (std::vector<std::string>{"app_workers,endpoint=j"}));
}

TEST(ScrapeCollector, AReloadHandsSeriesToTheSameTargetAndEndsThoseOfRemovedOnes) {
  Server server;
  server.http().Get("/a", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("x 1\ny 2\n", "text/plain");
  });
  server.http().Get("/b", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("z 1\n", "text/plain");
  });
  server.http().Get("/a2", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("x 1\n", "text/plain");
  });
  server.Start();
  RecordingSink old_sink;
  ScrapeCollector before({Endpoint("a", server.url("/a")), Endpoint("b", server.url("/b"))}, 1s,
                         &old_sink);
  CollectContext ctx = Now();
  Scrape(before, ctx);

  // The new configuration keeps "a" (now serving only x) and drops "b".
  RecordingSink new_sink;
  ScrapeCollector after({Endpoint("a", server.url("/a2"))}, 1s, &new_sink);
  RecordingSink markers;
  before.HandOverSeries(&after, markers, ctx.wall_ms + 500);
  EXPECT_EQ(StaleSince(markers, 0, ctx.wall_ms + 500),
            (std::vector<std::string>{"app_z,endpoint=b"}));
  NextTick(ctx);
  Scrape(after, ctx);
  EXPECT_EQ(StaleSince(new_sink, 0, ctx.wall_ms), (std::vector<std::string>{"app_y,endpoint=a"}));

  // No endpoints at all any more: every series ends.
  RecordingSink last;
  after.HandOverSeries(nullptr, last, ctx.wall_ms + 1);
  EXPECT_EQ(StaleSince(last, 0, ctx.wall_ms + 1), (std::vector<std::string>{"app_x,endpoint=a"}));
}

// One limit set low, and a body that breaks it only in its last line, after samples that
// were already streamed to the sink.
struct LimitCase {
  const char* limit;
  config::ScrapeLimits limits;
  const char* bad_line;
};

config::ScrapeLimits Unlimited() { return config::ScrapeLimits{0, 0, 0, 0, 0}; }

std::vector<LimitCase> LimitCases() {
  std::vector<LimitCase> cases;
  config::ScrapeLimits l = Unlimited();
  l.sample_limit = 3;  // the good body has 2 samples
  cases.push_back({"sample_limit", l, "c 3\nd 4\n"});
  l = Unlimited();
  l.label_limit = 4;  // __name__ and endpoint count: 3 own labels make 5
  cases.push_back({"label_limit", l, "c{x=\"1\",y=\"2\",z=\"3\"} 3\n"});
  l = Unlimited();
  l.label_name_length_limit = 10;
  cases.push_back({"label_name_length_limit", l, "c{abcdefghijk=\"1\"} 3\n"});
  l = Unlimited();
  l.label_value_length_limit = 10;
  cases.push_back({"label_value_length_limit", l, "c{k=\"abcdefghijk\"} 3\n"});
  l = Unlimited();
  l.line_length_limit = 40;
  cases.push_back({"line_length_limit", l, "c{k=\"a line that is longer than forty bytes\"} 3\n"});
  return cases;
}

TEST(ScrapeCollector, AScrapeOverALimitStoresNothingAndEndsItsSeries) {
  for (const LimitCase& c : LimitCases()) {
    SCOPED_TRACE(c.limit);
    std::atomic<bool> bad{false};
    Server server;
    server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
      std::string body = "a 1\nb{k=\"v\"} 2\n";
      res.set_content(bad ? body + c.bad_line : body, "text/plain");
    });
    server.Start();
    config::EndpointOptions endpoint = Endpoint("t", server.url("/m"));
    endpoint.limits = c.limits;
    RecordingSink sink;
    ScrapeCollector collector({endpoint}, 1s, &sink);
    CollectContext ctx = Now();
    CollectResult r = Scrape(collector, ctx);
    ASSERT_EQ(Self(r, "metricsd_scrape_up", "t"), 1);
    ASSERT_EQ(sink.entries.size(), 2u);
    EXPECT_EQ(Family(r, "metricsd_scrape_limit_exceeded_total"), nullptr);

    bad = true;
    const std::size_t from = sink.entries.size();
    NextTick(ctx);
    r = Scrape(collector, ctx);
    EXPECT_EQ(Self(r, "metricsd_scrape_up", "t"), 0);
    // Nothing of the scrape was shipped; the series of the last good one end.
    EXPECT_EQ(StaleSince(sink, from, ctx.wall_ms),
              (std::vector<std::string>{"app_a,endpoint=t", "app_b,endpoint=t,k=v"}));
    EXPECT_EQ(sink.entries.size(), from + 2);
    // Nor kept for /metrics.
    EXPECT_EQ(CountSamples(r, "t"), 0u);
    const MetricFamily* exceeded = Family(r, "metricsd_scrape_limit_exceeded_total");
    ASSERT_NE(exceeded, nullptr);
    ASSERT_EQ(exceeded->samples.size(), 1u);
    EXPECT_EQ(LabelValue(exceeded->samples[0], "limit"), c.limit);
    EXPECT_EQ(exceeded->samples[0].value, 1);
    std::vector<ScrapeTargetStatus> statuses = collector.TargetStatuses();
    ASSERT_EQ(statuses.size(), 1u);
    EXPECT_THAT(statuses[0].last_error, ::testing::HasSubstr(std::string(c.limit) + " exceeded"));

    // Pull only (no sink): the same scrape fails and keeps nothing for /metrics.
    ScrapeCollector pull({endpoint}, 1s, nullptr);
    r = Scrape(pull, Now());
    EXPECT_EQ(Self(r, "metricsd_scrape_up", "t"), 0);
    EXPECT_EQ(CountSamples(r, "t"), 0u);
  }
}

TEST(ScrapeCollector, TheDefaultLimitsLetAnOrdinaryTargetThrough) {
  // 1,000 series with a handful of labels each: far inside every default limit.
  std::string body;
  for (int i = 0; i < 1000; ++i) {
    body += "requests_total{method=\"GET\",code=\"200\",path=\"/p" + std::to_string(i) + "\"} " +
            std::to_string(i) + "\n";
  }
  Server server;
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "text/plain");
  });
  server.Start();
  RecordingSink sink;
  ScrapeCollector collector({Endpoint("t", server.url("/m"))}, 1s, &sink);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "t"), 1);
  EXPECT_EQ(sink.entries.size(), 1000u);
}

// Every sample a collector streamed since `from`, as "name,label=value,..." (stale or not).
std::vector<std::string> StreamedSince(const RecordingSink& sink, std::size_t from) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < sink.entries.size(); ++i) {
    const Sample& s = sink.entries[i].sample;
    std::string text = s.name;
    for (const Label& l : s.labels) {
      text += "," + l.name + "=" + l.value;
    }
    out.push_back(IsStaleNaN(s.value) ? "stale:" + text : text);
  }
  std::sort(out.begin(), out.end());
  return out;
}

RelabelRule Rule(std::vector<std::string> sources, std::string regex, std::string action,
                 std::string target = "", std::string replacement = "$1") {
  RelabelRule rule;
  rule.source_labels = std::move(sources);
  rule.regex = std::move(regex);
  rule.action = std::move(action);
  rule.target_label = std::move(target);
  rule.replacement = std::move(replacement);
  return rule;
}

TEST(ScrapeCollector, MetricRelabelingShapesWhatIsShippedShownAndEnded) {
  std::atomic<bool> second{false};
  Server server;
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    std::string body =
        "# TYPE http_requests_total counter\n"
        "http_requests_total{code=\"200\",path=\"/a\"} 1\n";
    if (!second) {
      body += "http_requests_total{code=\"500\",path=\"/a\"} 2\n";
    }
    body += "go_goroutines 7\ntemp{sensor=\"cpu\"} 3\n";
    res.set_content(body, "text/plain");
  });
  server.Start();
  config::EndpointOptions e = Endpoint("t", server.url("/m"));
  e.metric_relabel_configs = {
      // After the prefix: the target's name is app_go_goroutines.
      Rule({"__name__"}, "app_go_.*", "drop"),
      Rule({"code"}, "(\\d)..", "replace", "class", "${1}xx"),
      Rule({}, "path", "labeldrop"),
  };
  RecordingSink sink;
  ScrapeCollector collector({e}, 1s, &sink);
  CollectContext ctx = Now();
  CollectResult r = Scrape(collector, ctx);
  ASSERT_EQ(Self(r, "metricsd_scrape_up", "t"), 1);
  const std::vector<std::string> expected = {
      "app_http_requests_total,class=2xx,code=200,endpoint=t",
      "app_http_requests_total,class=5xx,code=500,endpoint=t",
      "app_temp,endpoint=t,sensor=cpu",
  };
  EXPECT_EQ(StreamedSince(sink, 0), expected);
  // /metrics shows exactly what was shipped.
  std::vector<Sample> shown;
  for (const MetricFamily& f : r.families) {
    if (!f.name.starts_with("metricsd_")) {
      shown.insert(shown.end(), f.samples.begin(), f.samples.end());
    }
  }
  std::vector<Sample> streamed;
  for (const RecordingSink::Entry& entry : sink.entries) {
    streamed.push_back(entry.sample);
  }
  EXPECT_EQ(Sorted(streamed), Sorted(shown));

  // The 500 series goes: its marker carries the labels it was shipped with.
  second = true;
  const std::size_t from = sink.entries.size();
  NextTick(ctx);
  Scrape(collector, ctx);
  EXPECT_EQ(StaleSince(sink, from, ctx.wall_ms),
            (std::vector<std::string>{"app_http_requests_total,class=5xx,code=500,endpoint=t"}));
}

TEST(ScrapeCollector, ARuleThatRemovesTheNameFailsTheScrape) {
  Server server;
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("a 1\nb{k=\"v\"} 2\n", "text/plain");
  });
  server.Start();
  config::EndpointOptions e = Endpoint("t", server.url("/m"));
  // Only b loses its name, after a was streamed: the scrape is taken back whole.
  e.metric_relabel_configs = {Rule({"k"}, "v", "replace", "__name__", "")};
  RecordingSink sink;
  ScrapeCollector collector({e}, 1s, &sink);
  CollectResult r = Scrape(collector, Now());
  EXPECT_EQ(Self(r, "metricsd_scrape_up", "t"), 0);
  EXPECT_TRUE(sink.entries.empty());
  EXPECT_EQ(CountSamples(r, "t"), 0u);
  EXPECT_THAT(collector.TargetStatuses()[0].last_error, ::testing::HasSubstr("__name__"));
}

// A sink with a prepared form, so the collector uses its series cache: the prepared form
// is the number of a kept name and label set, and AddPrepared records what Add would have.
struct PreparingSink final : ScrapeSampleSink {
  struct Prepared {
    std::string name;
    Labels labels;
  };
  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override {
    recorded.Add(family, help, type, name, labels, value, timestamp_ms);
  }
  void Mark() override { recorded.Mark(); }
  void Rollback() override { recorded.Rollback(); }
  bool Prepare(std::string_view name, std::span<const LabelView> labels,
               std::string& out) override {
    Prepared& prepared = forms.emplace_back();
    prepared.name.assign(name);
    for (const LabelView& l : labels) {
      prepared.labels.push_back(Label{std::string(l.name), std::string(l.value)});
    }
    out += std::to_string(forms.size() - 1);
    ++prepares;
    return true;
  }
  void AddPrepared(std::string_view form, std::string_view family, std::string_view help,
                   MetricType type, double value, std::int64_t timestamp_ms) override {
    const Prepared& prepared = forms.at(std::stoul(std::string(form)));
    std::vector<LabelView> views;
    ViewLabels(prepared.labels, views);
    recorded.Add(family, help, type, prepared.name, views, value, timestamp_ms);
    ++prepared_adds;
  }
  RecordingSink recorded;
  std::deque<Prepared> forms;
  int prepares = 0;
  int prepared_adds = 0;
};

std::vector<std::string> Described(const RecordingSink& sink, std::size_t from) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < sink.entries.size(); ++i) {
    const RecordingSink::Entry& e = sink.entries[i];
    std::string text =
        e.family + "|" + e.help + "|" + std::to_string(int(e.type)) + "|" + e.sample.name;
    for (const Label& l : e.sample.labels) {
      text += "," + l.name + "=" + l.value;
    }
    text += " " + std::to_string(std::bit_cast<std::uint64_t>(e.sample.value)) + " @" +
            std::to_string(e.sample.timestamp_ms);
    out.push_back(text);
  }
  return out;
}

struct CacheRun {
  int prepares = 0;
  int prepared_adds = 0;
};

// Scrapes `bodies` one after the other (endpoint "t", set up by `configure`) with a collector
// whose sink has a prepared form, so that its series cache is used, and with one whose sink
// has none, so that every series goes through relabeling, the limit checks and Add each
// time; both must stream the same samples. `check` sees the cached collector's result.
CacheRun ScrapeCachedAndUncached(
    const std::vector<std::string>& bodies,
    const std::function<void(config::EndpointOptions&)>& configure,
    const std::function<void(std::size_t, const CollectResult&)>& check = {}) {
  std::atomic<std::size_t> round{0};
  Server server;
  server.http().Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(bodies[round.load()], "text/plain");
  });
  server.Start();
  config::EndpointOptions e = Endpoint("t", server.url("/m"));
  configure(e);
  PreparingSink cached_sink;
  RecordingSink uncached_sink;
  ScrapeCollector cached({e}, 1s, &cached_sink);
  ScrapeCollector uncached({e}, 1s, &uncached_sink);
  CollectContext ctx = Now();
  std::size_t cached_from = 0;
  std::size_t uncached_from = 0;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    round = i;
    CollectResult r = Scrape(cached, ctx);
    (void)Scrape(uncached, ctx);
    if (check) {
      check(i, r);
    }
    EXPECT_EQ(Described(cached_sink.recorded, cached_from), Described(uncached_sink, uncached_from))
        << "scrape " << i;
    cached_from = cached_sink.recorded.entries.size();
    uncached_from = uncached_sink.entries.size();
    NextTick(ctx);
  }
  return {cached_sink.prepares, cached_sink.prepared_adds};
}

TEST(ScrapeCollector, TheSeriesCacheStreamsExactlyWhatTheUncachedPathDoes) {
  // Scrape after scrape: values change, series come and go, change places and repeat, a TYPE
  // line changes the family of the same series text, relabeling keeps, drops and rewrites,
  // one sample has its own timestamp, one body is over the sample limit and one is invalid,
  // and a cached series text becomes a histogram bucket that lacks its le label.
  const std::vector<std::string> bodies = {
      "# HELP req Requests.\n# TYPE req counter\nreq{code=\"200\"} 1\nreq{code=\"500\"} 2\n"
      "go_threads 5\ntemp{sensor=\"a\"} 1.5 1700000000000\nplain 1\n",
      "# HELP req Requests.\n# TYPE req counter\nreq{code=\"200\"} 3\nreq{code=\"404\"} 1\n"
      "go_threads 6\nplain 2\nplain 3\ntemp{sensor=\"a\"} 2.5\n",
      "plain 4\n# TYPE req gauge\nreq{code=\"404\"} 7\nreq{code=\"200\"} 8\ngo_threads 1\n"
      "new_one{x=\"y\"} 9\n",
      "a 1\nb 2\nc 3\nd 4\ne 5\nf 6\n",  // over the sample limit: taken back
      "req{code=\"200\" 1\n",            // a broken line: the text format skips it
      "# TYPE req counter\nreq{code=\"200\"} 10\nreq{code=\"500\"} 11\nplain 12\n",
      // The same bucket texts twice while untyped (cached), then in a histogram, where
      // lat_bucket{x} has no le and is skipped; a series vanishes from the middle.
      "lat_bucket{le=\"1\"} 1\nlat_bucket{x=\"1\"} 2\nreq{code=\"200\"} 13\nplain 14\n",
      "lat_bucket{le=\"1\"} 3\nlat_bucket{x=\"1\"} 4\nreq{code=\"200\"} 15\nplain 16\n",
      "# TYPE lat histogram\nlat_bucket{le=\"1\"} 5\nlat_bucket{x=\"1\"} 6\nplain 17\n",
  };
  const CacheRun run = ScrapeCachedAndUncached(bodies, [](config::EndpointOptions& e) {
    e.metric_prefix = "app_";
    e.labels = {{"team", "x"}};
    e.limits.sample_limit = 5;
    e.metric_relabel_configs = {
        Rule({"__name__"}, "app_go_.*", "drop"),
        Rule({"code"}, "(\\d)..", "replace", "class", "${1}xx"),
    };
  });
  EXPECT_GT(run.prepared_adds, run.prepares);  // the cache was used
}

// The cache refers to the bytes of the body it was filled from: a failed scrape (whose body
// is not kept) empties it, and it fills again as the series come back.
TEST(ScrapeCollector, TheSeriesCacheStartsOverAfterAFailedScrape) {
  const std::vector<std::string> bodies = {
      "a{x=\"1\"} 1\nb{y=\"2\"} 2\n",   "a{x=\"1\"} 3\nb{y=\"2\"} 4\n",
      "a{x=\"1\"} 5\nb{y=\"2\"} 6\n",   "a{x=\"1\"} 7\nb{y=\"2\"} 8\nc 9\nd 10\n",
      "a{x=\"1\"} 11\nb{y=\"2\"} 12\n", "a{x=\"1\"} 13\nb{y=\"2\"} 14\n",
      "b{y=\"2\"} 15\na{x=\"1\"} 16\n",
  };
  const std::vector<double> entries = {0, 2, 2, 0, 0, 2, 2};
  (void)ScrapeCachedAndUncached(
      bodies, [](config::EndpointOptions& e) { e.limits.sample_limit = 3; },  // body 3 is over
      [&](std::size_t i, const CollectResult& r) {
        EXPECT_EQ(Self(r, "metricsd_scrape_up", "t"), i == 3 ? 0 : 1) << "scrape " << i;
        EXPECT_EQ(Self(r, "metricsd_scrape_series_cache_entries", "t"), entries[i])
            << "scrape " << i;
        // Its memory: entries hold their shipped form (more than the 10 bytes of a sample).
        const double bytes = Self(r, "metricsd_scrape_series_cache_bytes", "t");
        if (entries[i] == 0) {
          EXPECT_LT(bytes, 20) << "scrape " << i;
        } else {
          EXPECT_GT(bytes, 20 * entries[i]) << "scrape " << i;
        }
      });
}

}  // namespace
}  // namespace metricsd
