#include "agent/agent.h"

#include <malloc.h>

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
#include "collectors/node_exporter_collectors.h"
#include "collectors/pressure_collector.h"
#include "collectors/proc_stat_source.h"
#include "collectors/textfile_collector.h"
#include "config/config_loader.h"
#include "core/duration.h"
#include "core/version.h"
#include "formats/prometheus_text_writer.h"
#include "formats/target_labels.h"
#include "queue/batch_codec.h"
#include "queue/data_dir.h"

namespace metricsd {

// Past this size, a newly built scrape part returns the memory freed around it to the system.
constexpr std::size_t kTrimAfterPartBytes = 4u << 20;

std::vector<std::unique_ptr<Collector>> BuildSystemCollectors(const config::Config& config,
                                                              const HostPaths& paths) {
  const config::CollectorOptions& c = config.collector;
  std::vector<std::unique_ptr<Collector>> collectors;
  // Every collector that reads /proc/stat shares one read per tick.
  auto stat = std::make_shared<ProcStatSource>(paths);
  if (c.native_names()) {
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
  }
  if (c.node_exporter_names()) {
    if (c.enable_host) {
      collectors.push_back(std::make_unique<NodeStatCollector>(stat));
      collectors.push_back(std::make_unique<NodeLoadavgCollector>(paths));
      collectors.push_back(std::make_unique<NodeUnameCollector>());
      collectors.push_back(std::make_unique<NodeTimeCollector>(paths));
      collectors.push_back(std::make_unique<NodeOsCollector>(paths));
    }
    if (c.enable_cpu) {
      collectors.push_back(std::make_unique<NodeCpuCollector>(paths, stat));
    }
    if (c.enable_memory) {
      collectors.push_back(std::make_unique<NodeMeminfoCollector>(paths));
      collectors.push_back(std::make_unique<NodeVmstatCollector>(paths));
    }
    if (c.enable_disk) {
      collectors.push_back(std::make_unique<FilesystemCollector>(
          paths, NodeExporterFilesystemOptions(c.filesystems), NameProfile::kNodeExporter));
      collectors.push_back(
          std::make_unique<NodeDiskstatsCollector>(paths, NodeExporterDiskIoOptions(c.disk_io)));
    }
    if (c.enable_network) {
      collectors.push_back(std::make_unique<NodeNetdevCollector>(paths, c.network));
    }
    if (c.enable_pressure) {
      collectors.push_back(std::make_unique<PressureCollector>(paths, NameProfile::kNodeExporter));
    }
  }
  if (c.enable_gpu) {
    collectors.push_back(std::make_unique<GpuCollector>(c.gpu));
  }
  // The directory is a path as metricsd sees it, not below HOST_ROOT: it holds files written
  // for metricsd, not the host's own state.
  if (!c.textfile.directory.empty()) {
    collectors.push_back(
        std::make_unique<TextfileCollector>(c.textfile, c.naming, config.scrape_limits));
  }
  return collectors;
}

namespace {

std::string ShipperKey(const config::ShipperOptions& options) {
  return options.name == "default" ? "shipper" : "shippers[" + options.name + "]";
}

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) {
    return {};
  }
  return host;
}

// Every file a shipper reads a credential from: a change to one rebuilds the shipper.
std::vector<std::string> CredentialFiles(const config::ShipperOptions& options) {
  std::vector<std::string> files;
  for (const std::string* path :
       {&options.auth.basic_auth.password_file, &options.auth.bearer_token_file,
        &options.tls.ca_file, &options.tls.cert_file, &options.tls.key_file}) {
    if (!path->empty()) {
      files.push_back(*path);
    }
  }
  return files;
}

std::string Seconds(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
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
  return !config.shippers.empty() || !config.endpoints.empty() || config.server.tls.enabled();
}

