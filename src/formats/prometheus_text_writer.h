// Renders families in the Prometheus text exposition format 0.0.4 (served on /metrics
// and printed by -once). Families that share a name (e.g. the same application metric
// scraped from two endpoints) are grouped under one HELP/TYPE header, as the format
// requires. Numbers use the shortest round-trip form (std::to_chars), independent of the
// locale; NaN and infinities use the spellings Prometheus parses. Timestamps are not
// written: the scraper stamps samples with its own scrape time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "formats/exposition_parser.h"
#include "formats/family_collector.h"

namespace metricsd {

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends to `out`; reuses its capacity.
void AppendPrometheusText(std::span<const MetricFamily> families, std::string& out);

// The same for several lists at once (e.g. system, scraped and self metrics), grouped
// across all of them so that a name shared between lists gets one header.
void AppendPrometheusText(std::span<const std::span<const MetricFamily>> parts, std::string& out);

// The same text built from samples as a parser visits them, without a MetricFamily per
// sample: each sample's line is written once, into fixed-size chunks, and Finish() joins
// each family's ranges of them under one HELP/TYPE header per name, in the order and with
// the headers AppendPrometheusText gives the equivalent families. A chunk is freed as soon
// as all of it has been copied, so for bodies whose families come sorted by name (as Go
// exporters write them) the peak is little more than the result.
class TextExpositionBuilder {
 public:
  // Families whose name `apart` accepts are kept as families (TakeApart), not rendered.
  explicit TextExpositionBuilder(bool (*apart)(std::string_view family) = nullptr)
      : apart_(apart) {}

  // The samples that follow come from another body: FamilyView::ordinal starts again.
  void BeginSource();
  // Forgets what was added since BeginSource() (a body rejected late).
  void DiscardSource();
  // `family.name` is the family's final name; the timestamp is kept for families apart only.
  void AddSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                 double value, std::int64_t timestamp_ms);
  // A HELP line that came after the family's samples.
  void SetHelp(const FamilyView& family);
  // Whole families, each its own block (JSON targets).
  void AddFamilies(std::span<const MetricFamily> families);

  // The text; the samples buffer is released.
  std::string Finish();
  std::vector<MetricFamily> TakeApart() { return std::move(apart_families_); }

 private:
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);
  static constexpr std::size_t kApart = kAbsent - 1;
  struct Range {
    std::size_t chunk = 0;
    std::size_t begin = 0;
    std::size_t end = 0;
  };
  struct Block {
    std::string family;
    std::string help;
    MetricType type = MetricType::kUntyped;
    std::string first_name;  // of its first sample: the header when every sample has it
    bool uniform = true;
    std::vector<Range> ranges;  // of chunks_
  };
  Block& NewBlock(std::string_view family, std::string_view help, MetricType type);
  // A chunk of lines in an anonymous mapping of its own, so that freeing it gives the memory
  // back to the system at once (malloc would keep blocks of this size for reuse, and the
  // result is written while the chunks are freed).
  class Chunk {
   public:
    explicit Chunk(std::size_t capacity);
    ~Chunk();
    Chunk(Chunk&& other) noexcept;
    Chunk& operator=(Chunk&& other) noexcept;
    Chunk(const Chunk&) = delete;
    Chunk& operator=(const Chunk&) = delete;

    bool Fits(std::size_t n) const noexcept { return capacity_ - size_ >= n; }
    void Append(std::string_view text) noexcept;  // must fit
    void Truncate(std::size_t size) noexcept { size_ = size; }
    void Release() noexcept;
    std::size_t size() const noexcept { return size_; }
    std::string_view text() const noexcept { return {data_, size_}; }

   private:
    char* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
  };
  // Appends line_ to the last chunk (a new one when it does not fit); returns where it starts.
  std::size_t AppendLine();
  void NoteSample(Block& block, std::string_view name, std::size_t begin);
  std::string_view Header(const Block& block) const;

  bool (*apart_)(std::string_view);
  std::vector<Chunk> chunks_;
  std::string line_;  // the line being rendered
  std::vector<Block> blocks_;
  std::vector<std::size_t> position_;  // this source: family ordinal -> block, kApart, kAbsent
  std::vector<MetricFamily> apart_families_;
  std::optional<FamilyCollector> apart_collector_;  // this source's families apart
  // chunks_ (their number and the last one's size) and blocks_ at BeginSource()
  std::size_t source_chunks_ = 0;
  std::size_t source_last_chunk_size_ = 0;
  std::size_t source_blocks_ = 0;
};

// Shortest round-trip decimal; "NaN", "+Inf", "-Inf" for the special values.
void AppendDouble(double value, std::string& out);

}  // namespace metricsd
