#include "formats/prometheus_text_writer.h"

#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace metricsd {

namespace {

void AppendEscaped(std::string_view text, bool escape_quotes, std::string& out) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (escape_quotes) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default:
        out += c;
    }
  }
}

// Text 0.0.4 knows only these five types.
std::string_view TextTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
    case MetricType::kInfo:
    case MetricType::kStateSet:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    default:
      return "untyped";
  }
}

// For counters, gauges and untyped metrics the header must carry the sample name
// (an OpenMetrics counter family "foo" exposes samples "foo_total"), when every sample has
// the same one.
bool HeaderIsSampleName(MetricType type) {
  return type != MetricType::kHistogram && type != MetricType::kSummary;
}

std::string_view HeaderName(const MetricFamily& family) {
  if (!HeaderIsSampleName(family.type) || family.samples.empty()) {
    return family.name;
  }
  std::string_view first = family.samples.front().name;
  for (const Sample& s : family.samples) {
    if (s.name != first) {
      return family.name;
    }
  }
  return first;
}

// `labels`: Label or LabelView.
template <typename LabelList>
void AppendSampleLine(std::string_view name, const LabelList& labels, double value,
                      std::string& out) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    bool first = true;
    for (const auto& label : labels) {
      if (!first) {
        out += ',';
      }
      first = false;
      out += label.name;
      out += "=\"";
      AppendEscaped(label.value, true, out);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  AppendDouble(value, out);
  out += '\n';
}

// The HELP and TYPE lines of a group of families.
void AppendHeader(std::string_view header, std::string_view help, MetricType type,
                  std::string& out) {
  if (!help.empty()) {
    out += "# HELP ";
    out += header;
    out += ' ';
    AppendEscaped(help, false, out);
    out += '\n';
  }
  out += "# TYPE ";
  out += header;
  out += ' ';
  out += TextTypeName(type);
  out += '\n';
}

}  // namespace

void AppendDouble(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void AppendPrometheusText(std::span<const MetricFamily> families, std::string& out) {
  const std::span<const MetricFamily> parts[] = {families};
  AppendPrometheusText(std::span<const std::span<const MetricFamily>>(parts), out);
}

void AppendPrometheusText(std::span<const std::span<const MetricFamily>> parts, std::string& out) {
  // Group families by header name across every part, keeping first-seen order within a
  // name: the format allows one HELP/TYPE block per name.
  std::vector<const MetricFamily*> order;
  for (std::span<const MetricFamily> part : parts) {
    for (const MetricFamily& family : part) {
      order.push_back(&family);
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const MetricFamily* a, const MetricFamily* b) {
    return HeaderName(*a) < HeaderName(*b);
  });
  std::string_view previous;
  bool have_previous = false;
  for (const MetricFamily* family_ptr : order) {
    const MetricFamily& family = *family_ptr;
    if (family.samples.empty()) {
      continue;
    }
    std::string_view header = HeaderName(family);
    if (!have_previous || header != previous) {
      AppendHeader(header, family.help, family.type, out);
      previous = header;
      have_previous = true;
    }
    for (const Sample& sample : family.samples) {
      AppendSampleLine(sample.name, sample.labels, sample.value, out);
    }
  }
}

namespace {
constexpr std::size_t kChunkBytes = 256 * 1024;
}  // namespace

TextExpositionBuilder::Chunk::Chunk(std::size_t capacity) : capacity_(capacity) {
  void* mapped =
      ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    throw std::bad_alloc();
  }
  data_ = static_cast<char*>(mapped);
}

TextExpositionBuilder::Chunk::~Chunk() { Release(); }

