#include "collectors/scrape_collector.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "collectors/body_visitors.h"
#include "collectors/series_cache.h"
#include "core/redact.h"
#include "core/series_tracker.h"
#include "core/unique_fd.h"
#include "formats/exposition_parser.h"
#include "formats/json_app.h"
#include "formats/scrape_format.h"
#include "formats/target_labels.h"
#include "http/http_client.h"

namespace metricsd {
namespace {

using Clock = std::chrono::steady_clock;

constexpr long kMaxRedirects = 5;
constexpr std::chrono::milliseconds kDefaultMaxTimeout{std::chrono::seconds(10)};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

// The curl multi handle, driven through curl's socket interface and epoll: a wait returns
// only the sockets that are ready, where curl_multi_poll looks at every socket each time (a
// tick of 200 targets waited about a thousand times, over 200 sockets each).
struct ScrapeCollector::Multi {
  CURLM* handle = curl_multi_init();
  UniqueFd epoll{::epoll_create1(EPOLL_CLOEXEC)};
  std::optional<Clock::time_point> timer;  // when curl wants to act on its timeouts

  Multi() {
    if (handle != nullptr) {
      curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, &Multi::OnSocket);
      curl_multi_setopt(handle, CURLMOPT_SOCKETDATA, this);
      curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, &Multi::OnTimer);
      curl_multi_setopt(handle, CURLMOPT_TIMERDATA, this);
    }
  }
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;
  ~Multi() {
    if (handle != nullptr) {
      curl_multi_cleanup(handle);
    }
  }
  bool ok() const noexcept { return handle != nullptr && epoll.valid(); }

  // Lets curl act on the sockets ready within `wait` (less when its timer is due sooner),
  // then on its timer if due.
  CURLMcode Step(std::chrono::milliseconds wait, int& running) {
    if (timer) {
      // Rounded up: a timer due in 0.4 ms must not turn into a busy wait of zeros.
      const auto due = std::chrono::ceil<std::chrono::milliseconds>(*timer - Clock::now());
      wait = std::clamp(due, std::chrono::milliseconds(0), wait);
    }
    epoll_event events[64];
    const int ready = ::epoll_wait(epoll.get(), events, 64, static_cast<int>(wait.count()));
    CURLMcode mc = CURLM_OK;
    for (int i = 0; i < ready && mc == CURLM_OK; ++i) {
      int flags = 0;
      flags |= (events[i].events & EPOLLIN) != 0 ? CURL_CSELECT_IN : 0;
      flags |= (events[i].events & EPOLLOUT) != 0 ? CURL_CSELECT_OUT : 0;
      flags |= (events[i].events & (EPOLLERR | EPOLLHUP)) != 0 ? CURL_CSELECT_ERR : 0;
      mc = curl_multi_socket_action(handle, events[i].data.fd, flags, &running);
    }
    if (mc == CURLM_OK && timer && Clock::now() >= *timer) {
      timer.reset();
      mc = curl_multi_socket_action(handle, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    return mc;
  }

 private:
  // curl tells which events of a socket it waits for; `registered` is what curl_multi_assign
  // attached to it (non-null once it is in the epoll set).
  static int OnSocket(CURL*, curl_socket_t socket, int what, void* self_ptr, void* registered) {
    auto* self = static_cast<Multi*>(self_ptr);
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(self->epoll.get(), EPOLL_CTL_DEL, socket, nullptr);
      curl_multi_assign(self->handle, socket, nullptr);
      return 0;
    }
    epoll_event event{};
    event.events =
        ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0U) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0U);
    event.data.fd = socket;
    const int op = registered != nullptr ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(self->epoll.get(), op, socket, &event) != 0) {
      // Out of step with curl (a reused descriptor number): the other operation fits.
      ::epoll_ctl(self->epoll.get(), op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket,
                  &event);
    }
    curl_multi_assign(self->handle, socket, self);
    return 0;
  }
  static int OnTimer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<Multi*>(self_ptr);
    if (timeout_ms < 0) {
      self->timer.reset();
    } else {
      self->timer = Clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }
};

