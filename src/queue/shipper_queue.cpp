#include "queue/shipper_queue.h"

#include <sys/stat.h>
#include <algorithm>
#include <random>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/thread_name.h"
#include "queue/batch_codec.h"
#include "queue/data_dir.h"
#include "queue/request_assembler.h"

namespace metricsd::queue {
namespace {

// Reasons counted by the queue itself, always exported (at 0) so rate() works from the start.
constexpr const char* kDiskCap = "disk_cap";
constexpr const char* kMemoryCap = "memory_cap";
constexpr const char* kCorrupt = "corrupt";
constexpr const char* kTooLarge = "too_large";
constexpr const char* kNonFinite = "non_finite";
constexpr std::size_t kMaxDropReasons = 32;  // bounds the label's cardinality

double Seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

void AddSample(std::vector<MetricFamily>& families, std::string_view name, std::string_view help,
               MetricType type, Labels labels, double value, std::int64_t timestamp_ms) {
  auto it = std::find_if(families.begin(), families.end(),
                         [&](const MetricFamily& f) { return f.name == name; });
  if (it == families.end()) {
    MetricFamily family;
    family.name = name;
    family.help = help;
    family.type = type;
    families.push_back(std::move(family));
    it = families.end() - 1;
  }
  it->samples.push_back(Sample{std::string(name), std::move(labels), value, timestamp_ms});
}

}  // namespace

ShipperQueueOptions MakeShipperQueueOptions(const config::ShipperOptions& shipper,
                                            const std::string& data_dir) {
  ShipperQueueOptions options;
  options.name = shipper.name;
  options.dir = data_dir.empty() ? std::string() : ShipperDataDir(data_dir, shipper.name);
  options.queue = shipper.queue;
  options.max_samples_per_request = shipper.max_samples_per_request;
  return options;
}

EncodedBatch EncodeForQueue(const Batch& batch) {
  EncodedBatch encoded;
  const std::size_t samples = CountSamples(batch);
  encoded.samples = static_cast<std::uint32_t>(std::min<std::size_t>(samples, UINT32_MAX));
  encoded.min_timestamp_ms = MinTimestamp(batch);
  encoded.payload.reserve(64 + samples * 16);
  EncodeBatch(batch, encoded.payload);
  return encoded;
}

ShipperQueue::ShipperQueue(ShipperQueueOptions options, std::unique_ptr<Shipper> shipper,
                           const Clock& clock, std::function<double()> random01)
    : name_(options.name),
      dir_(options.dir),
      spool_queue_(options.queue),
      options_(std::move(options)),
      shipper_(std::move(shipper)),
      clock_(clock),
      policy_(options_.queue),
      random01_(std::move(random01)),
      started_(clock.SteadyNow()),
      spool_(SpoolOptions{.name = name_,
                          .dir = dir_,
                          .max_disk_bytes = options_.queue.max_disk_bytes,
                          .segment_bytes = options_.segment_bytes,
                          .max_memory_samples = options_.queue.max_memory_samples,
                          .fsync = options_.queue.fsync,
                          .fsync_interval = options_.queue.fsync_interval,
                          .disk_retry_interval = options_.disk_retry_interval},
             clock),
      progress_(options_.stall_after) {
  if (!random01_) {
    random01_ = [engine = std::mt19937_64(std::random_device{}()),
                 dist = std::uniform_real_distribution<double>(0.0, 1.0)]() mutable {
      return dist(engine);
    };
  }
  CredentialFilesChanged();  // records how the files look now
}

ShipperQueue::~ShipperQueue() { Stop(); }

void ShipperQueue::Start() {
  if (sender_.joinable()) {
    return;
  }
  sender_ = std::jthread([this](std::stop_token stop) {
    SetCurrentThreadName("md-ship-" + name_);
    Run(std::move(stop));
  });
}

void ShipperQueue::Stop() {
  if (!sender_.joinable()) {
    return;
  }
  sender_.request_stop();
  stopping_.store(true);  // after the request: whoever sees it sees a requested stop
  sender_.join();
  stopping_.store(false);
}

void ShipperQueue::Enqueue(const Batch& batch) noexcept {
  try {
    EncodedBatch encoded = EncodeForQueue(batch);
    if (encoded.samples == 0) {
      return;
    }
    spool_.Append(std::move(encoded.payload), encoded.samples, encoded.min_timestamp_ms);
  } catch (...) {
    CountDrop(kMemoryCap, CountSamples(batch), nullptr);
    return;
  }
  Wake();
}

void ShipperQueue::Enqueue(const EncodedBatch& batch) noexcept {
  if (batch.samples == 0) {
    return;
  }
  try {
    spool_.Append(batch.payload, batch.samples, batch.min_timestamp_ms);
  } catch (...) {
    CountDrop(kMemoryCap, batch.samples, nullptr);
    return;
  }
  Wake();
}

void ShipperQueue::Enqueue(std::span<const EncodedBatch> records) noexcept {
  std::size_t last = records.size();  // the record that carries the sync
  for (std::size_t i = 0; i < records.size(); ++i) {
    last = records[i].samples > 0 ? i : last;
  }
  bool any = false;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const EncodedBatch& record = records[i];
    if (record.samples == 0) {
      continue;
    }
    try {
      spool_.Append(record.payload, record.samples, record.min_timestamp_ms,
                    /*more_follow=*/i != last);
      any = true;
    } catch (...) {
      CountDrop(kMemoryCap, record.samples, nullptr);
    }
  }
  if (any) {
    Wake();
  }
}