TextExpositionBuilder::Chunk::Chunk(Chunk&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

TextExpositionBuilder::Chunk& TextExpositionBuilder::Chunk::operator=(Chunk&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void TextExpositionBuilder::Chunk::Append(std::string_view text) noexcept {
  std::memcpy(data_ + size_, text.data(), text.size());
  size_ += text.size();
}

void TextExpositionBuilder::Chunk::Release() noexcept {
  if (data_ != nullptr) {
    ::munmap(data_, capacity_);
    data_ = nullptr;
    size_ = 0;
    capacity_ = 0;
  }
}

void TextExpositionBuilder::BeginSource() {
  position_.clear();
  source_chunks_ = chunks_.size();
  source_last_chunk_size_ = chunks_.empty() ? 0 : chunks_.back().size();
  source_blocks_ = blocks_.size();
  apart_collector_.emplace(apart_families_);
}

void TextExpositionBuilder::DiscardSource() {
  chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(source_chunks_), chunks_.end());
  if (!chunks_.empty()) {
    chunks_.back().Truncate(source_last_chunk_size_);
  }
  blocks_.resize(source_blocks_);
  position_.clear();
  if (apart_collector_) {
    apart_collector_->Discard();
  }
}

TextExpositionBuilder::Block& TextExpositionBuilder::NewBlock(std::string_view family,
                                                              std::string_view help,
                                                              MetricType type) {
  Block& block = blocks_.emplace_back();
  block.family.assign(family);
  block.help.assign(help);
  block.type = type;
  return block;
}

std::size_t TextExpositionBuilder::AppendLine() {
  if (chunks_.empty() || !chunks_.back().Fits(line_.size())) {
    chunks_.emplace_back(std::max(kChunkBytes, line_.size()));
  }
  const std::size_t begin = chunks_.back().size();
  chunks_.back().Append(line_);
  return begin;
}

void TextExpositionBuilder::NoteSample(Block& block, std::string_view name, std::size_t begin) {
  if (block.ranges.empty()) {
    block.first_name.assign(name);
  } else if (block.uniform && name != block.first_name) {
    block.uniform = false;
  }
  const std::size_t chunk = chunks_.size() - 1;
  const std::size_t end = chunks_.back().size();
  if (!block.ranges.empty() && block.ranges.back().chunk == chunk &&
      block.ranges.back().end == begin) {
    block.ranges.back().end = end;  // the usual case: the family goes on
  } else {
    block.ranges.push_back(Range{chunk, begin, end});
  }
}

void TextExpositionBuilder::AddSample(const FamilyView& family, std::string_view name,
                                      std::span<const LabelView> labels, double value,
                                      std::int64_t timestamp_ms) {
  if (!apart_collector_) {
    BeginSource();
  }
  if (family.ordinal >= position_.size()) {
    position_.resize(family.ordinal + 1, kAbsent);
  }
  std::size_t& position = position_[family.ordinal];
  if (position == kAbsent) {
    if (apart_ != nullptr && apart_(family.name)) {
      position = kApart;
    } else {
      position = blocks_.size();
      NewBlock(family.name, family.help, family.type);
    }
  }
  if (position == kApart) {
    apart_collector_->OnSample(family, name, labels, value, timestamp_ms, {});
    return;
  }
  line_.clear();
  AppendSampleLine(name, labels, value, line_);
  NoteSample(blocks_[position], name, AppendLine());
}

void TextExpositionBuilder::SetHelp(const FamilyView& family) {
  if (family.ordinal >= position_.size() || position_[family.ordinal] == kAbsent) {
    return;
  }
  if (position_[family.ordinal] == kApart) {
    apart_collector_->OnHelpAfterSamples(family);
  } else {
    blocks_[position_[family.ordinal]].help.assign(family.help);
  }
}

void TextExpositionBuilder::AddFamilies(std::span<const MetricFamily> families) {
  BeginSource();
  for (const MetricFamily& family : families) {
    if (family.samples.empty()) {
      continue;
    }
    if (apart_ != nullptr && apart_(family.name)) {
      apart_families_.push_back(family);
      continue;
    }
    Block& block = NewBlock(family.name, family.help, family.type);
    for (const Sample& sample : family.samples) {
      line_.clear();
      AppendSampleLine(sample.name, sample.labels, sample.value, line_);
      NoteSample(block, sample.name, AppendLine());
    }
  }
}

std::string_view TextExpositionBuilder::Header(const Block& block) const {
  return HeaderIsSampleName(block.type) && block.uniform ? std::string_view(block.first_name)
                                                         : std::string_view(block.family);
}

std::string TextExpositionBuilder::Finish() {
  std::vector<const Block*> order;
  order.reserve(blocks_.size());
  std::size_t size = 0;
  std::vector<std::size_t> uncopied(chunks_.size());  // per chunk: bytes not copied yet
  for (std::size_t i = 0; i < chunks_.size(); ++i) {
    uncopied[i] = chunks_[i].size();
    size += uncopied[i];
  }
  for (const Block& block : blocks_) {
    order.push_back(&block);
    // A bound on the headers: each block may open a group; escaping at most doubles the help.
    size += 2 * Header(block).size() + 2 * block.help.size() + 40;
  }
  std::stable_sort(order.begin(), order.end(),
                   [this](const Block* a, const Block* b) { return Header(*a) < Header(*b); });
  std::string out;
  out.reserve(size);
  std::string_view previous;
  bool have_previous = false;
  for (const Block* block : order) {
    std::string_view header = Header(*block);
    if (!have_previous || header != previous) {
      AppendHeader(header, block->help, block->type, out);
      previous = header;
      have_previous = true;
    }
    for (const Range& range : block->ranges) {
      out.append(chunks_[range.chunk].text().substr(range.begin, range.end - range.begin));
      uncopied[range.chunk] -= range.end - range.begin;
      if (uncopied[range.chunk] == 0) {
        chunks_[range.chunk].Release();
      }
    }
  }
  chunks_.clear();
  blocks_.clear();
  position_.clear();
  apart_collector_.reset();
  return out;
}

}  // namespace metricsd