struct ScrapeCollector::StoredBody {
  std::string body;
  ScrapeFormat format = ScrapeFormat::kPrometheusText;
  std::int64_t wall_ms = 0;
};

struct ScrapeCollector::Target {
  config::EndpointOptions options;
  Labels extra_labels;
  RelabelProgram relabel;  // metric_relabel_configs, compiled
  std::unique_ptr<TargetLabeler> labeler;
  std::shared_ptr<const StoredBody> stored;  // guarded by stored_mutex_
  std::chrono::milliseconds timeout{0};
  Clock::duration interval{0};
  std::unique_ptr<http::HttpClient> client;  // null when it could not be built
  std::string setup_error;
  http::HttpRequest request;

  // Scheduling and the transfer in flight.
  std::optional<Clock::time_point> next_due;
  bool in_flight = false;
  bool done = false;
  CURLcode result = CURLE_OK;
  Clock::time_point finished{};

  // Self-metrics, as of the last scrape.
  bool up = false;
  double duration_seconds = 0;
  double samples = 0;
  double body_bytes = 0;
  std::uint64_t parse_errors_total = 0;
  std::map<std::string, std::uint64_t> limit_failures;  // by limit key; only those exceeded
  std::int64_t last_scrape_ms = 0;
  std::string last_error;
  std::optional<bool> logged_ok;  // the state last logged; nullopt: nothing logged yet

  // While samples are shipped (sink_ set): the keys of the last successful scrape's series,
  // and a JSON target's last families (a text target's are in `stored`), where the labels
  // of vanished series are found again for their staleness markers.
  SeriesTracker series;
  std::vector<MetricFamily> json_families;
  // While samples are shipped: the text and OpenMetrics series as last scraped.
  std::unique_ptr<SeriesCache> cache;
};

// What a target had before this scrape: where vanished series' labels are found.
struct ScrapeCollector::Previous {
  std::shared_ptr<const StoredBody> body;
  std::vector<MetricFamily> json;
};

std::chrono::milliseconds ScrapeCollector::EffectiveTimeout(
    const config::EndpointOptions& endpoint, std::chrono::seconds collector_interval) {
  if (endpoint.timeout && endpoint.timeout->count() > 0) {
    return *endpoint.timeout;
  }
  std::chrono::milliseconds interval = endpoint.interval.value_or(collector_interval);
  if (interval.count() <= 0) {
    return kDefaultMaxTimeout;
  }
  return std::min(kDefaultMaxTimeout, interval);
}

ScrapeCollector::ScrapeCollector(const std::vector<config::EndpointOptions>& endpoints,
                                 std::chrono::seconds collector_interval, ScrapeSampleSink* sink)
    : multi_(std::make_unique<Multi>()), sink_(sink) {
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    auto target = std::make_unique<Target>();
    target->options = endpoints[i];
    const config::EndpointOptions& e = target->options;
    for (const auto& [name, value] : e.labels) {
      target->extra_labels.push_back(Label{name, value});
    }
    SortLabels(target->extra_labels);
    if (Result<RelabelProgram> program = RelabelProgram::Compile(e.metric_relabel_configs)) {
      target->relabel = std::move(*program);
    } else {
      // Validation refuses such a configuration before it gets here.
      target->setup_error = "metric_relabel_configs" + program.error();
    }
    target->labeler = std::make_unique<TargetLabeler>(e.metric_prefix, e.name, target->extra_labels,
                                                      target->relabel);
    target->cache = std::make_unique<SeriesCache>(e.limits.sample_limit);
    target->timeout = EffectiveTimeout(e, collector_interval);
    target->interval = e.interval.value_or(collector_interval);
    target->request.method = "GET";
    target->request.url = e.url;

    http::HttpClientOptions client;
    client.log_name = "endpoint " + e.name;
    client.tls = e.tls;
    client.auth = e.auth;
    client.timeout = target->timeout;
    client.max_response_body_bytes = static_cast<std::size_t>(e.max_body_bytes);
    client.fail_on_body_cap = true;
    client.max_redirects = kMaxRedirects;
    client.accept_compressed = true;
    client.fixed_headers.push_back("Accept: " + std::string(kScrapeAcceptHeader));
    // As Prometheus sends it: lets a target bound its own work.
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f",
                  static_cast<double>(target->timeout.count()) / 1000.0);
    client.fixed_headers.push_back(std::string("X-Prometheus-Scrape-Timeout-Seconds: ") + seconds);
    auto created =
        http::HttpClient::Create(std::move(client), "endpoints[" + std::to_string(i) + "]");
    if (!target->setup_error.empty()) {
      spdlog::error("scrape endpoint {}: {}", e.name, target->setup_error);
    } else if (created) {
      target->client = std::move(*created);
    } else {
      target->setup_error = created.error();
      spdlog::error("scrape endpoint {}: cannot set up the HTTP client: {}", e.name,
                    target->setup_error);
    }
    statuses_.push_back(ScrapeTargetStatus{.name = e.name, .url = RedactUrl(e.url)});
    targets_.push_back(std::move(target));
  }
}

