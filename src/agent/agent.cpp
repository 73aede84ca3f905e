#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "agent/process_metrics.h"
#include "collectors/cpu_collector.h"
#include "collectors/diskio_collector.h"
#include "collectors/filesystem_collector.h"
#include "collectors/gpu_collector.h"
#include "collectors/host_collector.h"
#include "collectors/memory_collector.h"
#include "collectors/network_collector.h"
#include "collectors/pressure_collector.h"
#include "collectors/proc_stat_source.h"
#include "core/duration.h"
#include "core/version.h"
#include "formats/prometheus_text_writer.h"
#include "queue/batch_codec.h"
#include "queue/data_dir.h"

namespace metricsd {

std::vector<std::unique_ptr<Collector>> BuildSystemCollectors(const config::Config& config,
                                                              const HostPaths& paths) {
  const config::CollectorOptions& c = config.collector;
  std::vector<std::unique_ptr<Collector>> collectors;
  // The CPU and host collectors share one read of /proc/stat per tick.
  auto stat = std::make_shared<ProcStatSource>(paths);
  if (c.enable_host) {
    collectors.push_back(std::make_unique<HostCollector>(paths, stat));
  }
  if (c.enable_cpu) {
    collectors.push_back(std::make_unique<CpuCollector>(paths, stat));
  }
  if (c.enable_memory) {
    collectors.push_back(std::make_unique<MemoryCollector>(paths));
  }
  if (c.enable_disk) {
    collectors.push_back(std::make_unique<FilesystemCollector>(paths, c.filesystems));
    collectors.push_back(std::make_unique<DiskIoCollector>(paths, c.disk_io));
  }
  if (c.enable_network) {
    collectors.push_back(std::make_unique<NetworkCollector>(paths, c.network));
  }
  if (c.enable_pressure) {
    collectors.push_back(std::make_unique<PressureCollector>(paths));
  }
  if (c.enable_gpu) {
    collectors.push_back(std::make_unique<GpuCollector>(c.gpu));
  }
  return collectors;
}

// Encodes streamed scrape samples for the queues, adding the shippers' global labels where
// the sample has no label of that name (as Ship() does for families).
class Agent::ScrapeQueueSink final : public ScrapeSampleSink {
 public:
  explicit ScrapeQueueSink(const Labels& global) : global_(global) {}

  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override {
    if (global_.empty()) {
      writer_.Add(family, help, type, name, labels, value, timestamp_ms);
      return;
    }
    merged_.clear();
    std::size_t j = 0;
    for (const LabelView& label : labels) {
      while (j < global_.size() && std::string_view(global_[j].name) < label.name) {
        merged_.push_back(LabelView{global_[j].name, global_[j].value});
        ++j;
      }
      if (j < global_.size() && global_[j].name == label.name) {
        ++j;  // the sample's own label wins
      }
      merged_.push_back(label);
    }
    for (; j < global_.size(); ++j) {
      merged_.push_back(LabelView{global_[j].name, global_[j].value});
    }
    writer_.Add(family, help, type, name, merged_, value, timestamp_ms);
  }

  // What was added since the last call, encoded once for every queue.
  queue::EncodedBatch Take() {
    queue::EncodedBatch encoded;
    encoded.samples = static_cast<std::uint32_t>(writer_.samples());
    encoded.min_timestamp_ms = writer_.min_timestamp_ms();
    encoded.payload = writer_.Finish();
    return encoded;
  }

 private:
  const Labels& global_;
  queue::BatchWriter writer_;
  std::vector<LabelView> merged_;
};

namespace {

std::string ShipperKey(const config::ShipperOptions& options) {
  return options.name == "default" ? "shipper" : "shippers[" + options.name + "]";
}

}  // namespace

namespace {

// Scrape targets share the TLS code: their settings are checked as strictly, at start-up.
Status ValidateEndpointTls(const config::Config& config, const NetApi& net) {
  for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
    Status tls =
        net.ValidateTlsOptions(config.endpoints[i].tls, "endpoints[" + std::to_string(i) + "].tls");
    if (!tls.ok()) {
      return tls;
    }
  }
  return {};
}

}  // namespace

bool NeedsNetwork(const config::Config& config) {
  return !config.shippers.empty() || !config.endpoints.empty();
}

