// Agent: the one place that knows every part. Built from a validated Config, it owns the
// collectors, the schedulers that run them, the shippers with their queues and the latest
// snapshot that /metrics serves. Start() begins collecting (first cycle at once) and
// shipping; Stop() ends both, leaving unsent data in the shippers' buffers.
//
// The constructor throws ConfigError for settings the config validation cannot see (an
// unusable TLS setting) and std::runtime_error for other start-up problems; nothing has
// been started then.
// RenderMetrics() and Health() are thread-safe (called from server threads).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/collector_runner.h"
#include "agent/scheduler.h"
#include "collectors/scrape_source.h"
#include "config/options.h"
#include "core/clock.h"
#include "core/host_paths.h"
#include "net/net_api.h"
#include "queue/shipper_queue.h"
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

// Whether a configuration talks to the network (shippers or scrape endpoints), and so needs
// a NetApi (net/net_module.h loads it).
bool NeedsNetwork(const config::Config& config);

// Builds every configured shipper once, without queues or threads, and checks every scrape
// target's TLS settings, so that options only a real client can check (cipher names,
// key/certificate pairs) are reported at start-up and by -check-config. Errors name the key.
// net may be null only when !NeedsNetwork(config).
Status ValidateShippers(const config::Config& config, const NetApi* net);

// Every collector metricsd has, as the config enables them. Adding a collector is one
// line here.
std::vector<std::unique_ptr<Collector>> BuildSystemCollectors(const config::Config& config,
                                                              const HostPaths& paths);

class Agent {
 public:
  // net builds the shippers and the scrape collector; it may be null only when
  // !NeedsNetwork(config) (else std::invalid_argument). The agent keeps it alive.
  Agent(config::Config config, HostPaths paths, ProcessInfo process,
        std::shared_ptr<const NetApi> net = nullptr);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  void Start();
  void Stop();

  // One synchronous cycle of every collector (and one scrape of every endpoint), for -once.
  // Does not ship.
  std::vector<MetricFamily> CollectOnce();

  std::string RenderMetrics() const;
  HealthView Health() const;
  const config::Config& config() const noexcept { return config_; }

 private:
  class ScrapeQueueSink;

  void SystemTick();
  void ScrapeTick();
  void Ship(const std::vector<MetricFamily>& families);
  std::vector<MetricFamily> SelfMetrics(std::int64_t wall_ms) const;

  config::Config config_;
  HostPaths paths_;
  ProcessInfo process_;
  // Declared before scrape_ and queues_: what it made is destroyed before it.
  std::shared_ptr<const NetApi> net_;
  SystemClock clock_;
  SteadyTimer timer_;
  CollectorRunner system_;
  std::unique_ptr<Scheduler> system_scheduler_;
  // Scrape targets run on their own scheduler thread, so a slow target never delays the
  // system collectors. Null when no endpoints are configured.
  std::unique_ptr<CollectorRunner> scrape_;
  ScrapeSource* scrape_collector_ = nullptr;  // owned by scrape_
  // Text and OpenMetrics samples go straight from the parser into the queue encoding.
  std::unique_ptr<ScrapeQueueSink> scrape_sink_;  // null without shippers
  std::unique_ptr<Scheduler> scrape_scheduler_;
  std::string data_dir_;
  Labels shipped_labels_;  // global_labels (+ hostname), added to every shipped sample
  std::vector<std::unique_ptr<queue::ShipperQueue>> queues_;

  // The system cycle double-buffers: a cycle is written into the storage of the cycle before
  // the published one when no reader holds that any more (see SystemTick).
  std::shared_ptr<CollectorRunner::Output> system_published_;  // SystemTick's thread only
  std::shared_ptr<CollectorRunner::Output> system_spare_;      // SystemTick's thread only
  mutable std::mutex snapshot_mutex_;
  // An alias of system_published_'s families.
  std::shared_ptr<const std::vector<MetricFamily>> system_snapshot_;  // guarded by snapshot_mutex_
  std::shared_ptr<const std::vector<MetricFamily>> scrape_snapshot_;  // guarded by snapshot_mutex_
  std::atomic<std::uint64_t> cycles_{0};
  std::atomic<double> last_cycle_seconds_{0};
  std::atomic<bool> ready_{false};
};

}  // namespace metricsd
