#include "formats/snappy_skeleton.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <bit>
#include <random>
#include <string>
#include <vector>

#include "core/varint.h"
#include "formats/remote_write_encoder.h"

namespace metricsd::formats {
namespace {

// A WriteRequest of `series` series of a few families, the way a scrape sends it: counters
// (whole numbers that grow) and gauges (fractions). `cycle` moves the values.
std::string Request(int series, int cycle, std::int64_t timestamp_ms) {
  RemoteWriteEncoder encoder;
  EncodeStats stats;
  for (int i = 0; i < series; ++i) {
    const std::string family = "app_requests_" + std::to_string(i / 50) + "_total";
    const std::string handler = "/api/v1/item/" + std::to_string(i % 50);
    const std::vector<LabelView> labels = {{"code", i % 3 == 0 ? "200" : "500"},
                                           {"handler", handler},
                                           {"instance", "10.0.0.7:9100"},
                                           {"job", "app"}};
    const double value = i % 2 == 0 ? 1000 + i * 7 + cycle * 13 : i * 0.37 + cycle * 1.1;
    encoder.Append(family, labels, value, timestamp_ms, stats);
  }
  return std::string(encoder.last_protobuf().empty() ? "" : encoder.last_protobuf());
}

// A whole snappy block from the cache's elements.
std::string Block(SnappySkeletonCache& cache, std::string_view proto) {
  ByteBuffer out;
  out.Commit(PutVarint(out.Reserve(10), proto.size()));
  cache.AppendElements(proto, out);
  return std::string(out.view());
}

// The skeleton of snappy's own block for `proto`.
std::string SkeletonOf(std::string_view proto) {
  std::vector<std::uint32_t> offsets;
  FindValueOffsets(proto, offsets);
  std::string block;
  snappy::Compress(proto.data(), proto.size(), &block);
  const std::string_view elements = std::string_view(block).substr(VarintSize(proto.size()));
  std::string skeleton;
  EXPECT_TRUE(BuildSnappySkeleton(elements, proto, offsets, skeleton));
  return skeleton;
}

std::string Uncompressed(std::string_view block) {
  std::string proto;
  if (!snappy::Uncompress(block.data(), block.size(), &proto)) {
    return "not a snappy block";
  }
  return proto;
}

TEST(FindValueOffsets, PointsAtEachSeriesValue) {
  RemoteWriteEncoder encoder;
  EncodeStats stats;
  const std::vector<LabelView> labels = {{"a", "b"}};
  const double values[] = {1.5, -0.0, 1e300};
  const std::int64_t timestamps[] = {0, 127, 1'700'000'000'000};  // varints of 1, 1 and 6 bytes
  for (int i = 0; i < 3; ++i) {
    encoder.Append("m", labels, values[i], timestamps[i], stats);
  }
  std::vector<std::uint32_t> offsets;
  FindValueOffsets(encoder.last_protobuf(), offsets);
  ASSERT_EQ(offsets.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    std::uint64_t bits = 0;
    for (int b = 0; b < 8; ++b) {
      bits |= std::uint64_t{static_cast<std::uint8_t>(encoder.last_protobuf()[offsets[i] + b])}
              << (8 * b);
    }
    EXPECT_EQ(bits, std::bit_cast<std::uint64_t>(values[i])) << i;
  }
}

// Cycle 0 sees the run, cycle 1 keeps the skeleton of snappy's block, cycle 2 reuses it.
TEST(SnappySkeletonCache, ABlockDecodesToTheRequestAndIsReusedWhenOnlyValuesChange) {
  SnappySkeletonCache cache;
  std::string reference;
  for (int cycle = 0; cycle < 2; ++cycle) {
    const std::string proto = Request(500, cycle, 1'700'000'000'000 + 15'000 * cycle);
    const std::string block = Block(cache, proto);
    snappy::Compress(proto.data(), proto.size(), &reference);
    EXPECT_EQ(block, reference);  // snappy's own
    cache.EndCycle();
  }
  EXPECT_EQ(cache.built(), 1u);
  EXPECT_EQ(cache.reused(), 0u);

  const std::string third = Request(500, 2, 1'700'000'030'000);
  const std::string rebuilt = Block(cache, third);
  EXPECT_EQ(Uncompressed(rebuilt), third);
  EXPECT_EQ(cache.reused(), 1u);
  EXPECT_EQ(cache.built(), 1u);
  // Only the copies that touched a changing value became literals.
  EXPECT_LT(rebuilt.size(), reference.size() * 5 / 4) << reference.size();
}

TEST(SnappySkeletonCache, ARenamedSeriesOfTheSameLengthIsCompressedAnewThenKeptAgain) {
  SnappySkeletonCache cache;
  const std::string first = Request(300, 0, 1'700'000'000'000);
  std::string renamed = first;
  const std::size_t at = renamed.rfind("item/17");
  ASSERT_NE(at, std::string::npos);
  renamed[at + 5] = '9';  // the last series that had "item/17" now says "item/97"
  const std::string* cycles[] = {&first, &first, &renamed, &renamed, &renamed};
  const std::uint64_t reused_after[] = {0, 0, 0, 0, 1};
  const std::uint64_t built_after[] = {0, 1, 1, 2, 2};
  for (int cycle = 0; cycle < 5; ++cycle) {
    EXPECT_EQ(Uncompressed(Block(cache, *cycles[cycle])), *cycles[cycle]) << cycle;
    EXPECT_EQ(cache.reused(), reused_after[cycle]) << cycle;
    EXPECT_EQ(cache.built(), built_after[cycle]) << cycle;
    cache.EndCycle();
  }
}

TEST(SnappySkeletonCache, ARunSeenOnceBuildsNothing) {
  SnappySkeletonCache cache;
  for (int cycle = 0; cycle < 5; ++cycle) {  // a target whose series change every scrape
    const std::string proto = Request(100 + cycle, cycle, 1000);
    EXPECT_EQ(Uncompressed(Block(cache, proto)), proto);
    cache.EndCycle();
  }
  EXPECT_EQ(cache.built(), 0u);
  EXPECT_EQ(cache.skeleton_bytes(), 0u);
}

TEST(SnappySkeletonCache, SkeletonsUnusedForACycleAreForgotten) {
  SnappySkeletonCache cache;
  for (int cycle = 0; cycle < 2; ++cycle) {
    Block(cache, Request(100, cycle, 1000));
    Block(cache, Request(80, cycle, 1000));
    cache.EndCycle();
  }
  EXPECT_EQ(cache.built(), 2u);
  const std::size_t both = cache.skeleton_bytes();
  Block(cache, Request(100, 2, 2000));
  cache.EndCycle();
  EXPECT_LT(cache.skeleton_bytes(), both);
  EXPECT_GT(cache.skeleton_bytes(), 0u);
  Block(cache, Request(80, 3, 3000));  // seen for the first time again
  EXPECT_EQ(cache.built(), 2u);
  EXPECT_EQ(cache.reused(), 1u);
}

// Any change outside the values: the skeleton is either refused or still gives exactly the
// changed bytes. It never gives other bytes.
TEST(WriteBySkeleton, NeverDescribesBytesOtherThanItsInput) {
  std::mt19937 random(7);
  const std::string original = Request(120, 0, 1'700'000'000'000);
  const std::string skeleton = SkeletonOf(original);
  std::string dest(skeleton.size() + original.size() + kWriteSlack, '\0');
  int refused = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string changed = original;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      changed[random() % changed.size()] = static_cast<char>(random() % 4 == 0 ? 'a' : random());
    }
    char* end = WriteBySkeleton(skeleton, changed, dest.data());
    if (end == nullptr) {
      ++refused;
      continue;
    }
    char header[10];
    const std::string block =
        std::string(header, PutVarint(header, changed.size())) + std::string(dest.data(), end);
    ASSERT_EQ(Uncompressed(block), changed) << round;
  }
  EXPECT_GT(refused, 100);  // most edits hit labels, which copies check
  EXPECT_LT(refused, 2000);
}

TEST(WriteBySkeleton, RefusesATruncatedSkeletonAndAnInputOfAnotherLength) {
  const std::string proto = Request(20, 0, 1000);
  const std::string skeleton = SkeletonOf(proto);
  std::string dest(skeleton.size() + proto.size() + 1 + kWriteSlack, '\0');
  ASSERT_NE(WriteBySkeleton(skeleton, proto, dest.data()), nullptr);
  EXPECT_EQ(WriteBySkeleton(skeleton, proto.substr(0, proto.size() - 1), dest.data()), nullptr);
  EXPECT_EQ(WriteBySkeleton(skeleton, proto + "x", dest.data()), nullptr);
  for (std::size_t cut = 0; cut < skeleton.size(); ++cut) {
    EXPECT_EQ(WriteBySkeleton(skeleton.substr(0, cut), proto, dest.data()), nullptr) << cut;
  }
}

}  // namespace
}  // namespace metricsd::formats
