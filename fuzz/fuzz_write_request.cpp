// libFuzzer: the remote write decoder (which reads finished requests back from the queue's
// disk to split them) on arbitrary bytes must return views or an error, never crash. What it
// decodes must encode again and decode to the same samples: names, labels, timestamps and
// value bits (NaNs other than the staleness marker become the one normal NaN).
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "formats/remote_write_decoder.h"
#include "formats/remote_write_encoder.h"

namespace {

void Check(bool ok, int line = __builtin_LINE()) {
  if (!ok) {
    std::fprintf(stderr, "check failed at line %d\n", line);
    __builtin_trap();
  }
}

bool SameSample(const metricsd::SampleViews& a, std::size_t i, const metricsd::SampleViews& b,
                std::size_t j) {
  const auto& x = a.samples[i];
  const auto& y = b.samples[j];
  if (x.timestamp_ms != y.timestamp_ms) {
    return false;
  }
  if (std::isnan(x.value)) {
    if (!std::isnan(y.value)) {
      return false;
    }
  } else if (std::bit_cast<std::uint64_t>(x.value) != std::bit_cast<std::uint64_t>(y.value)) {
    return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace metricsd;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  SampleViews views;
  if (!formats::DecodeWriteRequest(bytes, views)) {
    Check(views.samples.empty() && views.labels.empty() && views.families.empty());
    return 0;
  }
  formats::RemoteWriteEncoder encoder;
  formats::EncodeStats stats;
  std::string body;
  encoder.Encode(AllSamples(views), body, stats);
  Check(stats.samples_written == views.samples.size());
  SampleViews again;
  std::string proto;
  Check(formats::DecodeCompressedWriteRequest(body, proto, again).ok());
  Check(again.samples.size() == views.samples.size());
  for (std::size_t i = 0; i < views.samples.size(); ++i) {
    Check(SameSample(views, i, again, i));
  }
  // A clean request (what the encoder wrote) survives a second round byte for byte.
  formats::RemoteWriteEncoder second;
  std::string body_again;
  second.Encode(AllSamples(again), body_again, stats);
  Check(body_again == body);
  return 0;
}
