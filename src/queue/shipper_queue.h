// ShipperQueue: everything around one Shipper: its durable queue (Spool: Wal on disk, bounded
// memory fallback), its own sender thread, the retry policy, and its self-metrics.
//
// Enqueue() is called by the collection thread; it appends one record (a finished remote write
// request, or an encoded batch: queue/record_format.h) to the
// queue (one disk write, fdatasync when options.queue.fsync) and returns; it never waits for
// the network. The sender thread takes the oldest unacknowledged batches (several small ones
// merged up to max_samples_per_request), sends them with Shipper::Send, and applies the
// RetryPolicy: delivered or dropped → acknowledged, retry → the same batch again after the
// backoff (nothing newer overtakes it: strict order per shipper), 413 → halves.
//
// Guarantees: a batch is acknowledged only after every piece of it was delivered or dropped on
// purpose, so after a crash or kill -9 at most the batch in flight is sent again. Everything
// else that Enqueue returned for is on disk (see docs/queue.md for fsync and power loss).
//
// Holding: a status in queue.hold_on_status (401, 403, 404 by default) means the receiver
// refuses our credentials or the path is wrong. No batch can fix that, so nothing is dropped:
// the queue holds, keeps everything on disk, probes once per max_backoff, reports itself
// degraded, and resumes at once when Reconfigure() brings new settings or a credential file
// (options.credential_files) changes on disk.
//
// Reload: a queue outlives the agent that made it. The next agent takes it over when the
// shipper keeps its name and directory, and Reconfigure() swaps the shipper and the sending
// settings between two requests, so the buffer is never closed, re-opened or re-scanned.
//
// Thread-safety: Enqueue, Wake, Reconfigure, Metrics, AppendMetrics and Health may be called
// from any thread. Start and Stop from the owner only. Time comes from the injected Clock (backoff
// deadlines, health); the sender waits on a condition variable for the remaining time, and
// Wake() makes it look at the clock again (tests that move a fake clock call it).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "core/metric.h"
#include "core/progress_mark.h"
#include "core/result.h"
#include "formats/encode_stats.h"
#include "queue/retry_policy.h"
#include "queue/spool.h"
#include "shippers/shipper.h"

namespace metricsd::queue {

struct ShipperQueueOptions {
  std::string name = "default";
  std::string dir;  // the shipper's own directory; empty: memory only (tests, no data dir)
  config::QueueOptions queue;
  std::size_t max_samples_per_request = 2000;         // 0: no limit
  std::size_t max_request_payload_bytes = 32U << 20;  // cap on encoded bytes merged per request
  std::chrono::milliseconds disk_retry_interval{std::chrono::seconds(30)};
  std::uint64_t segment_bytes = 0;  // 0: automatic
  // Files the shipper reads its credentials from (password, token, TLS certificate and key).
  // The sender checks them at most once per second and, when one changed, rebuilds the
  // shipper with remake_shipper (empty: never rebuilt).
  std::vector<std::string> credential_files;
  std::function<Result<std::unique_ptr<Shipper>>()> remake_shipper;
  // A send (one request, with its retries inside the shipper) that takes longer than this
  // counts as a hung sender for the watchdog.
  std::chrono::milliseconds stall_after{std::chrono::minutes(2)};
};

// Options for one configured shipper; `data_dir` as returned by ResolveDataDir.
ShipperQueueOptions MakeShipperQueueOptions(const config::ShipperOptions& shipper,
                                            const std::string& data_dir);

// A batch encoded once, to enqueue it to several shippers without encoding it again.
struct EncodedBatch {
  std::string payload;
  std::uint32_t samples = 0;
  std::int64_t min_timestamp_ms = 0;
};
EncodedBatch EncodeForQueue(const Batch& batch);

struct ShipperHealth {
  bool degraded = false;
  std::string reason;                           // why degraded; empty otherwise
  std::optional<std::int64_t> last_success_ms;  // wall clock
  std::optional<std::int64_t> last_error_ms;
  std::string last_error;
  std::optional<std::chrono::milliseconds> next_retry_in;  // while backing off
  bool held = false;                                       // see "Holding" above
  std::uint64_t pending_samples = 0;
  bool disk_ok = false;
  // For the status page: the same figures as the self-metrics (docs/queue.md).
  std::uint64_t disk_bytes = 0;
  std::optional<std::int64_t> oldest_pending_ms;  // wall clock of the oldest unsent sample
  std::uint64_t sent_samples = 0;
  std::uint64_t retried_samples = 0;
  std::map<std::string, std::uint64_t> dropped_samples;  // by reason; only reasons seen
};

class ShipperQueue {
 public:
  // `random01` returns uniform numbers in [0, 1) for the backoff jitter; empty: a private
  // std::mt19937_64. It is only called from the sender thread.
  ShipperQueue(ShipperQueueOptions options, std::unique_ptr<Shipper> shipper, const Clock& clock,
               std::function<double()> random01 = {});
  ShipperQueue(const ShipperQueue&) = delete;
  ShipperQueue& operator=(const ShipperQueue&) = delete;
  ~ShipperQueue();  // Stop()

  // Starts the sender thread; batches enqueued before are kept and sent then.
  void Start();
  // Stops the sender and joins it. A send in flight finishes first (bounded by the shipper's
  // timeout); what is not acknowledged stays queued on disk for the next start.
  void Stop();
  // True from the moment Stop() begins (for tests that need to act in between).
  bool stopping() const noexcept { return stopping_.load(); }