Status ValidateNetworkSettings(const config::Config& config, const NetApi* net) {
  if (!NeedsNetwork(config)) {
    return {};
  }
  if (net == nullptr) {
    return Error{
        "shippers, scrape endpoints and server TLS need the network module, which is not loaded"};
  }
  for (const config::ShipperOptions& options : config.shippers) {
    if (auto shipper = net->MakeShipper(options, ShipperKey(options)); !shipper.ok()) {
      return Error{shipper.error()};
    }
  }
  return ValidateEndpointTls(config, *net);
}

Result<ServerSecurity> MakeServerSecurity(const config::ServerOptions& server, const NetApi* net) {
  using config::ClientAuth;
  const bool require_cert = server.tls.enabled() && server.tls.effective_client_auth() ==
                                                        ClientAuth::kRequireAndVerifyClientCert;
  ServerSecurity security{.basic_auth_users = server.basic_auth_users,
                          .require_client_cert = require_cert,
                          .probes_skip_auth = server.probes_skip_auth};
  if (server.tls.enabled()) {
    if (net == nullptr) {
      return Error{"server.tls needs the network module, which is not loaded"};
    }
    // With probes exempted, the handshake lets certificate-less clients in and the server
    // refuses them per request instead.
    auto tls =
        net->MakeServerTls(server.tls, require_cert && server.probes_skip_auth, "server.tls");
    if (!tls.ok()) {
      return Error{tls.error()};
    }
    security.tls = std::move(*tls);
  }
  return security;
}

Agent::Agent(config::Config config, HostPaths paths, ProcessInfo process, const Clock& clock,
             std::shared_ptr<const NetApi> net, const Queues& previous)
    : config_(std::move(config)),
      effective_config_(config::RenderEffectiveConfig(config_)),
      paths_(std::move(paths)),
      process_(std::move(process)),
      net_(std::move(net)),
      clock_(clock),
      system_(BuildSystemCollectors(config_, paths_)) {
  // Checked when the configuration was loaded.
  if (Result<RelabelProgram> program =
          RelabelProgram::Compile(config_.collector.metric_relabel_configs)) {
    system_relabel_ = std::move(*program);
  } else {
    throw std::invalid_argument("collector.metric_relabel_configs" + program.error());
  }
  if (NeedsNetwork(config_) && !net_) {
    throw std::invalid_argument("shippers and scrape endpoints need a NetApi");
  }
  if (!config_.shippers.empty()) {
    Labels global;
    for (const auto& [name, value] : config_.global_labels) {
      global.push_back(Label{name, value});
    }
    if (config_.hostname_label) {
      global.push_back(Label{"hostname", HostName()});
    }
    const std::string instance = config_.instance.value_or(HostName());
    const auto feeds = [&] {
      std::vector<ShipperFeed> out;
      for (std::size_t i = 0; i < config_.shippers.size(); ++i) {
        const config::ShipperOptions& shipper = config_.shippers[i];
        // Checked when the configuration was loaded.
        Result<RelabelProgram> program = RelabelProgram::Compile(shipper.write_relabel_configs);
        if (!program) {
          throw std::invalid_argument("shippers[" + std::to_string(i) + "].write_relabel_configs" +
                                      program.error());
        }
        ShipperFeed feed{std::move(*program), std::nullopt};
        if (shipper.type == config::ShipperType::kPrometheusRemoteWrite) {
          feed.ready_requests = shipper.max_samples_per_request;
          feed.reuse_compression = shipper.reuse_compression;
        }
        out.push_back(std::move(feed));
      }
      return out;
    };
    system_batch_ = std::make_unique<ShippedBatch>(instance, global, feeds());
    if (!config_.endpoints.empty()) {
      scrape_sink_ = std::make_unique<ShippedBatch>(instance, global, feeds());
    }
  }
  if (!config_.endpoints.empty()) {
    if (Status tls = ValidateEndpointTls(config_, *net_); !tls.ok()) {
      throw ConfigError(tls.error());
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
    const std::string key = ShipperKey(options);
    auto shipper = net_->MakeShipper(options, key);
    if (!shipper.ok()) {
      throw ConfigError(shipper.error());
    }
    queue::ShipperQueueOptions queue_options = queue::MakeShipperQueueOptions(options, data_dir_);
    queue_options.credential_files = CredentialFiles(options);
    queue_options.remake_shipper = [net = net_, options, key] {
      return net->MakeShipper(options, key);
    };
    // One request may take the whole timeout, and a few of them make one send.
    queue_options.stall_after = 2 * options.timeout + std::chrono::minutes(1);
    auto same = std::find_if(previous.begin(), previous.end(), [&](const auto& q) {
      return q->name() == queue_options.name && q->dir() == queue_options.dir;
    });
    if (same != previous.end()) {
      queues_.push_back(*same);
      handovers_.push_back(Handover{*same, std::move(*shipper), std::move(queue_options)});
      continue;
    }
    queues_.push_back(std::make_shared<queue::ShipperQueue>(std::move(queue_options),
                                                            std::move(*shipper), clock_));
  }
}

Agent::~Agent() { StopCollection(); }

void Agent::Start() {
  if (!queues_.empty()) {
    spdlog::info("buffering unsent data under {}", data_dir_);
  }
  for (Handover& handover : handovers_) {
    handover.queue->Reconfigure(std::move(handover.shipper), std::move(handover.options));
  }
  handovers_.clear();
  for (auto& q : queues_) {
    q->Start();
  }
  {
    std::lock_guard lock(history_mutex_);
    queue_depths_.resize(queues_.size());
  }
  // A tick that runs past these limits is a hung thread: the watchdog stops being fed.
  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::seconds(config_.collector.interval));
  system_scheduler_ = std::make_unique<Scheduler>(
      config_.collector.interval, timer_, [this](Timer::TimePoint) { SystemTick(); }, "md-collect",
      interval + std::chrono::minutes(1), &skipped_cycles_);
  system_scheduler_->Start();
  if (scrape_) {
    // Targets are scraped one after the other, each within its timeout.
    std::chrono::nanoseconds scrape_limit = interval + std::chrono::minutes(1);
    for (const config::EndpointOptions& e : config_.endpoints) {
      scrape_limit += e.timeout.value_or(std::chrono::seconds(10));
    }
    // Per-endpoint intervals are handled inside the collector (targets not yet due are
    // skipped), so this thread ticks at the collector interval.
    scrape_scheduler_ = std::make_unique<Scheduler>(
        config_.collector.interval, timer_, [this](Timer::TimePoint) { ScrapeTick(); }, "md-scrape",
        scrape_limit);
    scrape_scheduler_->Start();
  }
}

