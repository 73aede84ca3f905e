#include "agent/collector_runner.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

namespace metricsd {

CollectorRunner::CollectorRunner(std::vector<std::unique_ptr<Collector>> collectors) {
  for (auto& collector : collectors) {
    health_.push_back(CollectorHealth{.name = std::string(collector->name()), .state = "pending"});
    entries_.push_back(Entry{std::move(collector)});
  }
}

std::vector<MetricFamily> CollectorRunner::RunOnce(const CollectContext& ctx) {
  Output output;
  RunOnce(ctx, output);
  return std::move(output.families);
}

void CollectorRunner::RunOnce(const CollectContext& ctx, Output& output) {
  // Hand each collector back the families it wrote into this storage last time.
  std::size_t total = 0;
  for (std::size_t count : output.counts) {
    total += count;
  }
  const bool reusable = output.counts.size() == entries_.size() && total == output.families.size();
  auto next = output.families.begin();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::vector<MetricFamily>& families = entries_[i].result.families;
    families.clear();
    if (reusable) {
      const auto end = next + static_cast<std::ptrdiff_t>(output.counts[i]);
      families.insert(families.end(), std::make_move_iterator(next), std::make_move_iterator(end));
      next = end;
    }
  }
  output.families.clear();
  output.counts.assign(entries_.size(), 0);

  for (std::size_t i = 0; i < entries_.size(); ++i) {
    Entry& entry = entries_[i];
    if (entry.disabled) {
      entry.result.families.clear();
      continue;
    }
    auto started = std::chrono::steady_clock::now();
    CollectResult& result = entry.result;
    result.status = CollectStatus::kOk;
    result.message.clear();
    try {
      entry.collector->CollectInto(ctx, result);
    } catch (const std::exception& e) {
      result = CollectResult::Transient(std::string("exception: ") + e.what());
    } catch (...) {
      result = CollectResult::Transient("unknown exception");
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string_view name = entry.collector->name();
    switch (result.status) {
      case CollectStatus::kOk:
        if (entry.failing) {
          spdlog::info("collector {} recovered", name);
          entry.failing = false;
        }
        break;
      case CollectStatus::kTransient:
        if (!entry.failing) {
          spdlog::warn("collector {} failed: {} (will retry every cycle; logged once)", name,
                       result.message);
          entry.failing = true;
        }
        break;
      case CollectStatus::kNotApplicable:
        spdlog::info("collector {} is not applicable on this host: {}", name, result.message);
        entry.disabled = true;
        break;
    }
    {
      std::lock_guard lock(mutex_);
      CollectorHealth& h = health_[i];
      h.last_duration_seconds = seconds;
      if (result.status == CollectStatus::kOk) {
        h.state = "ok";
        h.last_success_ms = ctx.wall_ms;
        h.last_error = result.message;  // a partial failure, if any
      } else if (result.status == CollectStatus::kTransient) {
        h.state = "failing";
        ++h.failures_total;
        h.last_error = result.message;
      } else {
        h.state = "not_applicable";
        h.last_error = result.message;
      }
    }
    output.counts[i] = result.families.size();
    output.families.insert(output.families.end(), std::make_move_iterator(result.families.begin()),
                           std::make_move_iterator(result.families.end()));
    result.families.clear();
  }
}

std::vector<CollectorHealth> CollectorRunner::Health() const {
  std::lock_guard lock(mutex_);
  return health_;
}

void CollectorRunner::AppendSelfMetrics(std::int64_t wall_ms,
                                        std::vector<MetricFamily>& out) const {
  std::vector<CollectorHealth> health = Health();
  FamilyBuilder duration("metricsd_collector_duration_seconds",
                         "Time the collector's last run took.", MetricType::kGauge, wall_ms);
  FamilyBuilder up("metricsd_collector_up",
                   "1 when the collector's last run succeeded, 0 when it failed or is not "
                   "applicable on this host.",
                   MetricType::kGauge, wall_ms);
  FamilyBuilder last("metricsd_collector_last_success_timestamp_seconds",
                     "Unix time of the collector's last successful run.", MetricType::kGauge,
                     wall_ms);
  FamilyBuilder failures("metricsd_collector_failures_total", "Runs of the collector that failed.",
                         MetricType::kCounter, wall_ms);
  for (const CollectorHealth& h : health) {
    if (h.state == "pending") {
      continue;
    }
    Labels labels{{"collector", h.name}};
    duration.Add(h.last_duration_seconds, labels);
    up.Add(h.state == "ok" ? 1 : 0, labels);
    if (h.last_success_ms > 0) {
      last.Add(static_cast<double>(h.last_success_ms) / 1000.0, labels);
    }
    failures.Add(static_cast<double>(h.failures_total), labels);
  }
  for (FamilyBuilder* b : {&duration, &up, &last, &failures}) {
    if (!b->empty()) {
      out.push_back(b->Build());
    }
  }
}

}  // namespace metricsd