  void Enqueue(const Batch& batch) noexcept;
  void Enqueue(const EncodedBatch& batch) noexcept;
  // Several records at once (one scrape's finished requests), with one disk sync for all.
  void Enqueue(std::span<const EncodedBatch> records) noexcept;

  // Makes the sender re-check the clock and the queue now.
  void Wake() noexcept;

  // What an encoder changed to make series valid for this shipper, or left out because the
  // format cannot carry it: counted for the self-metrics. Remote write requests are encoded
  // by the producers (their counts come with Enqueue's caller); the other formats at send
  // time, where the sender counts a request's changes once it was delivered.
  void CountEncoderChanges(const formats::EncodeStats& stats) noexcept;

  // New sending settings from a reload: the shipper, retry policy, request limits and
  // credential files are replaced before the next request, and a held queue resumes at once.
  // The name and directory stay (a different one is a different queue); spool limits
  // (max_disk_bytes, max_memory_samples, fsync) keep their values until a restart.
  void Reconfigure(std::unique_ptr<Shipper> shipper, ShipperQueueOptions options);

  const std::string& name() const noexcept { return name_; }
  const std::string& dir() const noexcept { return dir_; }
  const ProgressMark& progress() const noexcept { return progress_; }

  // Self-metrics (see docs/queue.md), stamped with the clock's wall time.
  std::vector<MetricFamily> Metrics() const;
  // The same, merged into `families` by family name, so several queues share one family.
  void AppendMetrics(std::vector<MetricFamily>& families) const;

  // Degraded when samples are waiting and nothing was delivered for `degraded_after` (counting
  // from the start when nothing ever was), or when the on-disk buffer is unusable.
  ShipperHealth Health(std::chrono::seconds degraded_after) const;

  SpoolStats QueueStats() const { return spool_.Stats(); }

 private:
  // The sender loop: take the current request (request_assembler.h), wait out a backoff or
  // hold, send it, and let Decide say what comes next.
  void Run(std::stop_token stop);
  // What the sender loop keeps between requests.
  struct SendState {
    int attempt = 0;  // of the current request
    bool held = false;
    std::optional<std::chrono::steady_clock::time_point> not_before;  // backoff or hold
  };
  enum class Next { kFinished, kSameAgain, kSplit };
  // The retry policy's verdict on one send, with its bookkeeping (counters, logs, hold).
  Next Decide(const SendResult& result, std::size_t samples, SendState& state);
  // Waits until woken, stopped, or `deadline` on the injected clock passes.
  void WaitFor(std::stop_token& stop,
               std::optional<std::chrono::steady_clock::time_point> deadline);
  void CountDrop(const std::string& reason, std::uint64_t samples, const SendResult* result);
  // Sender thread: takes settings handed over by Reconfigure, or rebuilds the shipper when a
  // credential file changed. True when something changed (a held queue then resumes).
  bool RefreshSettings();
  bool CredentialFilesChanged();

  const std::string name_;
  const std::string dir_;
  const config::QueueOptions spool_queue_;  // what the spool was opened with
  ShipperQueueOptions options_;             // sender thread only (after the constructor)
  std::unique_ptr<Shipper> shipper_;        // sender thread only
  const Clock& clock_;
  RetryPolicy policy_;                          // sender thread only
  std::vector<std::string> credential_stamps_;  // sender thread only; one per credential file
  std::chrono::steady_clock::time_point next_credential_check_{};  // sender thread only
  std::function<double()> random01_;                               // sender thread only
  const std::chrono::steady_clock::time_point started_;
  Spool spool_;

  std::mutex wake_mu_;
  std::condition_variable_any wake_cv_;
  bool wake_ = false;  // guarded by wake_mu_
  // From Reconfigure, for the sender to pick up.
  std::unique_ptr<Shipper> pending_shipper_;            // guarded by wake_mu_
  std::optional<ShipperQueueOptions> pending_options_;  // guarded by wake_mu_

  mutable std::mutex stats_mu_;
  std::uint64_t sent_samples_ = 0;                   // guarded by stats_mu_
  std::uint64_t sent_requests_ = 0;                  // guarded by stats_mu_
  std::map<int, std::uint64_t> requests_by_status_;  // guarded by stats_mu_; 0: no response
  std::uint64_t retried_samples_ = 0;                // guarded by stats_mu_
  std::map<std::string, std::uint64_t> dropped_;     // guarded by stats_mu_; by reason
  formats::EncodeStats encoder_changes_;             // guarded by stats_mu_
  std::optional<std::int64_t> last_success_ms_;      // guarded by stats_mu_
  std::optional<std::chrono::steady_clock::time_point> last_success_steady_;  // stats_mu_
  std::optional<std::int64_t> last_error_ms_;                      // guarded by stats_mu_
  std::string last_error_;                                         // guarded by stats_mu_
  std::optional<std::chrono::steady_clock::time_point> retry_at_;  // guarded by stats_mu_
  bool held_ = false;                                              // guarded by stats_mu_

  int failures_in_a_row_ = 0;                  // sender thread only
  std::set<std::string> logged_drop_reasons_;  // sender thread only

  ProgressMark progress_;
  std::atomic<bool> stopping_{false};
  std::jthread sender_;  // last member: stopped and joined before the others go
};

}  // namespace metricsd::queue