void Agent::StopCollection() {
  if (scrape_scheduler_) {
    scrape_scheduler_->Stop();
    scrape_scheduler_.reset();
  }
  if (system_scheduler_) {
    system_scheduler_->Stop();
    system_scheduler_.reset();
  }
}

void Agent::Stop() {
  StopCollection();
  // Unsent batches stay in each queue's on-disk buffer for the next start.
  for (auto& q : queues_) {
    q->Stop();
  }
}

std::optional<std::string> Agent::Stalled(std::chrono::steady_clock::time_point now) const {
  for (const Scheduler* scheduler : {system_scheduler_.get(), scrape_scheduler_.get()}) {
    if (scheduler == nullptr) {
      continue;
    }
    if (auto busy = scheduler->progress().StalledFor(now)) {
      return scheduler->thread_name() + ": one cycle has run for " + Seconds(*busy);
    }
  }
  for (const auto& q : queues_) {
    if (auto busy = q->progress().StalledFor(now)) {
      return "md-ship-" + q->name() + ": one send has run for " + Seconds(*busy);
    }
  }
  return std::nullopt;
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
  RelabelSystem(output->families);
  if (!system_relabel_.empty()) {
    // Relabeled families are not what the collectors wrote: they rebuild theirs next cycle.
    output->counts.clear();
  }
  process_metrics_.SampleOpenFds();
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
  if (PullsExpected()) {
    const std::span<const MetricFamily> lists[] = {*families};
    PublishPart(lists, system_part_, scrape_part_);
  } else {
    DropParts(system_part_);
  }
  system_spare_ = std::exchange(system_published_, std::move(output));
  ready_.store(true);
  if (system_batch_) {
    system_staleness_.Cycle(*families, ctx.wall_ms, *system_batch_);
    if (config_.ship_self_metrics) {
      std::vector<MetricFamily> self = CycleSelfMetrics(ctx.wall_ms);
      std::vector<MetricFamily> now = RequestSelfMetrics(ctx.wall_ms);
      self.insert(self.end(), std::make_move_iterator(now.begin()),
                  std::make_move_iterator(now.end()));
      self_staleness_.Cycle(self, ctx.wall_ms, *system_batch_);
      system_batch_->AddFamilies(self);
    }
    Ship(*families, *system_batch_);
  }
  {
    const auto now = clock_.SteadyNow();
    std::lock_guard lock(history_mutex_);
    collection_seconds_.Record(now, seconds);
    for (std::size_t i = 0; i < queue_depths_.size(); ++i) {
      queue_depths_[i].Record(now, static_cast<double>(queues_[i]->QueueStats().pending_samples));
    }
  }
  spdlog::debug("collection cycle: {} families in {:.6f}s", families->size(), seconds);
}

