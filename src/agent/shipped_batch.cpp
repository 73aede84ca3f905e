#include "agent/shipped_batch.h"

#include <algorithm>
#include <utility>

#include "core/varint.h"

namespace metricsd {
namespace {

constexpr std::string_view kInstance = "instance";

bool ByName(const LabelView& a, const LabelView& b) { return a.name < b.name; }

}  // namespace

ShippedBatch::ShippedBatch(std::string instance, Labels global, std::vector<ShipperFeed> feeds)
    : instance_(std::move(instance)), global_(std::move(global)) {
  SortLabels(global_);
  if (feeds.empty()) {
    outputs_.push_back(Output{{}, {}, MakeWriter(ShipperFeed{}), {}});
    return;
  }
  // Shippers without rules that take the same kind of record share an output.
  struct Shared {
    std::optional<std::size_t> ready_requests;
    bool reuse_compression;
    std::size_t output;
  };
  std::vector<Shared> shared;
  for (std::size_t i = 0; i < feeds.size(); ++i) {
    ShipperFeed& feed = feeds[i];
    if (!feed.write_relabel.empty()) {
      outputs_.push_back(Output{std::move(feed.write_relabel), {i}, MakeWriter(feed), {}});
      continue;
    }
    auto same = std::find_if(shared.begin(), shared.end(), [&](const Shared& entry) {
      return entry.ready_requests == feed.ready_requests &&
             (!feed.ready_requests || entry.reuse_compression == feed.reuse_compression);
    });
    if (same != shared.end()) {
      outputs_[same->output].shippers.push_back(i);
      continue;
    }
    shared.push_back({feed.ready_requests, feed.reuse_compression, outputs_.size()});
    outputs_.push_back(Output{{}, {i}, MakeWriter(feed), {}});
  }
}

ShippedBatch::Writer ShippedBatch::MakeWriter(const ShipperFeed& feed) {
  if (feed.ready_requests) {
    return Writer(std::in_place_type<queue::ReadyRequestWriter>, *feed.ready_requests,
                  feed.reuse_compression);
  }
  return Writer(std::in_place_type<queue::BatchWriter>);
}

void ShippedBatch::Write(Output& output, std::string_view family, std::string_view help,
                         MetricType type, std::string_view name, std::span<const LabelView> labels,
                         double value, std::int64_t timestamp_ms) {
  std::visit(
      [&](auto& writer) { writer.Add(family, help, type, name, labels, value, timestamp_ms); },
      output.writer);
}

std::span<const LabelView> ShippedBatch::Decorate(std::span<const LabelView> own) {
  if (instance_.empty() && global_.empty()) {
    return own;
  }
  std::span<const LabelView> labels = own;
  if (!instance_.empty()) {
    own_.assign(own.begin(), own.end());
    auto at = std::lower_bound(own_.begin(), own_.end(), LabelView{kInstance, {}}, ByName);
    if (at != own_.end() && at->name == kInstance) {
      // The sample's own instance moves aside under the first exported_ name it does not use.
      std::size_t depth = 0;
      for (;; ++depth) {
        if (depth == exported_names_.size()) {
          exported_names_.push_back("exported_" +
                                    (depth == 0 ? std::string(kInstance) : exported_names_.back()));
        }
        const std::string& candidate = exported_names_[depth];
        if (std::none_of(own_.begin(), own_.end(),
                         [&](const LabelView& l) { return l.name == candidate; })) {
          break;
        }
      }
      LabelView moved{exported_names_[depth], at->value};
      at->value = instance_;
      own_.insert(std::lower_bound(own_.begin(), own_.end(), moved, ByName), moved);
    } else {
      own_.insert(at, LabelView{kInstance, instance_});
    }
    labels = own_;
  }
  if (global_.empty()) {
    return labels;
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
  return merged_;
}

template <typename Fn>
void ShippedBatch::ForEachOutput(std::string_view name, std::span<const LabelView> labels, Fn fn) {
  const std::span<const LabelView> decorated = Decorate(labels);
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    Output& output = outputs_[i];
    if (output.relabel.empty()) {
      fn(i, name, decorated);
      continue;
    }
    switch (output.relabel.Apply(name, decorated, scratch_, relabeled_)) {
      case RelabelOutcome::kDropped:
        continue;
      case RelabelOutcome::kUnchanged:
        fn(i, name, decorated);
        continue;
      case RelabelOutcome::kChanged:
        break;
    }
    std::string_view new_name;
    named_.clear();
    for (const Label& label : relabeled_) {
      if (label.name == "__name__") {
        new_name = label.value;
      } else {
        named_.push_back(LabelView{label.name, label.value});
      }
    }
    if (!new_name.empty()) {  // a series without a name cannot be written
      fn(i, new_name, std::span<const LabelView>(named_));
    }
  }
}

void ShippedBatch::Add(std::string_view family, std::string_view help, MetricType type,
                       std::string_view name, std::span<const LabelView> labels, double value,
                       std::int64_t timestamp_ms) {
  ForEachOutput(
      name, labels,
      [&](std::size_t i, std::string_view final_name, std::span<const LabelView> final_labels) {
        Write(outputs_[i], family, help, type, final_name, final_labels, value, timestamp_ms);
      });
}

// A series' prepared form (ScrapeSampleSink::Prepare) is one string: per output in order, a
// byte saying whether it is written, then for a remote write output the length and bytes of
// its finished label fields, for a batch output the name and each label name and value, each
// as length and bytes (lengths are varints).
namespace {

void PutString(std::string& out, std::string_view s) {
  char length[10];
  out.append(length, PutVarint(length, s.size()));
  out.append(s);
}

// Reads a varint, or what PutString wrote, at `at` (bytes this process wrote: trusted).
std::size_t GetVarint(std::string_view bytes, std::size_t& at) {
  std::size_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(bytes[at++]);
    v |= std::size_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      return v;
    }
  }
}

