// libFuzzer: DecodeBatch on arbitrary bytes must return a batch or an error, never crash; a
// decoded batch must encode and decode to the same samples. The sender's piecewise reader
// (BatchViewReader) must agree with DecodeBatch: the same samples when the bytes are valid,
// an error when they are not; and the streaming writer must re-encode what it reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "queue/batch_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace metricsd;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto batch = queue::DecodeBatch(bytes);
  if (batch.ok()) {
    std::string again;
    queue::EncodeBatch(*batch, again);
    auto round = queue::DecodeBatch(again);
    Check(round.ok() && queue::CountSamples(*round) == queue::CountSamples(*batch));
  }

  queue::BatchViewReader reader(bytes);
  queue::BatchWriter writer;
  std::size_t samples = 0;
  bool failed = false;
  for (int pieces = 0; pieces < 100000; ++pieces) {
    SampleViews views;
    auto more = reader.Next(3, views);
    if (!more.ok()) {
      Check(views.samples.empty());
      failed = true;
      break;
    }
    Check(views.samples.size() <= 3);
    for (const SampleViews::Entry& e : views.samples) {
      const SampleViews::Family& f = views.families[e.family];
      writer.Add(f.name, f.help, f.type, e.name, views.LabelsOf(e), e.value, e.timestamp_ms);
    }
    samples += views.samples.size();
    if (!*more) {
      break;
    }
  }
  Check(failed == !batch.ok());
  if (batch.ok()) {
    Check(samples == queue::CountSamples(*batch));
    auto rewritten = queue::DecodeBatch(writer.Finish());
    Check(rewritten.ok() && queue::CountSamples(*rewritten) == samples);
  }
  return 0;
}