ScrapeCollector::~ScrapeCollector() {
  if (multi_ && multi_->handle != nullptr) {
    for (auto& t : targets_) {
      if (t->in_flight && t->client) {
        curl_multi_remove_handle(multi_->handle, t->client->easy());
      }
    }
  }
}

namespace {

void LogState(const std::string& endpoint, std::optional<bool>& logged_ok, bool ok,
              const std::string& why) {
  if (logged_ok == ok) {
    return;
  }
  if (!ok) {
    spdlog::warn("scrape endpoint {}: failed: {}", endpoint, why);
  } else if (logged_ok.has_value()) {
    spdlog::info("scrape endpoint {}: recovered", endpoint);
  }
  logged_ok = ok;
}

ScrapeFormat FormatOf(const config::EndpointOptions& e, const http::HttpResponse& response) {
  switch (e.format) {
    case config::ScrapeFormat::kAuto:
      return DetectFormat(response.content_type, response.body);
    case config::ScrapeFormat::kPrometheusText:
      return ScrapeFormat::kPrometheusText;
    case config::ScrapeFormat::kOpenMetrics:
      return ScrapeFormat::kOpenMetrics;
    case config::ScrapeFormat::kJson:
      return ScrapeFormat::kJson;
  }
  return ScrapeFormat::kPrometheusText;
}

// Bodies up to this size are parsed as soon as their transfer ends (about a millisecond of
// parsing), larger ones once every transfer of the tick has ended.
constexpr curl_off_t kParseAtOnceBytes = 256 * 1024;

constexpr std::string_view kUnnamedError =
    "metric relabeling removed the name (__name__) of a sample";

Status ParseExposition(ScrapeFormat format, std::string_view body, std::int64_t wall_ms,
                       SampleVisitor& visitor, ParseStats& stats) {
  if (format == ScrapeFormat::kOpenMetrics) {
    return ParseOpenMetrics(body, wall_ms, visitor, stats);
  }
  ParsePrometheusText(body, wall_ms, visitor, stats);
  return Status::Ok();
}

}  // namespace

void ScrapeCollector::FinishScrape(Target& t, const CollectContext& ctx, Clock::time_point started,
                                   std::vector<MetricFamily>& out) {
  t.done = false;
  const Clock::time_point parse_started = Clock::now();
  Previous previous = TakePrevious(t);
  Result<http::HttpResponse> response = t.client->FinishRequest(t.result);
  std::string error;
  t.samples = 0;
  t.body_bytes = 0;
  if (!response) {
    error = response.error();
  } else if (response->status < 200 || response->status > 299) {
    error = "HTTP status " + std::to_string(response->status);
    t.body_bytes = static_cast<double>(response->body.size());
  } else {
    t.body_bytes = static_cast<double>(response->body.size());
    ParseStats stats;
    Status s = ParseResponse(t, *response, ctx.wall_ms, out, stats);
    t.parse_errors_total += stats.invalid_lines;
    t.samples = static_cast<double>(stats.samples);
    if (!s) {
      error = s.error();
      t.samples = 0;
    } else if (stats.invalid_lines > 0) {
      spdlog::debug("scrape endpoint {}: {} invalid lines, first: {}", t.options.name,
                    stats.invalid_lines, stats.first_error);
    }
  }
  // Transfer time plus this target's own parse time: waiting for the other targets of the
  // tick is not part of it.
  t.duration_seconds = Seconds((t.finished - started) + (Clock::now() - parse_started));
  EndScrape(t, ctx.wall_ms, std::move(error), std::move(previous));
}