void Agent::ScrapeTick() {
  CollectContext ctx{.steady_now = clock_.SteadyNow(), .wall_ms = clock_.WallMillis()};
  auto families = std::make_shared<std::vector<MetricFamily>>(scrape_->RunOnce(ctx));
  {
    std::lock_guard lock(snapshot_mutex_);
    scrape_snapshot_ = families;
  }
  if (PullsExpected()) {
    // Kept text bodies are rendered here, once per cycle, instead of per /metrics request.
    std::lock_guard build(part_build_mutex_);
    PublishScrapePartLocked(*families);
    PublishSelfPartLocked();
  } else {
    DropParts(scrape_part_);
  }
  if (scrape_sink_) {
    scrape_self_staleness_.Cycle(*families, ctx.wall_ms, *scrape_sink_);
    // The streamed samples first, then the families of JSON targets, in one batch.
    Ship(*families, *scrape_sink_);
  }
  spdlog::debug("scrape cycle: {} families", families->size());
}

bool Agent::PullsExpected() const {
  const std::int64_t last = last_pull_ms_.load(std::memory_order_relaxed);
  const std::int64_t remember_ms =
      std::max<std::int64_t>(5 * 60 * 1000, 3 * 1000 * config_.collector.interval.count());
  return last != 0 && clock_.WallMillis() - last < remember_ms;
}

void Agent::DropParts(std::shared_ptr<const ExpositionPart>& mine) {
  std::shared_ptr<const ExpositionPart> gone;
  std::shared_ptr<const ExpositionPart> self;
  std::lock_guard lock(snapshot_mutex_);
  gone.swap(mine);
  self.swap(self_part_);
}

void Agent::PublishPart(std::span<const std::span<const MetricFamily>> lists,
                        std::shared_ptr<const ExpositionPart>& mine,
                        const std::shared_ptr<const ExpositionPart>& other) {
  std::lock_guard build(part_build_mutex_);
  PublishPartLocked(lists, mine, other);
  PublishSelfPartLocked();
}

void Agent::PublishPartLocked(std::span<const std::span<const MetricFamily>> lists,
                              std::shared_ptr<const ExpositionPart>& mine,
                              const std::shared_ptr<const ExpositionPart>& other) {
  std::shared_ptr<const ExpositionPart> previous;
  std::shared_ptr<const ExpositionPart> latest_other;
  {
    std::lock_guard lock(snapshot_mutex_);
    previous = mine;
    latest_other = other;
  }
  auto part = ExpositionPart::Build(lists, previous.get(), latest_other.get());
  std::lock_guard lock(snapshot_mutex_);
  mine.swap(part);
}

