#include "agent/exposition_cache.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include <zlib.h>

#include "formats/prometheus_text_writer.h"

namespace metricsd {

namespace {

bool SelfNamed(std::string_view family) {
  return family.starts_with("metricsd_") || family.starts_with("process_");
}

bool SelfNamedFamily(const MetricFamily& family) { return SelfNamed(family.name); }

// The names of every "# TYPE" line: what would collide in the response.
ExpositionPart::Names TypeNames(std::string_view text) {
  ExpositionPart::Names names;
  constexpr std::string_view kType = "# TYPE ";
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = text.size();
    }
    std::string_view line = text.substr(pos, eol - pos);
    if (line.starts_with(kType)) {
      line.remove_prefix(kType.size());
      names.emplace_back(line.substr(0, line.find(' ')));
    }
    pos = eol + 1;
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool Disjoint(const ExpositionPart::Names& a, const ExpositionPart::Names& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i == *j) {
      return false;
    }
    if (*i < *j) {
      ++i;
    } else {
      ++j;
    }
  }
  return true;
}

void AppendLittleEndian32(unsigned long value, std::string& out) {
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

// Request text up to this size is sent as stored blocks; larger (many kept self-named
// families) is worth compressing.
constexpr std::size_t kStoredLimit = 16 * 1024;

// `in` as stored deflate blocks (RFC 1951 3.2.4), not final, at a byte boundary: each is a
// header byte (BFINAL=0, BTYPE=00, padding), LEN and its complement, then the bytes.
void AppendStoredBlocks(std::string_view in, std::string& out) {
  constexpr std::size_t kMaxBlock = 65535;
  while (!in.empty()) {
    std::size_t n = std::min(in.size(), kMaxBlock);
    const auto len = static_cast<std::uint16_t>(n);
    const auto nlen = static_cast<std::uint16_t>(~len);
    const char header[5] = {0, static_cast<char>(len & 0xff), static_cast<char>(len >> 8),
                            static_cast<char>(nlen & 0xff), static_cast<char>(nlen >> 8)};
    out.append(header, sizeof header);
    out.append(in.substr(0, n));
    in.remove_prefix(n);
  }
}

}  // namespace

RawDeflater::RawDeflater() {
  // Level 1: /metrics is compressible text, speed matters more. Negative bits: raw deflate.
  // An 8 KiB window and a small hash keep the state under 64 KiB (the default's 270 KiB
  // would be mmapped, page-faulted and cleared again and again); /metrics compresses <1%
  // worse for it.
  ok_ = deflateInit2(&stream_, 1, Z_DEFLATED, -13, 5, Z_DEFAULT_STRATEGY) == Z_OK;
}

RawDeflater::~RawDeflater() {
  if (ok_) {
    deflateEnd(&stream_);
  }
}

std::string RawDeflater::DeflateSync(std::string_view in) {
  if (!ok_ || deflateReset(&stream_) != Z_OK) {
    return {};
  }
  // The bound covers Z_FINISH; a sync flush adds an empty stored block (at most 6 bytes).
  std::string out(deflateBound(&stream_, static_cast<uLong>(in.size())) + 16, '\0');
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  stream_.avail_in = static_cast<uInt>(in.size());
  stream_.next_out = reinterpret_cast<Bytef*>(out.data());
  stream_.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&stream_, Z_SYNC_FLUSH);
  bool complete = rc == Z_OK && stream_.avail_in == 0 && stream_.avail_out > 0;
  out.resize(stream_.total_out);
  return complete ? out : std::string();
}

std::shared_ptr<const ExpositionPart> ExpositionPart::Build(
    std::span<const std::span<const MetricFamily>> lists, const ExpositionPart* previous,
    const ExpositionPart* other) {
  auto part = std::make_shared<ExpositionPart>();
  std::vector<std::vector<MetricFamily>> rendered_lists;
  std::vector<std::span<const MetricFamily>> rendered;
  for (std::span<const MetricFamily> list : lists) {
    bool any_self = std::any_of(list.begin(), list.end(), SelfNamedFamily);
    if (!any_self) {
      rendered.push_back(list);  // the usual case: no copy
      continue;
    }
    std::vector<MetricFamily>& kept = rendered_lists.emplace_back();
    for (const MetricFamily& family : list) {
      (SelfNamed(family.name) ? part->per_request_ : kept).push_back(family);
    }
  }
  for (const auto& kept : rendered_lists) {
    rendered.emplace_back(kept);
  }
  std::string text;
  if (previous != nullptr && previous->text_) {
    // Parts change little between cycles: one allocation instead of doubling up to the size
    // (which holds up to three times a large part at once).
    text.reserve(previous->text_->size() + previous->text_->size() / 8);
  }
  AppendPrometheusText(rendered, text);
  part->SetText(std::move(text), previous);
  part->CheckAgainst(other);
  return part;
}

TextExpositionBuilder ExpositionPart::NewBuilder() { return TextExpositionBuilder(SelfNamed); }