CollectResult ScrapeCollector::Collect(const CollectContext& ctx) {
  std::vector<MetricFamily> out;
  CURLM* multi = multi_->handle;
  const Clock::time_point started = Clock::now();

  // 1. Start every due target.
  std::vector<Target*> scraping;
  for (auto& owned : targets_) {
    Target& t = *owned;
    // A quarter interval of slack: ticks jitter, and a target due "just after" this tick would
    // otherwise wait a whole extra tick.
    if (t.next_due && ctx.steady_now + t.interval / 4 < *t.next_due) {
      continue;
    }
    t.next_due = ctx.steady_now + t.interval;
    if (!t.client) {
      EndScrape(t, ctx.wall_ms, t.setup_error, TakePrevious(t));
      continue;
    }
    if (!multi_->ok()) {
      EndScrape(t, ctx.wall_ms, "cannot set up the transfers (curl_multi_init or epoll_create1)",
                TakePrevious(t));
      continue;
    }
    t.done = false;
    t.result = CURLE_OK;
    if (Status s = t.client->PrepareRequest(t.request); !s) {
      EndScrape(t, ctx.wall_ms, s.error(), TakePrevious(t));
      continue;
    }
    curl_easy_setopt(t.client->easy(), CURLOPT_PRIVATE, static_cast<void*>(&t));
    if (CURLMcode mc = curl_multi_add_handle(multi, t.client->easy()); mc != CURLM_OK) {
      (void)t.client->FinishRequest(CURLE_FAILED_INIT);
      EndScrape(t, ctx.wall_ms, curl_multi_strerror(mc), TakePrevious(t));
      continue;
    }
    t.in_flight = true;
    scraping.push_back(&t);
  }

  // 2. Run all transfers on this thread until each has finished or timed out. libcurl
  // enforces each transfer's own timeout; the loop guard only protects against a bug.
  std::chrono::milliseconds longest{0};
  for (Target* t : scraping) {
    longest = std::max(longest, t->timeout);
  }
  const Clock::time_point guard = started + longest + std::chrono::seconds(5);
  std::size_t remaining = scraping.size();
  while (remaining > 0) {
    int running = 0;
    CURLMcode mc = multi_->Step(std::chrono::milliseconds(100), running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) {
        continue;
      }
      void* user = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &user);
      auto* t = static_cast<Target*>(user);
      CURLcode result = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);  // invalidates msg
      if (t != nullptr && t->in_flight && t->client->FollowRedirect(result) &&
          curl_multi_add_handle(multi, t->client->easy()) == CURLM_OK) {
        continue;  // the next hop of a redirect runs in this same loop
      }
      if (t != nullptr && t->in_flight) {
        t->in_flight = false;
        t->done = true;
        t->result = result;
        t->finished = Clock::now();
        --remaining;
        // A small body is parsed now, so that its previous body is released before the
        // other answers arrive (with many targets, the old and the new bodies of all of them
        // would otherwise be held at once). A large one waits until no transfer is in
        // flight, so that its parse never eats into their timeouts.
        curl_off_t received = 0;
        curl_easy_getinfo(t->client->easy(), CURLINFO_SIZE_DOWNLOAD_T, &received);
        if (remaining > 0 && received <= kParseAtOnceBytes) {
          FinishScrape(*t, ctx, started, out);
        }
      }
    }
    if (remaining == 0) {
      break;
    }
    if (mc != CURLM_OK || Clock::now() > guard) {
      for (Target* t : scraping) {
        if (t->in_flight) {
          curl_multi_remove_handle(multi, t->client->easy());
          t->in_flight = false;
          t->done = true;
          t->result = mc != CURLM_OK ? CURLE_FAILED_INIT : CURLE_OPERATION_TIMEDOUT;
          t->finished = Clock::now();
        }
      }
      break;
    }
  }

  // 3. Parse what arrived and was not parsed yet.
  for (Target* t : scraping) {
    if (t->done) {
      FinishScrape(*t, ctx, started, out);
    }
  }

  {
    std::lock_guard lock(status_mutex_);
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      const Target& t = *targets_[i];
      ScrapeTargetStatus& status = statuses_[i];
      status.up = t.up;
      status.last_scrape_ms = t.last_scrape_ms;
      status.duration_seconds = t.duration_seconds;
      status.samples = t.samples;
      status.last_error = t.last_error;
    }
  }

  // 4. Self-metrics of every target, scraped this tick or not.
  auto family = [&](const char* family_name, const char* help, MetricType type, auto value) {
    FamilyBuilder b(family_name, help, type, ctx.wall_ms);
    for (const auto& t : targets_) {
      b.Add(value(*t), {{"endpoint", t->options.name}});
    }
    out.push_back(b.Build());
  };
  family("metricsd_scrape_up", "1 if the last scrape of the endpoint succeeded, else 0.",
         MetricType::kGauge, [](const Target& t) { return t.up ? 1.0 : 0.0; });
  family("metricsd_scrape_duration_seconds", "How long the last scrape of the endpoint took.",
         MetricType::kGauge, [](const Target& t) { return t.duration_seconds; });
  family("metricsd_scrape_samples", "Samples taken by the last scrape of the endpoint.",
         MetricType::kGauge, [](const Target& t) { return t.samples; });
  family("metricsd_scrape_body_bytes", "Decoded body size of the last scrape of the endpoint.",
         MetricType::kGauge, [](const Target& t) { return t.body_bytes; });
  if (sink_ != nullptr) {  // the cache is only used while samples are shipped
    family("metricsd_scrape_series_cache_entries",
           "Series of the endpoint held in its series cache (bounded by its sample_limit).",
           MetricType::kGauge,
           [](const Target& t) { return static_cast<double>(t.cache->size()); });
    family("metricsd_scrape_series_cache_bytes",
           "About the heap memory of the endpoint's series cache (entries with their shipped "
           "form, index), without the kept body its keys point into.",
           MetricType::kGauge,
           [](const Target& t) { return static_cast<double>(t.cache->memory_bytes()); });
  }
  family("metricsd_scrape_parse_errors_total",
         "Invalid lines (or rejected bodies) seen while parsing scrapes of the endpoint.",
         MetricType::kCounter,
         [](const Target& t) { return static_cast<double>(t.parse_errors_total); });
  {
    FamilyBuilder b("metricsd_scrape_limit_exceeded_total",
                    "Scrapes of the endpoint that failed because they exceeded a limit (sample, "
                    "label count, label name or value length, line length), by limit.",
                    MetricType::kCounter, ctx.wall_ms);
    for (const auto& t : targets_) {
      for (const auto& [limit, count] : t->limit_failures) {
        b.Add(static_cast<double>(count), {{"endpoint", t->options.name}, {"limit", limit}});
      }
    }
    MetricFamily limits = b.Build();
    if (!limits.samples.empty()) {
      out.push_back(std::move(limits));
    }
  }
  return CollectResult::Ok(std::move(out));
}