Status ValidateShippers(const config::Config& config, const NetApi* net) {
  if (!NeedsNetwork(config)) {
    return {};
  }
  if (net == nullptr) {
    return Error{"shippers and scrape endpoints need the network module, which is not loaded"};
  }
  for (const config::ShipperOptions& options : config.shippers) {
    if (auto shipper = net->MakeShipper(options, ShipperKey(options)); !shipper.ok()) {
      return Error{shipper.error()};
    }
  }
  return ValidateEndpointTls(config, *net);
}

Agent::Agent(config::Config config, HostPaths paths, ProcessInfo process,
             std::shared_ptr<const NetApi> net)
    : config_(std::move(config)),
      paths_(std::move(paths)),
      process_(std::move(process)),
      net_(std::move(net)),
      system_(BuildSystemCollectors(config_, paths_)) {
  if (NeedsNetwork(config_) && !net_) {
    throw std::invalid_argument("shippers and scrape endpoints need a NetApi");
  }
  for (const auto& [name, value] : config_.global_labels) {
    shipped_labels_.push_back(Label{name, value});
  }
  if (config_.hostname_label) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) {
      shipped_labels_.push_back(Label{"hostname", host});
    }
  }
  SortLabels(shipped_labels_);
  if (!config_.endpoints.empty()) {
    if (Status tls = ValidateEndpointTls(config_, *net_); !tls.ok()) {
      throw ConfigError(tls.error());
    }
    if (!config_.shippers.empty()) {
      scrape_sink_ = std::make_unique<ScrapeQueueSink>(shipped_labels_);
    }
    std::unique_ptr<ScrapeSource> collector = net_->MakeScrapeCollector(
        config_.endpoints, config_.collector.interval, scrape_sink_.get());
    scrape_collector_ = collector.get();
    std::vector<std::unique_ptr<Collector>> scrape;
    scrape.push_back(std::move(collector));
    scrape_ = std::make_unique<CollectorRunner>(std::move(scrape));
  }
  if (config_.shippers.empty()) {
    return;
  }
  std::string config_path =
      process_.config_source == "embedded default" ? "" : process_.config_source;
  data_dir_ = queue::ResolveDataDir(config_.data_dir, config_path);
  for (const config::ShipperOptions& options : config_.shippers) {
    auto shipper = net_->MakeShipper(options, ShipperKey(options));
    if (!shipper.ok()) {
      throw ConfigError(shipper.error());
    }
    queues_.push_back(std::make_unique<queue::ShipperQueue>(
        queue::MakeShipperQueueOptions(options, data_dir_), std::move(*shipper), clock_));
  }
}

Agent::~Agent() { Stop(); }

void Agent::Start() {
  if (!queues_.empty()) {
    spdlog::info("buffering unsent data under {}", data_dir_);
  }
  for (auto& q : queues_) {
    q->Start();
  }
  system_scheduler_ = std::make_unique<Scheduler>(
      config_.collector.interval, timer_, [this](Timer::TimePoint) { SystemTick(); }, "md-collect");
  system_scheduler_->Start();
  if (scrape_) {
    // Per-endpoint intervals are handled inside the collector (targets not yet due are
    // skipped), so this thread ticks at the collector interval.
    scrape_scheduler_ = std::make_unique<Scheduler>(
        config_.collector.interval, timer_, [this](Timer::TimePoint) { ScrapeTick(); },
        "md-scrape");
    scrape_scheduler_->Start();
  }
}

void Agent::Stop() {
  if (scrape_scheduler_) {
    scrape_scheduler_->Stop();
    scrape_scheduler_.reset();
  }
  if (system_scheduler_) {
    system_scheduler_->Stop();
    system_scheduler_.reset();
  }
  // Unsent batches stay in each queue's on-disk buffer for the next start.
  for (auto& q : queues_) {
    q->Stop();
  }
}