std::string_view GetString(std::string_view bytes, std::size_t& at) {
  const std::size_t length = GetVarint(bytes, at);
  const std::string_view s = bytes.substr(at, length);
  at += length;
  return s;
}

}  // namespace

bool ShippedBatch::Prepare(std::string_view name, std::span<const LabelView> labels,
                           std::string& bytes) {
  std::size_t next = 0;  // outputs before it that the series skips get a 0 byte
  ForEachOutput(
      name, labels,
      [&](std::size_t i, std::string_view final_name, std::span<const LabelView> final_labels) {
        bytes.append(i - next, '\0');
        next = i + 1;
        bytes.push_back(1);
        if (auto* ready = std::get_if<queue::ReadyRequestWriter>(&outputs_[i].writer)) {
          scratch_encoded_.clear();
          ready->EncodeLabels(final_name, final_labels, scratch_encoded_);
          PutString(bytes, scratch_encoded_);
          return;
        }
        PutString(bytes, final_name);
        char count[10];
        bytes.append(count, PutVarint(count, final_labels.size()));
        for (const LabelView& label : final_labels) {
          PutString(bytes, label.name);
          PutString(bytes, label.value);
        }
      });
  bytes.append(outputs_.size() - next, '\0');
  return true;
}

void ShippedBatch::AddPrepared(std::string_view bytes, std::string_view family,
                               std::string_view help, MetricType type, double value,
                               std::int64_t timestamp_ms) {
  std::size_t at = 0;
  for (Output& output : outputs_) {
    if (bytes[at++] == 0) {
      continue;  // write relabeling drops it for this output
    }
    if (auto* ready = std::get_if<queue::ReadyRequestWriter>(&output.writer)) {
      ready->AddEncoded(GetString(bytes, at), value, timestamp_ms);
      continue;
    }
    const std::string_view name = GetString(bytes, at);
    const std::size_t count = GetVarint(bytes, at);
    prepared_views_.clear();
    for (std::size_t l = 0; l < count; ++l) {
      const std::string_view label_name = GetString(bytes, at);
      prepared_views_.push_back(LabelView{label_name, GetString(bytes, at)});
    }
    std::get<queue::BatchWriter>(output.writer)
        .Add(family, help, type, name, prepared_views_, value, timestamp_ms);
  }
}

void ShippedBatch::Mark() {
  for (Output& output : outputs_) {
    std::visit([&](auto& writer) { output.mark = writer.Checkpoint(); }, output.writer);
  }
}

void ShippedBatch::Rollback() {
  for (Output& output : outputs_) {
    std::visit(
        [&](auto& writer) {
          using Mark = typename std::decay_t<decltype(writer)>::Mark;
          if (const Mark* mark = std::get_if<Mark>(&output.mark)) {
            writer.Rollback(*mark);
          }
        },
        output.writer);
  }
}

void ShippedBatch::AddFamilies(const std::vector<MetricFamily>& families) {
  std::vector<LabelView> views;
  for (const MetricFamily& family : families) {
    for (const Sample& sample : family.samples) {
      ViewLabels(sample.labels, views);
      Add(family.name, family.help, family.type, sample.name, views, sample.value,
          sample.timestamp_ms);
    }
  }
}

namespace {
queue::EncodedBatch Finish(queue::BatchWriter& writer) {
  queue::EncodedBatch encoded;
  encoded.samples = static_cast<std::uint32_t>(writer.samples());
  encoded.min_timestamp_ms = writer.min_timestamp_ms();
  encoded.payload = writer.Finish();
  return encoded;
}
}  // namespace

void ShippedBatch::Take(const ShipFn& ship) {
  Compression compression;
  for (Output& output : outputs_) {
    if (auto* batch = std::get_if<queue::BatchWriter>(&output.writer)) {
      const queue::EncodedBatch record = Finish(*batch);
      ship(std::span(&record, 1), output.shippers, formats::EncodeStats{});
      continue;
    }
    auto& ready = std::get<queue::ReadyRequestWriter>(output.writer);
    const std::vector<queue::EncodedBatch> records = ready.Finish();
    const formats::EncodeStats fixes = ready.stats() - output.fixes_taken;
    output.fixes_taken = ready.stats();
    ship(records, output.shippers, fixes);
    compression.runs_rebuilt += ready.skeletons().reused();
    compression.runs_compressed += ready.skeletons().compressed();
    compression.skeleton_bytes += ready.skeletons().skeleton_bytes();
  }
  runs_rebuilt_.store(compression.runs_rebuilt, std::memory_order_relaxed);
  runs_compressed_.store(compression.runs_compressed, std::memory_order_relaxed);
  skeleton_bytes_.store(compression.skeleton_bytes, std::memory_order_relaxed);
}

queue::EncodedBatch ShippedBatch::Take() {
  return Finish(std::get<queue::BatchWriter>(outputs_.front().writer));
}

}  // namespace metricsd
