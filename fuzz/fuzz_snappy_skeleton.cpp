// libFuzzer: remote write requests rebuilt from snappy skeletons (formats/snappy_skeleton.h)
// always decode, with snappy's own decoder, to exactly the request they were built for.
//
// The input describes four cycles of one producer: series (names and label values taken from
// the input), then for each later cycle new values and timestamps and a few series renamed,
// dropped or added. Each cycle's block must decode to that cycle's protobuf, whether its
// skeleton was reused or built again. Then the input itself is read as a skeleton for the last
// protobuf: WriteBySkeleton must refuse it or write elements that decode to that protobuf.
#include <snappy.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/varint.h"
#include "formats/remote_write_encoder.h"
#include "formats/snappy_skeleton.h"
#include "fuzz_checks.h"

namespace {

using metricsd::fuzz::Check;

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::string Text(std::size_t max) {
    const std::size_t n = std::min<std::size_t>(Byte() % (max + 1), size_ - at_);
    std::string s(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return s;
  }
  bool done() const { return at_ >= size_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

struct Series {
  std::string name;
  std::string value_label;
  double value = 0;
};

// The WriteRequest protobuf of the first `count` series.
std::string Encode(const std::vector<Series>& series, std::size_t count,
                   std::int64_t timestamp_ms) {
  metricsd::formats::RemoteWriteEncoder encoder;
  metricsd::formats::EncodeStats stats;
  for (std::size_t i = 0; i < count; ++i) {
    const std::vector<metricsd::LabelView> labels = {{"job", "fuzz"}, {"v", series[i].value_label}};
    encoder.Append(series[i].name, labels, series[i].value, timestamp_ms, stats);
  }
  return std::string(encoder.last_protobuf());
}

// The block that the cache's elements make, checked against snappy's decoder.
void CheckCycle(metricsd::formats::SnappySkeletonCache& cache, const std::vector<Series>& series,
                std::int64_t timestamp_ms) {
  const std::string proto = Encode(series, series.size(), timestamp_ms);
  metricsd::ByteBuffer block;
  block.Commit(metricsd::PutVarint(block.Reserve(10), proto.size()));
  // Two runs, as two targets of one request; the second starts where the first half ends.
  const std::size_t cut = Encode(series, series.size() / 2, timestamp_ms).size();
  cache.AppendElements(std::string_view(proto).substr(0, cut), block);
  cache.AppendElements(std::string_view(proto).substr(cut), block);
  std::string decoded;
  Check(snappy::Uncompress(block.data(), block.size(), &decoded));
  Check(decoded == proto);
  cache.EndCycle();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  std::vector<Series> series(in.Byte() % 40);
  for (Series& s : series) {
    s.name = "m_" + in.Text(6);
    s.value_label = "x" + in.Text(4);
    s.value = in.Byte() % 3 == 0 ? static_cast<double>(in.Byte()) : in.Byte() / 7.0;
  }
  metricsd::formats::SnappySkeletonCache cache;
  std::int64_t timestamp_ms = 1'700'000'000'000;
  for (int cycle = 0; cycle < 4; ++cycle) {
    CheckCycle(cache, series, timestamp_ms);
    timestamp_ms += in.Byte() % 2 == 0 ? 15'000 : -1'699'999'999'000;
    for (Series& s : series) {
      switch (in.Byte() % 8) {
        case 0:
          s.value_label += "y";  // renamed
          break;
        case 1:
          s.value = -s.value;
          break;
        case 2:
          s.value += static_cast<double>(in.Byte()) * 256;  // a counter's bigger step
          break;
        default:
          s.value += 1;
      }
    }
    if (!series.empty() && in.Byte() % 4 == 0) {
      series.erase(series.begin() + in.Byte() % series.size());
    }
  }

  // The input as a skeleton for the last cycle's protobuf.
  const std::string proto = Encode(series, series.size(), timestamp_ms);
  const std::string_view skeleton(reinterpret_cast<const char*>(data), size);
  std::string dest(skeleton.size() + proto.size() + metricsd::formats::kWriteSlack, '\0');
  char header[10];
  if (char* end = metricsd::formats::WriteBySkeleton(skeleton, proto, dest.data())) {
    const std::string block = std::string(header, metricsd::PutVarint(header, proto.size())) +
                              std::string(dest.data(), end);
    std::string decoded;
    Check(snappy::Uncompress(block.data(), block.size(), &decoded));
    Check(decoded == proto);
  }
  return 0;
}