void Agent::SystemTick() {
  auto started = std::chrono::steady_clock::now();
  CollectContext ctx{.steady_now = clock_.SteadyNow(), .wall_ms = clock_.WallMillis()};
  // Reuse the spare buffer when the only reference left is ours: readers get references only
  // from system_snapshot_, which no longer points into it, so none can appear meanwhile. The
  // fence pairs with the release of the last reader's reference (use_count() is a relaxed
  // load), so that reader's accesses happen before our writes.
  std::shared_ptr<CollectorRunner::Output> output = std::move(system_spare_);
  if (output && output.use_count() == 1) {
    std::atomic_thread_fence(std::memory_order_acquire);
  } else {
    output = std::make_shared<CollectorRunner::Output>();
  }
  system_.RunOnce(ctx, *output);
  const std::vector<MetricFamily>* families = &output->families;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  last_cycle_seconds_.store(seconds);
  cycles_.fetch_add(1);
  if (seconds > 0.8 * static_cast<double>(config_.collector.interval.count())) {
    spdlog::warn("collection took {:.3f}s, more than 80% of the {}s interval", seconds,
                 config_.collector.interval.count());
  }
  std::shared_ptr<const std::vector<MetricFamily>> snapshot(output, families);
  {
    std::lock_guard lock(snapshot_mutex_);
    system_snapshot_.swap(snapshot);
  }
  snapshot.reset();  // the previous snapshot; readers may still hold it
  system_spare_ = std::exchange(system_published_, std::move(output));
  ready_.store(true);
  Ship(*families);
  spdlog::debug("collection cycle: {} families in {:.6f}s", families->size(), seconds);
}

void Agent::ScrapeTick() {
  CollectContext ctx{.steady_now = clock_.SteadyNow(), .wall_ms = clock_.WallMillis()};
  auto families = std::make_shared<std::vector<MetricFamily>>(scrape_->RunOnce(ctx));
  {
    std::lock_guard lock(snapshot_mutex_);
    scrape_snapshot_ = families;
  }
  if (scrape_sink_) {
    queue::EncodedBatch streamed = scrape_sink_->Take();
    if (streamed.samples > 0) {
      for (auto& q : queues_) {
        q->Enqueue(streamed);
      }
    }
  }
  Ship(*families);
  spdlog::debug("scrape cycle: {} families", families->size());
}

void Agent::Ship(const std::vector<MetricFamily>& families) {
  if (queues_.empty() || families.empty()) {
    return;
  }
  if (shipped_labels_.empty()) {
    // Nothing to add: encode the families as they are, without a copy.
    queue::EncodedBatch encoded = queue::EncodeForQueue(families);
    for (auto& q : queues_) {
      q->Enqueue(encoded);
    }
    return;
  }
  Batch batch = families;
  for (MetricFamily& family : batch) {
    for (Sample& sample : family.samples) {
      for (const Label& label : shipped_labels_) {
        // A label the source already set wins over a global one.
        auto it = std::lower_bound(sample.labels.begin(), sample.labels.end(), label.name,
                                   [](const Label& l, const std::string& n) { return l.name < n; });
        if (it == sample.labels.end() || it->name != label.name) {
          sample.labels.insert(it, label);
        }
      }
    }
  }
  // Encoded once, enqueued to every shipper; Enqueue never waits for the network.
  queue::EncodedBatch encoded = queue::EncodeForQueue(batch);
  for (auto& q : queues_) {
    q->Enqueue(encoded);
  }
}

std::vector<MetricFamily> Agent::CollectOnce() {
  CollectContext ctx{.steady_now = clock_.SteadyNow(), .wall_ms = clock_.WallMillis()};
  std::vector<MetricFamily> families = system_.RunOnce(ctx);
  if (scrape_) {
    std::vector<MetricFamily> more = scrape_->RunOnce(ctx);
    std::vector<MetricFamily> scraped = scrape_collector_->MaterializeStored();
    for (std::vector<MetricFamily>* part : {&scraped, &more}) {
      families.insert(families.end(), std::make_move_iterator(part->begin()),
                      std::make_move_iterator(part->end()));
    }
  }
  return families;
}

