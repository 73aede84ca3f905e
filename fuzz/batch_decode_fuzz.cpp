// libFuzzer: DecodeBatch on arbitrary bytes must return a batch or an error, never crash; a
// decoded batch must encode and decode to the same samples.
#include <cstddef>
#include <cstdint>
#include <string>

#include "queue/batch_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto batch = metricsd::queue::DecodeBatch(bytes);
  if (batch.ok()) {
    std::string again;
    metricsd::queue::EncodeBatch(*batch, again);
    auto round = metricsd::queue::DecodeBatch(again);
    if (!round.ok() ||
        metricsd::queue::CountSamples(*round) != metricsd::queue::CountSamples(*batch)) {
      __builtin_trap();
    }
  }
  return 0;
}