std::shared_ptr<const ExpositionPart> ExpositionPart::Build(TextExpositionBuilder& builder,
                                                            const ExpositionPart* previous,
                                                            const ExpositionPart* other) {
  auto part = std::make_shared<ExpositionPart>();
  part->SetText(builder.Finish(), previous);
  part->per_request_ = builder.TakeApart();
  part->CheckAgainst(other);
  return part;
}

void ExpositionPart::CheckAgainst(const ExpositionPart* other) {
  if (other != nullptr) {
    checked_against_ = other->names_;
    disjoint_ = Disjoint(*names_, *other->names_);
  }
}

std::shared_ptr<const ExpositionPart> ExpositionPart::BuildSelf(
    std::span<const MetricFamily> families, const ExpositionPart* previous) {
  auto part = std::make_shared<ExpositionPart>();
  std::string text;
  text.reserve(4096);
  const std::span<const MetricFamily> lists[] = {families};
  AppendPrometheusText(lists, text);
  part->SetText(std::move(text), previous);
  return part;
}

void ExpositionPart::SetText(std::string text, const ExpositionPart* previous) {
  Names names = TypeNames(text);
  text_ = std::make_shared<const std::string>(std::move(text));
  if (previous != nullptr && previous->names_ && *previous->names_ == names) {
    names_ = previous->names_;
  } else {
    names_ = std::make_shared<const Names>(std::move(names));
  }
}

bool ExpositionPart::Declares(std::string_view name) const noexcept {
  return std::binary_search(names_->begin(), names_->end(), name);
}

const ExpositionPart::Deflated& ExpositionPart::deflated(RawDeflater& deflater) const {
  std::call_once(gzip_once_, [&] {
    deflated_.bytes = std::make_shared<const std::string>(deflater.DeflateSync(*text_));
    deflated_.crc = crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(text_->data()),
                            text_->size());
  });
  return deflated_;
}

bool ExpositionPart::KnownDisjoint(const ExpositionPart* other) const noexcept {
  if (other == nullptr) {
    return true;
  }
  if (checked_against_ == other->names_) {
    return disjoint_;
  }
  if (other->checked_against_ == names_) {
    return other->disjoint_;
  }
  return false;  // neither was built against the other: not known
}

std::optional<MetricsBody> AssembleMetrics(std::span<const MetricFamily> now,
                                           const PreparedParts& parts, RawDeflater* gzip) {
  if (parts.system != nullptr && !parts.system->KnownDisjoint(parts.scrape)) {
    return std::nullopt;
  }
  std::vector<std::span<const MetricFamily>> lists{now};
  std::vector<const ExpositionPart*> prepared;
  for (const ExpositionPart* part : {parts.self, parts.system, parts.scrape}) {
    if (part != nullptr) {
      lists.emplace_back(part->per_request());
      prepared.push_back(part);
    }
  }
  if (parts.self != nullptr) {
    // Kept self-named families (a scraped metricsd's) merge only with `now`, not with text.
    for (std::span<const MetricFamily> list : lists) {
      for (const MetricFamily& family : list) {
        if (parts.self->Declares(family.name)) {
          return std::nullopt;
        }
      }
    }
  }
  std::string text;
  text.reserve(2048);
  AppendPrometheusText(lists, text);
  MetricsBody body{.gzip = gzip != nullptr};
  if (gzip == nullptr) {
    body.pieces.push_back(std::make_shared<const std::string>(std::move(text)));
    for (const ExpositionPart* part : prepared) {
      if (!part->text()->empty()) {
        body.pieces.push_back(part->text());
      }
    }
    return body;
  }
  // gzip header (RFC 1952): magic, deflate, no flags, no mtime, no extra flags, OS unknown.
  std::string head("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  if (text.size() <= kStoredLimit) {
    AppendStoredBlocks(text, head);
  } else {
    std::string deflated = gzip->DeflateSync(text);
    if (deflated.empty()) {
      return std::nullopt;  // zlib failed (out of memory): the caller's full render
    }
    head += deflated;
  }
  unsigned long crc =
      crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(text.data()), text.size());
  std::size_t length = text.size();
  body.pieces.push_back(std::make_shared<const std::string>(std::move(head)));
  for (const ExpositionPart* part : prepared) {
    if (part->text()->empty()) {
      continue;
    }
    const ExpositionPart::Deflated& d = part->deflated(*gzip);
    if (d.bytes->empty()) {
      return std::nullopt;
    }
    body.pieces.push_back(d.bytes);
    crc = crc32_combine(crc, d.crc, static_cast<z_off_t>(part->text()->size()));
    length += part->text()->size();
  }
  // A final empty fixed-Huffman block (BFINAL=1, BTYPE=01, end-of-block), then the trailer.
  std::string tail("\x03\x00", 2);
  AppendLittleEndian32(crc, tail);
  AppendLittleEndian32(length & 0xffffffffUL, tail);
  body.pieces.push_back(std::make_shared<const std::string>(std::move(tail)));
  return body;
}

}  // namespace metricsd