std::vector<MetricFamily> Agent::SelfMetrics(std::int64_t wall_ms) const {
  std::vector<MetricFamily> out;
  out.push_back(
      FamilyBuilder("metricsd_build_info", "metricsd version.", MetricType::kGauge, wall_ms)
          .Add(1, {{"version", kVersion}})
          .Build());
  out.push_back(FamilyBuilder("metricsd_collection_cycles_total",
                              "Collection cycles of the system collectors since start.",
                              MetricType::kCounter, wall_ms)
                    .Add(static_cast<double>(cycles_.load()))
                    .Build());
  out.push_back(FamilyBuilder("metricsd_collection_duration_seconds",
                              "Time the last cycle of the system collectors took.",
                              MetricType::kGauge, wall_ms)
                    .Add(last_cycle_seconds_.load())
                    .Build());
  system_.AppendSelfMetrics(wall_ms, out);
  if (scrape_) {
    // Same family names as the system runner's: merge, so each family appears once.
    std::vector<MetricFamily> more;
    scrape_->AppendSelfMetrics(wall_ms, more);
    for (MetricFamily& family : more) {
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const MetricFamily& f) { return f.name == family.name; });
      if (it == out.end()) {
        out.push_back(std::move(family));
      } else {
        it->samples.insert(it->samples.end(), std::make_move_iterator(family.samples.begin()),
                           std::make_move_iterator(family.samples.end()));
      }
    }
  }
  for (const auto& q : queues_) {
    q->AppendMetrics(out);
  }
  AppendProcessMetrics(wall_ms, out);
  return out;
}

std::string Agent::RenderMetrics() const {
  std::shared_ptr<const std::vector<MetricFamily>> snapshot;
  std::shared_ptr<const std::vector<MetricFamily>> scraped;
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot = system_snapshot_;
    scraped = scrape_snapshot_;
  }
  std::string out;
  out.reserve(64 * 1024);
  std::vector<MetricFamily> self = SelfMetrics(clock_.WallMillis());
  // Scraped text bodies become families only here, when someone asks.
  std::vector<MetricFamily> stored;
  if (scrape_collector_ != nullptr) {
    stored = scrape_collector_->MaterializeStored();
  }
  std::vector<std::span<const MetricFamily>> parts{self};
  if (snapshot) {
    parts.emplace_back(*snapshot);
  }
  parts.emplace_back(stored);
  if (scraped) {
    parts.emplace_back(*scraped);
  }
  AppendPrometheusText(parts, out);
  return out;
}

namespace {

std::string Rfc3339(std::int64_t wall_ms) {
  std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace

HealthView Agent::Health() const {
  using nlohmann::json;
  std::int64_t now_ms = clock_.WallMillis();
  auto uptime = std::chrono::steady_clock::now() - process_.started;
  json body;
  std::vector<std::string> reasons;
  json collectors = json::object();
  std::vector<CollectorHealth> collector_health = system_.Health();
  if (scrape_) {
    for (CollectorHealth& h : scrape_->Health()) {
      collector_health.push_back(std::move(h));
    }
  }
  for (const CollectorHealth& h : collector_health) {
    json c = {{"status", h.state}, {"duration_seconds", h.last_duration_seconds}};
    if (h.last_success_ms > 0) {
      c["last_success"] = Rfc3339(h.last_success_ms);
    }
    if (!h.last_error.empty()) {
      c["error"] = h.last_error;
    }
    collectors[h.name] = c;
  }
  json shippers = json::object();
  for (const auto& q : queues_) {
    queue::ShipperHealth h = q->Health(config_.server.health_degraded_after);
    json j = {{"status", h.degraded ? "degraded" : "ok"},
              {"pending_samples", h.pending_samples},
              {"disk_ok", h.disk_ok}};
    if (h.last_success_ms) {
      j["last_success"] = Rfc3339(*h.last_success_ms);
    }
    if (!h.last_error.empty()) {
      j["last_error"] = h.last_error;
    }
    if (h.next_retry_in) {
      j["next_retry_in_seconds"] = h.next_retry_in->count() / 1000.0;
    }
    if (h.degraded) {
      j["reason"] = h.reason;
      reasons.push_back("shipper " + q->name() + ": " + h.reason);
    }
    shippers[q->name()] = j;
  }
  bool degraded = !reasons.empty();
  body["status"] = degraded ? "degraded" : "healthy";
  body["timestamp"] = Rfc3339(now_ms);
  body["uptime"] = FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(uptime));
  body["uptime_seconds"] = std::chrono::duration<double>(uptime).count();
  body["version"] = kVersion;
  body["ready"] = ready_.load();
  if (degraded) {
    body["reasons"] = reasons;
  }
  body["collectors"] = collectors;
  body["shippers"] = shippers;
  return HealthView{.ready = ready_.load(), .degraded = degraded, .json = body.dump() + "\n"};
}

}  // namespace metricsd
