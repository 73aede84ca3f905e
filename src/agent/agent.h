// Agent: the one place that knows every part. Built from a validated Config, it owns the
// collectors, the schedulers that run them, the shippers with their queues and the latest
// snapshot that /metrics serves. Start() begins collecting (first cycle at once) and
// shipping; Stop() ends both, leaving unsent data in the shippers' buffers.
//
// Reload: the queues are shared, so that the next agent can take over a queue whose shipper
// keeps its name and directory (`previous`). The old agent stops collecting
// (StopCollection) before the new one starts, and a queue it held that the new agent did not
// take is closed when the old agent goes, its data kept on disk.
//
// The constructor throws ConfigError for settings the config validation cannot see (an
// unusable TLS setting) and std::runtime_error for other start-up problems; nothing has
// been started then.
// Metrics(), RenderMetrics(), Health() and GatherStatus() are thread-safe (called from server
// threads).
// Metrics() serves the parts prepared by the last collection and scrape cycles
// (exposition_cache.h) and renders only the agent's own metrics per request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/collector_runner.h"
#include "agent/exposition_cache.h"
#include "agent/process_metrics.h"
#include "agent/scheduler.h"
#include "agent/shipped_batch.h"
#include "agent/staleness.h"
#include "agent/status_page.h"
#include "collectors/scrape_source.h"
#include "config/options.h"
#include "core/clock.h"
#include "core/history_ring.h"
#include "core/host_paths.h"
#include "net/net_api.h"
#include "queue/shipper_queue.h"
#include "relabel/relabel.h"
#include "server/http_server.h"

namespace metricsd {

struct ProcessInfo {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string config_source;
};

// A setting only a real client could reject (a cipher name, a key that does not match its
// certificate). Thrown by the Agent constructor; main reports it as a configuration error.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Whether a configuration needs the NetApi (net/net_module.h loads it): it has shippers,
// scrape endpoints or TLS on the server.
bool NeedsNetwork(const config::Config& config);

// Builds every configured shipper once, without queues or threads, and checks every scrape
// target's TLS settings, so that options only a real client can check (cipher names,
// key/certificate pairs) are reported before a reload switches over and by -check-config.
// Errors name the key. net may be null only when !NeedsNetwork(config).
Status ValidateNetworkSettings(const config::Config& config, const NetApi* net);

// The server's TLS and authentication from server.*: what HttpServer takes. Building it is
// also how its settings are checked (errors name the key). net may be null only without
// server TLS.
Result<ServerSecurity> MakeServerSecurity(const config::ServerOptions& server, const NetApi* net);

// Every collector metricsd has, as the config enables them. Adding a collector is one
// line here.
std::vector<std::unique_ptr<Collector>> BuildSystemCollectors(const config::Config& config,
                                                              const HostPaths& paths);

class Agent {
 public:
  using Queues = std::vector<std::shared_ptr<queue::ShipperQueue>>;

  // net builds the shippers and the scrape collector; it may be null only when
  // !NeedsNetwork(config) (else std::invalid_argument). The agent keeps it alive. `clock`
  // must outlive every queue (a reload hands queues on). Queues in `previous` whose name and
  // directory match a configured shipper are taken over as they are; none of them is touched
  // before Start(), so a constructor that throws leaves them to their old agent.
  Agent(config::Config config, HostPaths paths, ProcessInfo process, const Clock& clock,
        std::shared_ptr<const NetApi> net = nullptr, const Queues& previous = {});
  ~Agent();  // StopCollection(); queues stop when their last owner lets go
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts the queues (handing taken-over ones their new settings) and the collection.
  void Start();
  // Stops collecting and scraping; the queues keep sending.
  void StopCollection();
  // StopCollection(), then stops every queue's sender.
  void Stop();

  const Queues& queues() const noexcept { return queues_; }

  // Reload: takes over the series the previous agent's last system cycle and each scrape
  // target shipped, so that those this configuration no longer collects (and every series of
  // a removed target) get staleness markers. Call after previous.StopCollection() and before
  // Start().
  void InheritSeries(Agent& previous);
  // Reload: keeps the status page's last hour (collection time, and the depth of each queue
  // this configuration keeps) and the totals of the agent's own counters. Call before Start().
  void InheritHistory(const Agent& previous);

  // For the watchdog: "<thread>: busy for <n>s" for the first collection, scrape or sender
  // thread that is stuck in one piece of work past its limit; nullopt when all progress.
  std::optional<std::string> Stalled(std::chrono::steady_clock::time_point now) const;

  // One synchronous cycle of every collector (and one scrape of every endpoint), for -once.
  // Does not ship.
  std::vector<MetricFamily> CollectOnce();

  // The /metrics body from the prepared parts. The cycles prepare them only while /metrics
  // is pulled (within 5 min or 3 intervals); a pull after a quiet spell prepares them from
  // the latest cycles first (once, on the server thread), so that requests arriving before
  // the next cycle never each render the whole body.
  MetricsBody Metrics(bool gzip);
  // A full render of the same content (the fallback when the parts share a family name).
  std::string RenderMetrics() const;
  HealthView Health() const;
  // What the status page at "/" shows (status_page.h), gathered now from the health the
  // collectors, targets and queues keep and from the last hour's history rings.
  StatusView GatherStatus() const;
  const config::Config& config() const noexcept { return config_; }