Status ScrapeCollector::ParseResponse(Target& t, http::HttpResponse& response, std::int64_t wall_ms,
                                      std::vector<MetricFamily>& out, ParseStats& stats) {
  const config::EndpointOptions& e = t.options;
  const ScrapeFormat format = FormatOf(e, response);
  LimitCheck limits(e.limits);
  auto over_limit = [&]() {
    ++t.limit_failures[limits.exceeded()];
    return Error{limits.error()};
  };
  if (format == ScrapeFormat::kJson) {
    std::vector<MetricFamily> families;
    if (Status s = ParseJsonApp(response.body, e.metric_prefix, wall_ms, families, stats); !s) {
      if (stats.invalid_lines == 0) {
        stats.invalid_lines = 1;
      }
      return Error{"parse error: " + s.error()};
    }
    ApplyTargetLabels(families, "", e.name, t.extra_labels);  // ParseJsonApp applied the prefix
    if (RelabelFamilies(families, t.relabel) == RelabelVerdict::kNoName) {
      return Error{std::string(kUnnamedError)};
    }
    std::vector<LabelView> views;
    for (const MetricFamily& family : families) {
      for (const Sample& sample : family.samples) {
        ViewLabels(sample.labels, views);
        if (!limits.Admit(sample.name, views)) {
          return over_limit();
        }
      }
    }
    if (sink_ != nullptr) {
      for (const MetricFamily& family : families) {
        for (const Sample& sample : family.samples) {
          t.series.Seen(SeriesTracker::Key(sample));
        }
      }
      t.json_families = families;
    }
    out.insert(out.end(), std::make_move_iterator(families.begin()),
               std::make_move_iterator(families.end()));
    if (t.cache) {
      t.cache->Clear();  // its texts point into the body stored below, which goes
    }
    std::lock_guard lock(stored_mutex_);
    t.stored.reset();
    return Status::Ok();
  }
  if (e.limits.line_length_limit != 0 && response.body.size() > e.limits.line_length_limit) {
    if (std::size_t longest = LongestLine(response.body); longest > e.limits.line_length_limit) {
      ++t.limit_failures["line_length_limit"];
      return Error{fmt::format("line_length_limit exceeded: a line of {} bytes, limit {}", longest,
                               e.limits.line_length_limit)};
    }
  }
  // The body is parsed where it will be kept: the series cache refers to its bytes.
  auto stored = std::make_shared<StoredBody>();
  stored->body = std::move(response.body);
  stored->format = format;
  stored->wall_ms = wall_ms;
  // One pass: the samples stream to the sink as they are read, and a body that turns out
  // invalid (OpenMetrics is all or nothing) or over a limit takes them back.
  Status parsed = Status::Ok();
  bool unnamed = false;
  if (sink_ != nullptr) {
    sink_->Mark();
    t.cache->BeginScrape();
    StreamingVisitor visitor(*t.labeler, e.metric_prefix, limits, *sink_, t.series, *t.cache,
                             wall_ms);
    parsed = ParseExposition(format, stored->body, wall_ms, visitor, stats);
    t.cache->EndScrape();
    unnamed = visitor.unnamed();
    if (!parsed || limits.exceeded() != nullptr || unnamed) {
      sink_->Rollback();  // and the scrape fails: EndScrape clears the cache
    }
  } else {
    CheckingVisitor visitor(*t.labeler, e.metric_prefix, limits);
    parsed = ParseExposition(format, stored->body, wall_ms, visitor, stats);
    unnamed = visitor.unnamed();
  }
  if (!parsed) {
    return Error{"parse error: " + parsed.error()};
  }
  if (unnamed) {
    return Error{std::string(kUnnamedError)};
  }
  if (limits.exceeded() != nullptr) {
    return over_limit();
  }
  std::lock_guard lock(stored_mutex_);
  t.stored = std::move(stored);
  return Status::Ok();
}

