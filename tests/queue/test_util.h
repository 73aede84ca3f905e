// Helpers shared by the queue tests: a hand-driven clock, a scripted fake Shipper, a temporary
// directory and batch builders.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "formats/remote_write_decoder.h"
#include "queue/ready_request_writer.h"
#include "shippers/shipper.h"
#include "support/owned_batch.h"

namespace metricsd::queue::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const noexcept override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_ns_.load()));
  }
  std::int64_t WallMillis() const noexcept override { return wall_ms_.load(); }
  void Advance(std::chrono::nanoseconds d) {
    steady_ns_ += d.count();
    wall_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }

 private:
  std::atomic<std::int64_t> steady_ns_{1'000'000'000'000};
  std::atomic<std::int64_t> wall_ms_{1'700'000'000'000};
};

// Polls `done` until it holds or `timeout` passes (real time). Never a fixed sleep.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "queue_test.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A batch of one gauge family whose samples carry values first, first+1, ... so tests can
// check order and completeness by value.
inline Batch MakeBatch(int first, int samples, std::int64_t ts_ms = 1'700'000'000'000) {
  MetricFamily family;
  family.name = "test_value";
  family.help = "A test gauge.";
  family.type = MetricType::kGauge;
  for (int i = 0; i < samples; ++i) {
    family.samples.push_back(Sample{"test_value",
                                    {{"instance", "host-1"}, {"n", std::to_string(i % 7)}},
                                    static_cast<double>(first + i),
                                    ts_ms + first + i});
  }
  return {family};
}

inline std::vector<int> Values(const Batch& batch) {
  std::vector<int> values;
  for (const MetricFamily& family : batch) {
    for (const Sample& sample : family.samples) {
      values.push_back(static_cast<int>(sample.value));
    }
  }
  return values;
}

// A Shipper that answers from a script (then with `fallback`), records what it received and
// can block inside SendRange until released (or until its own timeout, like a real shipper).
class FakeShipper final : public Shipper {
 public:
  using Responder = std::function<SendResult(const Batch&)>;

  std::string_view name() const override { return "fake"; }

  // Whether it takes finished remote write bodies, like a remote write shipper; it decodes
  // them to answer from the same script.
  void TakeReady(bool takes) { takes_ready_ = takes; }
  bool SendsReadyRequests() const noexcept override { return takes_ready_; }
  SendResult SendReady(std::string_view body, std::size_t samples) noexcept override {
    SampleViews views;
    std::string proto;
    Status decoded = formats::DecodeCompressedWriteRequest(body, proto, views);
    EXPECT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(views.samples.size(), samples);
    ++ready_bodies_;
    return SendRange(AllSamples(views));
  }
  int ready_bodies() const { return ready_bodies_.load(); }

  SendResult SendRange(const SampleRange& range) noexcept override {
    const Batch batch = metricsd::testing::OwnedBatch(range);
    std::unique_lock lock(mu_);
    ++calls_;
    in_send_ = true;
    cv_.notify_all();
    if (block_) {
      cv_.wait_for(lock, block_timeout_, [this] { return !block_; });
    }
    in_send_ = false;
    SendResult result = SendResult::Ok();
    if (!script_.empty()) {
      result = script_.front()(batch);
      script_.pop_front();
    } else if (fallback_) {
      result = fallback_(batch);
    }
    attempts_.push_back(batch);
    changes_ += changes_per_send_;
    if (result.kind == SendResult::Kind::kOk) {
      for (int v : Values(batch)) {
        delivered_.push_back(v);
      }
      ++ok_requests_;
    }
    return result;
  }

  // Each send reports these encoder changes, as a shipper that encodes at send time does.
  void ChangesPerSend(const formats::EncodeStats& changes) {
    std::lock_guard lock(mu_);
    changes_per_send_ = changes;
  }
  formats::EncodeStats TakeEncodeStats() noexcept override {
    std::lock_guard lock(mu_);
    return std::exchange(changes_, {});
  }

  void Script(Responder r) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(r));
  }
  void Fallback(Responder r) {
    std::lock_guard lock(mu_);
    fallback_ = std::move(r);
  }
  void Block(std::chrono::milliseconds timeout) {
    std::lock_guard lock(mu_);
    block_ = true;
    block_timeout_ = timeout;
  }
  void Release() {
    std::lock_guard lock(mu_);
    block_ = false;
    cv_.notify_all();
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int ok_requests() const {
    std::lock_guard lock(mu_);
    return ok_requests_;
  }
  bool in_send() const {
    std::lock_guard lock(mu_);
    return in_send_;
  }
  std::vector<int> delivered() const {
    std::lock_guard lock(mu_);
    return delivered_;
  }
  std::vector<Batch> attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Responder> script_;
  Responder fallback_;
  bool block_ = false;
  bool in_send_ = false;
  std::chrono::milliseconds block_timeout_{0};
  int calls_ = 0;
  int ok_requests_ = 0;
  std::vector<int> delivered_;
  std::vector<Batch> attempts_;
  formats::EncodeStats changes_per_send_;
  formats::EncodeStats changes_;
  std::atomic<bool> takes_ready_{false};
  std::atomic<int> ready_bodies_{0};
};

// Adds every sample of `batch` to a remote write writer.
inline void AddAll(ReadyRequestWriter& writer, const Batch& batch) {
  std::vector<LabelView> labels;
  for (const MetricFamily& family : batch) {
    for (const Sample& sample : family.samples) {
      ViewLabels(sample.labels, labels);
      writer.Add(family.name, family.help, family.type, sample.name, labels, sample.value,
                 sample.timestamp_ms);
    }
  }
}

// The finished remote write records a remote write shipper's queue would get for `batch`.
inline std::vector<EncodedBatch> ReadyRecords(const Batch& batch, std::size_t max_samples = 0) {
  ReadyRequestWriter writer(max_samples);
  AddAll(writer, batch);
  return writer.Finish();
}

// A receiver that takes at most 5 samples a request, and never sample 20: 413 otherwise.
inline SendResult SmallReceiver(const Batch& batch) {
  const auto values = Values(batch);
  if (values.size() > 5 || std::find(values.begin(), values.end(), 20) != values.end()) {
    return SendResult{SendResult::Kind::kTooLarge, 413, std::nullopt, "too large"};
  }
  return SendResult::Ok();
}

inline FakeShipper::Responder Answer(SendResult result) {
  return [result](const Batch&) { return result; };
}
inline SendResult Retry(int status = 503) {
  return SendResult{SendResult::Kind::kRetry, status, std::nullopt, "unavailable"};
}
inline SendResult Drop(int status) {
  return SendResult{SendResult::Kind::kDrop, status, std::nullopt, "bad request"};
}

inline std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) {
    v.push_back(i);
  }
  return v;
}

}  // namespace metricsd::queue::testing