 private:
  void SystemTick();
  void ScrapeTick();
  void Ship(const std::vector<MetricFamily>& families, ShippedBatch& batch);
  // collector.metric_relabel_configs on the host, GPU and textfile collectors' families.
  void RelabelSystem(std::vector<MetricFamily>& families);
  // Whether /metrics was pulled recently enough that the cycles should prepare its parts.
  bool PullsExpected() const;
  // Drops `mine` and the self part (the cycles stop renewing them).
  void DropParts(std::shared_ptr<const ExpositionPart>& mine);
  // Builds `mine` from lists, checked against `other`, publishes it, and renews the self part.
  void PublishPart(std::span<const std::span<const MetricFamily>> lists,
                   std::shared_ptr<const ExpositionPart>& mine,
                   const std::shared_ptr<const ExpositionPart>& other);
  void PublishPartLocked(std::span<const std::span<const MetricFamily>> lists,
                         std::shared_ptr<const ExpositionPart>& mine,
                         const std::shared_ptr<const ExpositionPart>& other);
  // A pull after a quiet spell: builds the parts the cycles did not prepare, from the latest
  // snapshots, so that this and later requests are served from parts.
  void PrepareMissingParts();
  // The scrape part: the kept bodies rendered straight to text, then `json_families`.
  void PublishScrapePartLocked(std::span<const MetricFamily> json_families);
  void PublishSelfPartLocked();
  // The agent's own metrics that change once per cycle (the self part)...
  std::vector<MetricFamily> CycleSelfMetrics(std::int64_t wall_ms) const;
  // ...and those read at request time: queues and the process.
  std::vector<MetricFamily> RequestSelfMetrics(std::int64_t wall_ms) const;
  // Part of the cycle's: how remote write requests were compressed, on both threads.
  void AppendCompressionMetrics(std::int64_t wall_ms, std::vector<MetricFamily>& out) const;
  // How this agent's and its predecessors' remote write requests were compressed.
  ShippedBatch::Compression CompressionTotals() const;

  config::Config config_;
  const std::string effective_config_;  // secrets redacted; rendered once per agent
  HostPaths paths_;
  ProcessInfo process_;
  // Declared before scrape_ and queues_: what it made is destroyed before it.
  std::shared_ptr<const NetApi> net_;
  const Clock& clock_;
  SteadyTimer timer_;
  CollectorRunner system_;
  RelabelProgram system_relabel_;       // collector.metric_relabel_configs
  bool logged_unnamed_system_ = false;  // collection thread
  std::unique_ptr<Scheduler> system_scheduler_;
  // Scrape targets run on their own scheduler thread, so a slow target never delays the
  // system collectors. Null when no endpoints are configured.
  std::unique_ptr<CollectorRunner> scrape_;
  ScrapeSource* scrape_collector_ = nullptr;  // owned by scrape_
  // Text and OpenMetrics samples go straight from the parser into the queue encoding.
  std::unique_ptr<ShippedBatch> scrape_sink_;   // null without shippers; scrape thread
  std::unique_ptr<ShippedBatch> system_batch_;  // null without shippers; collection thread
  StalenessTracker system_staleness_;           // collection thread (used with system_batch_)
  // metricsd's own series when they are shipped (ship_self_metrics): those of a collector or
  // shipper a reload removed end too.
  StalenessTracker self_staleness_;  // collection thread (used with system_batch_)
  // The targets' metricsd_scrape_* series: those of a target a reload removed end too.
  StalenessTracker scrape_self_staleness_{"metricsd_scrape_"};  // scrape thread (scrape_sink_)
  std::unique_ptr<Scheduler> scrape_scheduler_;
  std::string data_dir_;
  Queues queues_;
  // Taken-over queues and their new settings, applied by Start().
  struct Handover {
    std::shared_ptr<queue::ShipperQueue> queue;
    std::unique_ptr<Shipper> shipper;
    queue::ShipperQueueOptions options;
  };
  std::vector<Handover> handovers_;

  // The system cycle double-buffers: a cycle is written into the storage of the cycle before
  // the published one when no reader holds that any more (see SystemTick).
  std::shared_ptr<CollectorRunner::Output> system_published_;  // SystemTick's thread only
  std::shared_ptr<CollectorRunner::Output> system_spare_;      // SystemTick's thread only
  mutable std::mutex snapshot_mutex_;
  // An alias of system_published_'s families.
  std::shared_ptr<const std::vector<MetricFamily>> system_snapshot_;  // guarded by snapshot_mutex_
  std::shared_ptr<const std::vector<MetricFamily>> scrape_snapshot_;  // guarded by snapshot_mutex_
  // Held while a part is built and published, so the later builder sees the other's latest
  // part and the pair is known disjoint (or not) at request time.
  std::mutex part_build_mutex_;
  std::shared_ptr<const ExpositionPart> self_part_;    // guarded by snapshot_mutex_
  std::shared_ptr<const ExpositionPart> system_part_;  // guarded by snapshot_mutex_
  std::shared_ptr<const ExpositionPart> scrape_part_;  // guarded by snapshot_mutex_
  std::mutex deflater_mutex_;
  RawDeflater deflater_;  // guarded by deflater_mutex_; gzips the parts and request text
  mutable std::atomic<std::int64_t> last_pull_ms_{0};  // wall clock of the last /metrics
  mutable ProcessMetrics process_metrics_;             // read per /metrics request
  std::atomic<std::uint64_t> cycles_{0};
  std::atomic<std::uint64_t> skipped_cycles_{0};  // deadlines the md-collect loop missed
  std::atomic<double> last_cycle_seconds_{0};
  std::atomic<bool> ready_{false};
  // The status page's sparklines, recorded once per system cycle.
  // The counts of the agents before a reload (skeletons are not kept: no bytes).
  ShippedBatch::Compression compression_before_ = {};
  mutable std::mutex history_mutex_;
  HistoryRing collection_seconds_;         // guarded by history_mutex_
  std::vector<HistoryRing> queue_depths_;  // guarded by history_mutex_; one per queue, from Start()
};

}  // namespace metricsd