void ShipperQueue::Wake() noexcept {
  {
    std::lock_guard lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_all();
}

void ShipperQueue::Reconfigure(std::unique_ptr<Shipper> shipper, ShipperQueueOptions options) {
  const config::QueueOptions& before = spool_queue_;
  if (options.queue.max_disk_bytes != before.max_disk_bytes ||
      options.queue.max_memory_samples != before.max_memory_samples ||
      options.queue.fsync != before.fsync ||
      options.queue.fsync_interval != before.fsync_interval) {
    spdlog::warn(
        "shipper {}: changes to queue.max_disk_bytes, queue.max_memory_samples, queue.fsync and "
        "queue.fsync_interval take effect at the next restart",
        name_);
  }
  {
    std::lock_guard lock(wake_mu_);
    pending_shipper_ = std::move(shipper);
    pending_options_ = std::move(options);
    wake_ = true;
  }
  wake_cv_.notify_all();
}

namespace {

// What identifies a version of a file: a rename-into-place changes the inode, an edit the
// modification time or size. Empty when the file cannot be read (also a change, when it was).
std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

bool ShipperQueue::CredentialFilesChanged() {
  bool changed = credential_stamps_.size() != options_.credential_files.size();
  credential_stamps_.resize(options_.credential_files.size());
  for (std::size_t i = 0; i < options_.credential_files.size(); ++i) {
    std::string stamp = FileStamp(options_.credential_files[i]);
    if (stamp != credential_stamps_[i]) {
      credential_stamps_[i] = std::move(stamp);
      changed = true;
    }
  }
  return changed;
}

bool ShipperQueue::RefreshSettings() {
  std::unique_ptr<Shipper> shipper;
  std::optional<ShipperQueueOptions> options;
  {
    std::lock_guard lock(wake_mu_);
    shipper = std::move(pending_shipper_);
    options = std::move(pending_options_);
    pending_options_.reset();
  }
  if (options.has_value()) {
    options_ = std::move(*options);
    policy_ = RetryPolicy(options_.queue);
    shipper_ = std::move(shipper);
    CredentialFilesChanged();
    next_credential_check_ = clock_.SteadyNow() + std::chrono::seconds(1);
    return true;
  }
  if (options_.credential_files.empty() || !options_.remake_shipper ||
      clock_.SteadyNow() < next_credential_check_) {
    return false;
  }
  next_credential_check_ = clock_.SteadyNow() + std::chrono::seconds(1);
  if (!CredentialFilesChanged()) {
    return false;
  }
  auto remade = options_.remake_shipper();
  if (!remade.ok()) {
    spdlog::warn("shipper {}: a credential file changed but cannot be used: {}", name_,
                 remade.error());
    return false;
  }
  spdlog::info("shipper {}: credential file changed; using it from the next request", name_);
  shipper_ = std::move(*remade);
  return true;
}

void ShipperQueue::WaitFor(std::stop_token& stop,
                           std::optional<std::chrono::steady_clock::time_point> deadline) {
  progress_.Idle();
  std::unique_lock lock(wake_mu_);
  if (!deadline.has_value()) {
    wake_cv_.wait(lock, stop, [this] { return wake_; });
  } else {
    // The deadline is on the injected clock; wait the same span of real time (a fake clock
    // that jumps ahead is followed by Wake()).
    const auto left = *deadline - clock_.SteadyNow();
    if (left > std::chrono::steady_clock::duration::zero()) {
      wake_cv_.wait_for(lock, stop, left, [this] { return wake_; });
    }
  }
  wake_ = false;
  progress_.Busy();
}

void ShipperQueue::CountDrop(const std::string& reason, std::uint64_t samples,
                             const SendResult* result) {
  std::lock_guard lock(stats_mu_);
  std::string key = reason;
  if (!dropped_.contains(key) && dropped_.size() >= kMaxDropReasons) {
    key = "other";
  }
  dropped_[key] += samples;
  if (result != nullptr) {
    last_error_ms_ = clock_.WallMillis();
    last_error_ = result->reason.empty() ? key : result->reason;
    retry_at_.reset();
  }
}

void ShipperQueue::CountEncoderChanges(const formats::EncodeStats& stats) noexcept {
  std::lock_guard lock(stats_mu_);
  encoder_changes_ += stats;
}

void ShipperQueue::Run(std::stop_token stop) {
  BusyScope busy(&progress_);
  RequestAssembler requests;
  const RequestAssembler::CorruptFn drop_corrupt = [this](std::uint64_t seq, const std::string& why,
                                                          std::uint64_t samples) {
    spdlog::error("shipper {}: queued batch {} cannot be decoded ({}); the rest of it is dropped",
                  name_, seq, why);
    CountDrop(kCorrupt, samples, nullptr);
  };
  SendState state;
  while (!stop.stop_requested()) {
    if (RefreshSettings() && state.held) {
      state.not_before.reset();  // new credentials or settings: probe now
    }
    const RequestAssembler::Limits limits{.max_samples = options_.max_samples_per_request == 0
                                                             ? SIZE_MAX
                                                             : options_.max_samples_per_request,
                                          .max_payload_bytes = options_.max_request_payload_bytes,
                                          .sends_ready = shipper_->SendsReadyRequests()};
    std::optional<RequestAssembler::Request> request =
        requests.Current(spool_, limits, drop_corrupt);
    if (!request) {
      WaitFor(stop, std::nullopt);
      continue;
    }
    if (state.not_before && clock_.SteadyNow() < *state.not_before) {
      // A held queue looks at its credential files every second while it waits.
      auto until = *state.not_before;
      if (state.held && !options_.credential_files.empty()) {
        until = std::min(until, clock_.SteadyNow() + std::chrono::seconds(1));
      }
      WaitFor(stop, until);
      continue;
    }
    state.not_before.reset();
    const SendResult result = request->body.empty()
                                  ? shipper_->SendRange(request->samples)
                                  : shipper_->SendReady(request->body, request->sample_count);
    // A request sent again (retry, split) is encoded again: only the delivered one counts.
    const formats::EncodeStats changes = shipper_->TakeEncodeStats();
    std::size_t samples = request->sample_count;
    if (result.kind == SendResult::Kind::kOk) {
      CountEncoderChanges(changes);
      samples -= std::min(samples, changes.samples_skipped_non_finite);  // dropped, not sent
    }
    switch (Decide(result, samples, state)) {
      case Next::kFinished:
        requests.Finished();
        break;
      case Next::kSameAgain:
        break;
      case Next::kSplit:
        if (!requests.Split(drop_corrupt)) {
          if (logged_drop_reasons_.insert(kTooLarge).second) {
            spdlog::warn("shipper {}: receiver rejects even a single sample as too large; dropped",
                         name_);
          }
          CountDrop(kTooLarge, 1, &result);
          requests.Finished();
        }
        break;
    }
  }
  requests.AckIfAllFinished(spool_);
}

ShipperQueue::Next ShipperQueue::Decide(const SendResult& result, std::size_t samples,
                                        SendState& state) {
  {
    std::lock_guard lock(stats_mu_);
    ++requests_by_status_[result.http_status];
  }
  ++state.attempt;
  const RetryPolicy::Decision decision = policy_.Decide(result, state.attempt, random01_());
  if (state.held && decision.action != RetryPolicy::Action::kHold) {
    state.held = false;
    spdlog::info("shipper {}: the receiver accepts requests again; the hold is over", name_);
    std::lock_guard lock(stats_mu_);
    held_ = false;
  }
  switch (decision.action) {
    case RetryPolicy::Action::kDone: {
      if (failures_in_a_row_ > 0) {
        spdlog::info("shipper {}: delivering again after {} failed attempts", name_,
                     failures_in_a_row_);
      }
      failures_in_a_row_ = 0;
      state.attempt = 0;
      std::lock_guard lock(stats_mu_);
      sent_samples_ += samples;
      ++sent_requests_;
      last_success_ms_ = clock_.WallMillis();
      last_success_steady_ = clock_.SteadyNow();
      retry_at_.reset();
      return Next::kFinished;
    }
    case RetryPolicy::Action::kRetry: {
      if (failures_in_a_row_ == 0) {
        spdlog::warn("shipper {}: send failed ({}{}); retrying in {} ms, new data is queued", name_,
                     result.reason,
                     result.http_status > 0 ? ", HTTP " + std::to_string(result.http_status) : "",
                     decision.delay.count());
      }
      ++failures_in_a_row_;
      state.not_before = clock_.SteadyNow() + decision.delay;
      std::lock_guard lock(stats_mu_);
      retried_samples_ += samples;
      last_error_ms_ = clock_.WallMillis();
      last_error_ = result.reason.empty() ? DropReason(result) : result.reason;
      retry_at_ = state.not_before;
      return Next::kSameAgain;
    }
    case RetryPolicy::Action::kDrop: {
      if (logged_drop_reasons_.size() < kMaxDropReasons &&
          logged_drop_reasons_.insert(decision.drop_reason).second) {
        // One line per cause; the counter keeps the rest.
        spdlog::warn("shipper {}: receiver rejected {} samples ({}: {}); dropped, not retried",
                     name_, samples, decision.drop_reason, result.reason);
      }
      CountDrop(decision.drop_reason, samples, &result);
      state.attempt = 0;
      return Next::kFinished;
    }
    case RetryPolicy::Action::kHold: {
      if (!state.held) {
        spdlog::error(
            "shipper {}: receiver refused the request ({}); holding {} queued samples on disk "
            "and probing every {} ms until the configuration or a credential file changes",
            name_, result.reason, spool_.Stats().pending_samples, decision.delay.count());
      }
      state.held = true;
      state.attempt = 0;
      state.not_before = clock_.SteadyNow() + decision.delay;
      std::lock_guard lock(stats_mu_);
      held_ = true;
      last_error_ms_ = clock_.WallMillis();
      last_error_ = result.reason;
      retry_at_ = state.not_before;
      return Next::kSameAgain;
    }
    case RetryPolicy::Action::kSplit:
      state.attempt = 0;
      return Next::kSplit;
  }
  return Next::kSameAgain;
}

std::vector<MetricFamily> ShipperQueue::Metrics() const {
  std::vector<MetricFamily> families;
  AppendMetrics(families);
  return families;
}

void ShipperQueue::AppendMetrics(std::vector<MetricFamily>& families) const {
  const SpoolStats spool = spool_.Stats();
  const std::int64_t now = clock_.WallMillis();
  const Labels shipper{{"shipper", name_}};
  auto with_reason = [&](const std::string& reason) {
    return Labels{{"reason", reason}, {"shipper", name_}};
  };

  std::map<std::string, std::uint64_t> dropped;
  std::uint64_t sent = 0;
  std::uint64_t retried = 0;
  std::optional<std::int64_t> last_success;
  bool held = false;
  std::map<int, std::uint64_t> requests;
  formats::EncodeStats changes;
  {
    std::lock_guard lock(stats_mu_);
    requests = requests_by_status_;
    dropped = dropped_;
    changes = encoder_changes_;
    sent = sent_samples_;
    retried = retried_samples_;
    last_success = last_success_ms_;
    held = held_;
  }
  dropped[kDiskCap] += spool.dropped_disk_cap_samples;
  dropped[kMemoryCap] += spool.dropped_memory_cap_samples;
  dropped[kCorrupt] += spool.dropped_corrupt_samples;
  dropped[kTooLarge] += 0;
  dropped[kNonFinite] += changes.samples_skipped_non_finite;

  AddSample(families, "metricsd_shipper_samples_sent_total",
            "Samples delivered to the receiver (2xx).", MetricType::kCounter, shipper,
            static_cast<double>(sent), now);
  for (const auto& [status, count] : requests) {
    AddSample(families, "metricsd_shipper_requests_total",
              "Requests sent, by the receiver's HTTP status (\"none\" when no response came).",
              MetricType::kCounter,
              Labels{{"code", status > 0 ? std::to_string(status) : "none"}, {"shipper", name_}},
              static_cast<double>(count), now);
  }
  AddSample(families, "metricsd_shipper_samples_retried_total",
            "Samples in requests that failed and were retried (network error, 5xx, 429).",
            MetricType::kCounter, shipper, static_cast<double>(retried), now);
  for (const auto& [reason, count] : dropped) {
    AddSample(families, "metricsd_shipper_samples_dropped_total",
              "Samples given up on, by reason: http_<status> (rejected by the receiver), "
              "too_large, disk_cap, memory_cap, corrupt, non_finite (NaN or infinity, which "
              "the format cannot carry).",
              MetricType::kCounter, with_reason(reason), static_cast<double>(count), now);
  }
  const std::pair<const char*, std::size_t> fixes[] = {
      {"metric_name_sanitized", changes.metric_names_sanitized},
      {"label_name_sanitized", changes.label_names_sanitized},
      {"empty_label_dropped", changes.empty_labels_dropped},
      {"duplicate_label_dropped", changes.duplicate_labels_dropped},
      {"nan_normalized", changes.nan_values_normalized},
  };
  for (const auto& [fix, count] : fixes) {
    AddSample(families, "metricsd_shipper_encoder_fixes_total",
              "Changes the encoder made so that a series is valid in the shipper's format, by "
              "fix. Counted each time a series is encoded: a scraped series when it enters its "
              "target's series cache, other samples in every cycle.",
              MetricType::kCounter, Labels{{"fix", fix}, {"shipper", name_}},
              static_cast<double>(count), now);
  }
  AddSample(families, "metricsd_shipper_queue_batches",
            "Batches waiting to be delivered (on disk, in memory and in flight).",
            MetricType::kGauge, shipper, static_cast<double>(spool.pending_records), now);
  AddSample(families, "metricsd_shipper_queue_samples", "Samples waiting to be delivered.",
            MetricType::kGauge, shipper, static_cast<double>(spool.pending_samples), now);
  AddSample(families, "metricsd_shipper_queue_bytes", "Bytes of the on-disk queue.",
            MetricType::kGauge, shipper, static_cast<double>(spool.disk_bytes), now);
  AddSample(families, "metricsd_shipper_queue_memory_samples",
            "Samples held in memory because the on-disk queue is unusable.", MetricType::kGauge,
            shipper, static_cast<double>(spool.memory_samples), now);
  AddSample(families, "metricsd_shipper_oldest_unsent_timestamp_seconds",
            "Timestamp of the oldest sample not yet delivered; the current time when the queue "
            "is empty.",
            MetricType::kGauge, shipper, Seconds(spool.oldest_pending_timestamp_ms.value_or(now)),
            now);
  AddSample(families, "metricsd_shipper_last_success_timestamp_seconds",
            "Time of the last delivered request; 0 when none yet.", MetricType::kGauge, shipper,
            Seconds(last_success.value_or(0)), now);
  AddSample(families, "metricsd_shipper_wal_corrupt_records_total",
            "Corrupt or torn regions found in the on-disk queue and cut off or skipped.",
            MetricType::kCounter, shipper, static_cast<double>(spool.corrupt_records), now);
  AddSample(families, "metricsd_shipper_held",
            "1 while the receiver refuses our credentials or path (a status in "
            "queue.hold_on_status) and the queue holds its data, else 0.",
            MetricType::kGauge, shipper, held ? 1.0 : 0.0, now);
  AddSample(families, "metricsd_shipper_disk_buffer_ok",
            "1 when the on-disk queue takes writes, 0 when batches are held in memory.",
            MetricType::kGauge, shipper, spool.disk_ok ? 1.0 : 0.0, now);
}

ShipperHealth ShipperQueue::Health(std::chrono::seconds degraded_after) const {
  const SpoolStats spool = spool_.Stats();
  ShipperHealth health;
  std::optional<std::chrono::steady_clock::time_point> last_success_steady;
  {
    std::lock_guard lock(stats_mu_);
    health.last_success_ms = last_success_ms_;
    health.last_error_ms = last_error_ms_;
    health.last_error = last_error_;
    last_success_steady = last_success_steady_;
    if (retry_at_.has_value()) {
      health.next_retry_in = std::max(
          std::chrono::milliseconds(0),
          std::chrono::duration_cast<std::chrono::milliseconds>(*retry_at_ - clock_.SteadyNow()));
    }
  }
  bool held = false;
  {
    std::lock_guard lock(stats_mu_);
    held = held_;
    health.sent_samples = sent_samples_;
    health.retried_samples = retried_samples_;
    health.dropped_samples = dropped_;
  }
  for (const auto& [reason, count] : {std::pair{kDiskCap, spool.dropped_disk_cap_samples},
                                      std::pair{kMemoryCap, spool.dropped_memory_cap_samples},
                                      std::pair{kCorrupt, spool.dropped_corrupt_samples}}) {
    if (count > 0) {
      health.dropped_samples[std::string(reason)] += count;
    }
  }
  health.pending_samples = spool.pending_samples;
  health.disk_ok = spool.disk_ok;
  health.disk_bytes = spool.disk_bytes;
  health.oldest_pending_ms = spool.oldest_pending_timestamp_ms;
  health.held = held;
  const auto since = clock_.SteadyNow() - last_success_steady.value_or(started_);
  if (spool.pending_samples > 0 && since > degraded_after) {
    health.degraded = true;
    health.reason =
        "no delivery for " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since).count()) + "s";
    if (!health.last_error.empty()) {
      health.reason += " (last error: " + health.last_error + ")";
    }
  }
  if (held) {
    // Reported at once: waiting for degraded_after would only delay the fix.
    health.degraded = true;
    health.reason = "held: the receiver refuses our requests (" + health.last_error +
                    "); everything stays queued until the configuration or a credential file "
                    "changes";
  }
  if (!spool.disk_ok && !dir_.empty()) {
    health.degraded = true;
    if (!health.reason.empty()) {
      health.reason += "; ";
    }
    health.reason += "on-disk queue unusable: " + spool.disk_error;
  }
  return health;
}

}  // namespace metricsd::queue
