// The prepared parts of /metrics. After each collection cycle (system) and each scrape cycle
// the agent renders that part's Prometheus text once into an ExpositionPart; its compressed
// form is made lazily, once, by the first request that accepts gzip. The agent's own metrics
// that change only per cycle (collector and scrape health, cycle durations) form a third,
// "self" part, rebuilt after either cycle. A request then renders only what changes between
// cycles (process and queue metrics) and hands out shared buffers (AssembleMetrics), so the
// server thread never parses or renders the big parts.
//
// gzip without recompressing: each part is compressed alone as raw deflate ending in a sync
// flush (byte-aligned, not final), so the parts' deflate data can follow one another in one
// stream (as zlib's gzjoin and pigz do). A request adds the gzip header, its own text as
// stored (uncompressed) blocks (a few hundred bytes: compressing them would cost more than
// the whole rest of the request), a final empty block and the trailer (the CRC-32 joined
// with crc32_combine): one gzip member.
// Concatenated gzip members would be valid RFC 1952 too, but curl 7.88 (and so every libcurl
// scraper) decodes only the first member and drops the rest without an error.
//
// Each family name must appear once in the response. Families named like the agent's own
// (metricsd_*, process_*: a scraped Go program has process_*) are not pre-rendered but kept
// as families and merged per request with the self-metrics. A name shared by the system and
// the scrape part, or by a kept family and the self part (a scraped metricsd), cannot be
// merged without re-rendering, so AssembleMetrics refuses such parts (nullopt) and the
// caller falls back to a full render.
//
// Parts are immutable once built (the gzip cache is filled under std::call_once) and shared
// across threads by std::shared_ptr<const ExpositionPart>.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

#include "core/metric.h"
#include "formats/prometheus_text_writer.h"
#include "server/http_server.h"

namespace metricsd {

// One raw deflate stream, reset between uses: a deflate allocates and clears no state.
// Not thread-safe.
class RawDeflater {
 public:
  RawDeflater();
  ~RawDeflater();
  RawDeflater(const RawDeflater&) = delete;
  RawDeflater& operator=(const RawDeflater&) = delete;

  // Raw deflate (no header) of `in`, ending in a sync flush so that more deflate data may
  // follow; empty when zlib fails.
  std::string DeflateSync(std::string_view in);

 private:
  z_stream stream_{};
  bool ok_ = false;
};

class ExpositionPart {
 public:
  using Names = std::vector<std::string>;  // the "# TYPE" names of the text, sorted

  // Renders `lists` as one part. `previous` (the part it replaces, may be null) lends its
  // Names when they are unchanged, so that `other` (the latest part of the other kind, may
  // be null) can be compared by identity at request time.
  static std::shared_ptr<const ExpositionPart> Build(
      std::span<const std::span<const MetricFamily>> lists, const ExpositionPart* previous,
      const ExpositionPart* other);
  // A part from the text of `builder` (made by NewBuilder()), for the kept scrape bodies,
  // which are rendered straight to text rather than through families.
  static TextExpositionBuilder NewBuilder();
  static std::shared_ptr<const ExpositionPart> Build(TextExpositionBuilder& builder,
                                                     const ExpositionPart* previous,
                                                     const ExpositionPart* other);
  // The self part: renders every family (all self-named, so never in a part from Build).
  static std::shared_ptr<const ExpositionPart> BuildSelf(std::span<const MetricFamily> families,
                                                         const ExpositionPart* previous);

  const std::shared_ptr<const std::string>& text() const noexcept { return text_; }
  struct Deflated {
    std::shared_ptr<const std::string> bytes;  // raw deflate, ends in a sync flush
    unsigned long crc = 0;                     // CRC-32 of text()
  };
  // text() compressed (with `deflater`, on the first call).
  const Deflated& deflated(RawDeflater& deflater) const;
  // The families merged per request with the self-metrics.
  const std::vector<MetricFamily>& per_request() const noexcept { return per_request_; }
  // Whether no name of this part's text appears in `other`'s (null: an empty part), as
  // checked when one of them was built.
  bool KnownDisjoint(const ExpositionPart* other) const noexcept;
  // Whether the text has a family of this name.
  bool Declares(std::string_view name) const noexcept;

 private:
  // Sets text_ and names_ (lent by `previous` when unchanged).
  void SetText(std::string text, const ExpositionPart* previous);
  // Notes whether the names are disjoint from `other`'s.
  void CheckAgainst(const ExpositionPart* other);

  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const Names> names_;
  std::vector<MetricFamily> per_request_;
  std::shared_ptr<const Names> checked_against_;  // other's names at Build(); null: none
  bool disjoint_ = true;
  mutable std::once_flag gzip_once_;
  mutable Deflated deflated_;
};

// The prepared parts of one response; any may be null.
struct PreparedParts {
  const ExpositionPart* self = nullptr;
  const ExpositionPart* system = nullptr;
  const ExpositionPart* scrape = nullptr;
};

// The /metrics body: `now` (the self-metrics read at request time) and the parts'
// per-request families rendered now, then the parts' prepared text (or deflate data).
// `gzip`: the stream to compress with (a part's first gzip request uses it); null: identity.
// nullopt when the parts share a family name.
std::optional<MetricsBody> AssembleMetrics(std::span<const MetricFamily> now,
                                           const PreparedParts& parts, RawDeflater* gzip);

}  // namespace metricsd