ScrapeCollector::Previous ScrapeCollector::TakePrevious(Target& t) {
  Previous previous;
  {
    std::lock_guard lock(stored_mutex_);
    previous.body = t.stored;
  }
  previous.json = std::move(t.json_families);
  t.json_families.clear();
  return previous;
}

void ScrapeCollector::EndScrape(Target& t, std::int64_t wall_ms, std::string error,
                                Previous previous) {
  t.up = error.empty();
  t.last_scrape_ms = wall_ms;
  t.last_error = std::move(error);
  LogState(t.options.name, t.logged_ok, t.up, t.last_error);
  if (!t.up) {
    if (t.cache) {
      t.cache->Clear();  // its texts point into the body that goes now
    }
    std::lock_guard lock(stored_mutex_);
    t.stored.reset();
  }
  if (sink_ == nullptr) {
    return;
  }
  // The series this scrape did not bring (all of them when it failed) end now.
  if (t.up) {
    t.series.EndRound(gone_);
  } else {
    t.series.Clear(gone_);
  }
  MarkGone(t, previous, gone_, wall_ms, *sink_);
}

void ScrapeCollector::MarkGone(Target& t, const Previous& previous,
                               const std::vector<std::uint64_t>& gone, std::int64_t wall_ms,
                               ScrapeSampleSink& markers) {
  if (gone.empty()) {
    return;
  }
  std::vector<bool> marked(gone.size());
  if (previous.body) {
    MarkerVisitor visitor(*t.labeler, t.options.metric_prefix, gone, marked, markers, wall_ms);
    ParseStats stats;
    (void)ParseExposition(previous.body->format, previous.body->body, previous.body->wall_ms,
                          visitor, stats);
  }
  std::vector<LabelView> views;
  for (const MetricFamily& family : previous.json) {
    for (const Sample& sample : family.samples) {
      ViewLabels(sample.labels, views);
      MarkIfGone(gone, marked, family.name, family.type, sample.name, views, markers, wall_ms);
    }
  }
}