void Agent::PublishScrapePartLocked(std::span<const MetricFamily> json_families) {
  std::shared_ptr<const ExpositionPart> previous;
  std::shared_ptr<const ExpositionPart> latest_system;
  {
    std::lock_guard lock(snapshot_mutex_);
    previous = scrape_part_;
    latest_system = system_part_;
  }
  TextExpositionBuilder builder = ExpositionPart::NewBuilder();
  scrape_collector_->RenderStored(builder);
  builder.AddFamilies(json_families);
  auto part = ExpositionPart::Build(builder, previous.get(), latest_system.get());
  // A large part leaves as much freed behind each cycle (the old part, the old body), which
  // malloc keeps resident in its arenas, where the next cycle's bodies and parts do not fit
  // it back exactly: a 7.9 MiB target pulled every second peaked at 92.7 MB without this,
  // 78.0 MB with it (bench/hostile_target.sh). Small parts leave too little to matter.
  const bool large = part->text()->size() > kTrimAfterPartBytes;
  {
    std::lock_guard lock(snapshot_mutex_);
    scrape_part_.swap(part);
  }
  if (large) {
    part.reset();  // the old part, unless a slow reader still holds it
    previous.reset();
    ::malloc_trim(0);
  }
}

void Agent::PublishSelfPartLocked() {
  std::shared_ptr<const ExpositionPart> previous;
  {
    std::lock_guard lock(snapshot_mutex_);
    previous = self_part_;
  }
  auto part = ExpositionPart::BuildSelf(CycleSelfMetrics(clock_.WallMillis()), previous.get());
  std::lock_guard lock(snapshot_mutex_);
  self_part_.swap(part);
}

void Agent::PrepareMissingParts() {
  // Under the build lock, so that a cycle publishing at the same time is not overwritten
  // with an older snapshot's part.
  std::lock_guard build(part_build_mutex_);
  std::shared_ptr<const std::vector<MetricFamily>> system;
  std::shared_ptr<const std::vector<MetricFamily>> scraped;
  bool self_missing = false;
  {
    std::lock_guard lock(snapshot_mutex_);
    self_missing = self_part_ == nullptr;
    if (system_part_ == nullptr) {
      system = system_snapshot_;
    }
    if (scrape_ && scrape_part_ == nullptr) {
      scraped = scrape_snapshot_;
    }
  }
  if (system) {
    const std::span<const MetricFamily> lists[] = {*system};
    PublishPartLocked(lists, system_part_, scrape_part_);
  }
  if (scraped) {
    PublishScrapePartLocked(*scraped);
  }
  if (self_missing || system || scraped) {
    PublishSelfPartLocked();
  }
}

void Agent::InheritSeries(Agent& previous) {
  system_staleness_ = std::move(previous.system_staleness_);
  self_staleness_ = std::move(previous.self_staleness_);
  scrape_self_staleness_ = std::move(previous.scrape_self_staleness_);
  if (previous.scrape_collector_ == nullptr) {
    return;
  }
  // Markers for removed targets ride with the next batch of either thread; none are needed
  // when nothing is shipped.
  ShippedBatch* markers = scrape_sink_ ? scrape_sink_.get() : system_batch_.get();
  if (markers == nullptr) {
    return;
  }
  const std::int64_t now_ms = clock_.WallMillis();
  previous.scrape_collector_->HandOverSeries(scrape_collector_, *markers, now_ms);
  if (scrape_ == nullptr) {
    scrape_self_staleness_.Cycle({}, now_ms, *markers);  // no targets left: all of it ends
  }
}

void Agent::InheritHistory(const Agent& previous) {
  compression_before_ = previous.CompressionTotals();
  compression_before_.skeleton_bytes = 0;
  cycles_ = previous.cycles_.load();
  skipped_cycles_ = previous.skipped_cycles_.load();
  std::scoped_lock lock(history_mutex_, previous.history_mutex_);
  collection_seconds_ = previous.collection_seconds_;
  queue_depths_.assign(queues_.size(), HistoryRing{});
  for (std::size_t i = 0; i < queues_.size(); ++i) {
    // A kept queue is the same object in both agents.
    for (std::size_t j = 0; j < previous.queues_.size() && j < previous.queue_depths_.size(); ++j) {
      if (previous.queues_[j] == queues_[i]) {
        queue_depths_[i] = previous.queue_depths_[j];
      }
    }
  }
}

void Agent::RelabelSystem(std::vector<MetricFamily>& families) {
  if (!system_relabel_.empty() &&
      RelabelFamilies(families, system_relabel_) == RelabelVerdict::kNoName &&
      !logged_unnamed_system_) {
    logged_unnamed_system_ = true;
    spdlog::warn(
        "collector.metric_relabel_configs removed the name (__name__) of some samples; "
        "they are dropped");
  }
}

void Agent::Ship(const std::vector<MetricFamily>& families, ShippedBatch& batch) {
  batch.AddFamilies(families);
  // Encoded once per distinct write_relabel_configs (usually once for all); Enqueue never
  // waits for the network.
  batch.Take([&](std::span<const queue::EncodedBatch> records,
                 std::span<const std::size_t> shippers, const formats::EncodeStats& fixes) {
    for (std::size_t i : shippers) {
      queues_[i]->Enqueue(records);
      queues_[i]->CountEncoderChanges(fixes);
    }
  });
}

std::vector<MetricFamily> Agent::CollectOnce() {
  CollectContext ctx{.steady_now = clock_.SteadyNow(), .wall_ms = clock_.WallMillis()};
  std::vector<MetricFamily> families = system_.RunOnce(ctx);
  RelabelSystem(families);
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

std::vector<MetricFamily> Agent::CycleSelfMetrics(std::int64_t wall_ms) const {
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
  out.push_back(FamilyBuilder("metricsd_collection_cycles_skipped_total",
                              "Collection deadlines skipped because the loop fell behind (a "
                              "cycle overran, or the process did not run): each one is a gap in "
                              "every system series.",
                              MetricType::kCounter, wall_ms)
                    .Add(static_cast<double>(skipped_cycles_.load()))
                    .Build());
  out.push_back(FamilyBuilder("metricsd_collection_duration_seconds",
                              "Time the last cycle of the system collectors took.",
                              MetricType::kGauge, wall_ms)
                    .Add(last_cycle_seconds_.load())
                    .Build());
  AppendCompressionMetrics(wall_ms, out);
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
  return out;
}

void Agent::AppendCompressionMetrics(std::int64_t wall_ms, std::vector<MetricFamily>& out) const {
  const bool remote_write =
      std::any_of(config_.shippers.begin(), config_.shippers.end(), [](const auto& shipper) {
        return shipper.type == config::ShipperType::kPrometheusRemoteWrite;
      });
  if (!remote_write || !system_batch_) {
    return;
  }
  const ShippedBatch::Compression total = CompressionTotals();
  out.push_back(
      FamilyBuilder("metricsd_remote_write_runs_compressed_total",
                    "Runs of series (a scrape target's part of a remote write request, or a "
                    "collection cycle's) compressed, by how: rebuilt from the last cycle's snappy "
                    "skeleton, or compressed by snappy.",
                    MetricType::kCounter, wall_ms)
          .Add(static_cast<double>(total.runs_rebuilt), {{"how", "rebuilt"}})
          .Add(static_cast<double>(total.runs_compressed), {{"how", "snappy"}})
          .Build());
  out.push_back(FamilyBuilder("metricsd_remote_write_skeleton_bytes",
                              "Memory held by the snappy skeletons kept for the next cycle.",
                              MetricType::kGauge, wall_ms)
                    .Add(static_cast<double>(total.skeleton_bytes))
                    .Build());
}

ShippedBatch::Compression Agent::CompressionTotals() const {
  ShippedBatch::Compression total = compression_before_;
  for (const ShippedBatch* batch : {system_batch_.get(), scrape_sink_.get()}) {
    if (batch != nullptr) {
      const ShippedBatch::Compression part = batch->compression();
      total.runs_rebuilt += part.runs_rebuilt;
      total.runs_compressed += part.runs_compressed;
      total.skeleton_bytes += part.skeleton_bytes;
    }
  }
  return total;
}

std::vector<MetricFamily> Agent::RequestSelfMetrics(std::int64_t wall_ms) const {
  std::vector<MetricFamily> out;
  for (const auto& q : queues_) {
    q->AppendMetrics(out);
  }
  process_metrics_.Append(wall_ms, out);
  return out;
}

MetricsBody Agent::Metrics(bool gzip) {
  last_pull_ms_.store(clock_.WallMillis(), std::memory_order_relaxed);
  std::shared_ptr<const ExpositionPart> self;
  std::shared_ptr<const ExpositionPart> system;
  std::shared_ptr<const ExpositionPart> scrape;
  bool complete = false;
  for (int attempt = 0; attempt < 2 && !complete; ++attempt) {
    if (attempt == 1) {
      // Nobody pulled for a while, so the cycles stopped preparing parts (a push-only agent
      // should not pay for them). Prepare them now from the latest cycles, once: the
      // requests that follow, and the cycles from now on, use and renew them.
      PrepareMissingParts();
    }
    {
      std::lock_guard lock(snapshot_mutex_);
      self = self_part_;
      system = system_part_;
      scrape = scrape_part_;
    }
    complete =
        self != nullptr && (system != nullptr || !ready_.load()) && (!scrape_ || scrape != nullptr);
  }
  if (complete) {
    std::vector<MetricFamily> now = RequestSelfMetrics(clock_.WallMillis());
    const PreparedParts parts{self.get(), system.get(), scrape.get()};
    std::optional<MetricsBody> body;
    if (gzip) {
      std::lock_guard lock(deflater_mutex_);
      body = AssembleMetrics(now, parts, &deflater_);
    } else {
      body = AssembleMetrics(now, parts, nullptr);
    }
    if (body) {
      return std::move(*body);
    }
  }
  // No scrape cycle has finished yet (nothing to prepare from), or a family name is shared
  // by two parts (one header needs a full render).
  return MetricsBody::Text(RenderMetrics());
}

std::string Agent::RenderMetrics() const {
  std::shared_ptr<const std::vector<MetricFamily>> snapshot;
  std::shared_ptr<const std::vector<MetricFamily>> scraped;
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot = system_snapshot_;
    scraped = scrape_snapshot_;
  }
  const std::int64_t wall_ms = clock_.WallMillis();
  TextExpositionBuilder out;
  out.AddFamilies(RequestSelfMetrics(wall_ms));
  out.AddFamilies(CycleSelfMetrics(wall_ms));
  if (snapshot) {
    out.AddFamilies(*snapshot);
  }
  // Kept text bodies straight to text, as for the prepared parts.
  if (scrape_collector_ != nullptr) {
    scrape_collector_->RenderStored(out);
  }
  if (scraped) {
    out.AddFamilies(*scraped);
  }
  return out.Finish();
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
              {"disk_ok", h.disk_ok},
              {"held", h.held}};
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

StatusView Agent::GatherStatus() const {
  const auto now = clock_.SteadyNow();
  StatusView view{
      .version = kVersion,
      .now_ms = clock_.WallMillis(),
      .uptime_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - process_.started)
              .count(),
      .ready = ready_.load(),
      .effective_config = effective_config_,
      .collectors = system_.Health(),
  };
  if (scrape_) {
    for (CollectorHealth& h : scrape_->Health()) {
      view.collectors.push_back(std::move(h));
    }
    view.targets = scrape_collector_->TargetStatuses();
  }
  for (const auto& q : queues_) {
    view.shippers.push_back(ShipperStatus{
        .name = q->name(), .health = q->Health(config_.server.health_degraded_after)});
  }
  std::lock_guard lock(history_mutex_);
  view.collection_seconds_history = collection_seconds_.Points(now);
  for (std::size_t i = 0; i < queue_depths_.size() && i < view.shippers.size(); ++i) {
    view.shippers[i].depth_history = queue_depths_[i].Points(now);
  }
  return view;
}

}  // namespace metricsd