void ScrapeCollector::HandOverSeries(ScrapeSource* next, ScrapeSampleSink& markers,
                                     std::int64_t wall_ms) {
  auto* successor = dynamic_cast<ScrapeCollector*>(next);
  for (auto& t : targets_) {
    // The same name, prefix and labels: the same series, so the next scrape decides.
    Target* same = nullptr;
    if (successor != nullptr) {
      for (auto& candidate : successor->targets_) {
        if (candidate->options.name == t->options.name &&
            candidate->options.metric_prefix == t->options.metric_prefix &&
            candidate->options.labels == t->options.labels &&
            candidate->options.metric_relabel_configs == t->options.metric_relabel_configs) {
          same = candidate.get();
          break;
        }
      }
    }
    Previous previous = TakePrevious(*t);
    if (same != nullptr) {
      same->series = std::move(t->series);
      same->json_families = std::move(previous.json);
      std::lock_guard lock(successor->stored_mutex_);
      same->stored = std::move(previous.body);
      continue;
    }
    t->series.Clear(gone_);
    MarkGone(*t, previous, gone_, wall_ms, markers);
  }
}

std::vector<ScrapeTargetStatus> ScrapeCollector::TargetStatuses() const {
  std::lock_guard lock(status_mutex_);
  return statuses_;
}

std::vector<std::shared_ptr<const ScrapeCollector::StoredBody>> ScrapeCollector::StoredBodies()
    const {
  std::vector<std::shared_ptr<const StoredBody>> bodies;
  std::lock_guard lock(stored_mutex_);
  for (const auto& t : targets_) {
    bodies.push_back(t->stored);
  }
  return bodies;
}

std::vector<MetricFamily> ScrapeCollector::MaterializeStored() const {
  const std::vector<std::shared_ptr<const StoredBody>> bodies = StoredBodies();
  std::vector<MetricFamily> out;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (!bodies[i]) {
      continue;
    }
    const Target& t = *targets_[i];
    std::vector<MetricFamily> families;
    ParseStats stats;
    if (bodies[i]->format == ScrapeFormat::kOpenMetrics) {
      (void)ParseOpenMetrics(bodies[i]->body, bodies[i]->wall_ms, families, stats);
    } else {
      ParsePrometheusText(bodies[i]->body, bodies[i]->wall_ms, families, stats);
    }
    ApplyTargetLabels(families, t.options.metric_prefix, t.options.name, t.extra_labels);
    (void)RelabelFamilies(families, t.relabel);  // a body kept was one whose names all stayed
    out.insert(out.end(), std::make_move_iterator(families.begin()),
               std::make_move_iterator(families.end()));
  }
  return out;
}

void ScrapeCollector::RenderStored(TextExpositionBuilder& out) const {
  const std::vector<std::shared_ptr<const StoredBody>> bodies = StoredBodies();
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (!bodies[i]) {
      continue;
    }
    const Target& t = *targets_[i];
    // A labeler of its own: this may run on any thread, beside a scrape.
    TargetLabeler labeler(t.options.metric_prefix, t.options.name, t.extra_labels, t.relabel);
    RenderingVisitor visitor(labeler, t.options.metric_prefix, out);
    out.BeginSource();
    ParseStats stats;
    if (!ParseExposition(bodies[i]->format, bodies[i]->body, bodies[i]->wall_ms, visitor, stats)
             .ok()) {
      out.DiscardSource();
    }
  }
}

}  // namespace metricsd
