#include "queue/spool.h"

#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"

namespace metricsd::queue {
namespace {

using testing::FakeClock;
using testing::TempDir;

std::string P(int n) { return "payload-" + std::to_string(n); }

void Append(Spool& spool, int n, std::uint32_t samples = 10) {
  spool.Append(P(n), samples, 1000 + n);
}

std::vector<std::string> ReadAll(Spool& spool) {
  std::vector<SpoolRecord> records;
  while (spool.Read(1000, 1 << 20, records)) {
  }
  std::vector<std::string> payloads;
  for (const SpoolRecord& r : records) {
    payloads.push_back(r.payload);
  }
  return payloads;
}

std::vector<std::string> Ps(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) {
    v.push_back(P(i));
  }
  return v;
}

SpoolOptions Options(const std::string& dir) {
  return SpoolOptions{.name = "test",
                      .dir = dir,
                      .max_disk_bytes = 1 << 20,
                      .max_memory_samples = 1000,
                      .fsync = false,
                      .disk_retry_interval = std::chrono::seconds(30)};
}

void MakeBlockingFile(const std::string& path) { std::ofstream(path) << "x"; }

// Limits the size of files this process writes, so appends fail with EFBIG like on a full
// disk. SIGXFSZ is ignored meanwhile (its default action ends the process).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() { Lift(); }
  void Lift() {
    if (active_) {
      ::setrlimit(RLIMIT_FSIZE, &saved_);
      ::signal(SIGXFSZ, old_handler_);
      active_ = false;
    }
  }

 private:
  rlimit saved_{};
  sighandler_t old_handler_ = SIG_DFL;
  bool active_ = true;
};

TEST(Spool, DiskRoundTripAndAckSurviveRestart) {
  TempDir tmp;
  FakeClock clock;
  {
    Spool spool(Options(tmp.path()), clock);
    EXPECT_TRUE(spool.Stats().disk_ok);
    for (int i = 0; i < 5; ++i) {
      Append(spool, i);
    }
    std::vector<SpoolRecord> records;
    ASSERT_TRUE(spool.Read(25, 1 << 20, records));  // 10 + 10 fit, the third would not
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(records[0].payload, P(0));
    spool.Ack(records[0].seq);
    const SpoolStats stats = spool.Stats();
    EXPECT_EQ(stats.pending_records, 4U);
    EXPECT_EQ(stats.pending_samples, 40U);
    EXPECT_EQ(stats.oldest_pending_timestamp_ms, 1001);
    EXPECT_GT(stats.disk_bytes, 0U);
  }
  Spool spool(Options(tmp.path()), clock);
  EXPECT_EQ(spool.Stats().recovery.records, 4U);
  EXPECT_EQ(ReadAll(spool), Ps(1, 5));
}

TEST(Spool, AlwaysReadsAtLeastOneRecordEvenIfOverBudget) {
  FakeClock clock;
  Spool spool(Options(""), clock);
  Append(spool, 0, 5000);
  std::vector<SpoolRecord> records;
  ASSERT_TRUE(spool.Read(10, 1, records));
  EXPECT_EQ(records.size(), 1U);
  EXPECT_FALSE(spool.Read(10, 1, records));
}

TEST(Spool, MemoryOnlyIsBoundedAndDropsOldestFirst) {
  FakeClock clock;
  SpoolOptions options = Options("");
  options.max_memory_samples = 100;
  Spool spool(options, clock);
  for (int i = 0; i < 20; ++i) {
    Append(spool, i);
  }
  const SpoolStats stats = spool.Stats();
  EXPECT_FALSE(stats.disk_ok);
  EXPECT_EQ(stats.memory_samples, 100U);
  EXPECT_EQ(stats.dropped_memory_cap_samples, 100U);
  EXPECT_EQ(ReadAll(spool), Ps(10, 20));
}

TEST(Spool, UnwritableDirectoryFallsBackToMemoryAndRecoversInOrder) {
  TempDir tmp;
  FakeClock clock;
  MakeBlockingFile(tmp.sub("blocker"));
  const std::string dir = tmp.sub("blocker/queue");  // cannot be created: a file is in the way
  {
    Spool spool(Options(dir), clock);
    SpoolStats stats = spool.Stats();
    EXPECT_FALSE(stats.disk_ok);
    EXPECT_FALSE(stats.disk_error.empty());
    Append(spool, 0);
    Append(spool, 1);
    EXPECT_EQ(spool.Stats().memory_records, 2U);

    std::filesystem::remove(tmp.sub("blocker"));
    Append(spool, 2);  // retry interval not over yet: still memory
    EXPECT_EQ(spool.Stats().memory_records, 3U);
    clock.Advance(std::chrono::seconds(31));
    Append(spool, 3);  // disk usable: memory moves to disk first, in order
    stats = spool.Stats();
    EXPECT_TRUE(stats.disk_ok);
    EXPECT_EQ(stats.memory_records, 0U);
    EXPECT_EQ(stats.pending_records, 4U);
  }
  Spool spool(Options(dir), clock);
  EXPECT_EQ(ReadAll(spool), Ps(0, 4));
}

TEST(Spool, ShutdownWritesTheMemoryQueueToDiskWhenPossible) {
  TempDir tmp;
  FakeClock clock;
  MakeBlockingFile(tmp.sub("blocker"));
  const std::string dir = tmp.sub("blocker/queue");
  {
    Spool spool(Options(dir), clock);
    Append(spool, 0);
    Append(spool, 1);
    std::filesystem::remove(tmp.sub("blocker"));
  }
  Spool spool(Options(dir), clock);
  EXPECT_EQ(ReadAll(spool), Ps(0, 2));
}

TEST(Spool, DiskFullSwitchesToMemoryWithoutReordering) {
  TempDir tmp;
  FakeClock clock;
  {
    Spool spool(Options(tmp.path()), clock);
    Append(spool, 0);
    Append(spool, 1);
    {
      FileSizeLimit limit(std::filesystem::file_size(tmp.sub("00000000000000000001.wal")));
      Append(spool, 2);  // EFBIG, like ENOSPC
      Append(spool, 3);
      SpoolStats stats = spool.Stats();
      EXPECT_FALSE(stats.disk_ok);
      EXPECT_NE(stats.disk_error.find("cannot append"), std::string::npos) << stats.disk_error;
      EXPECT_EQ(stats.memory_records, 2U);
      EXPECT_EQ(stats.pending_records, 4U);
    }
    clock.Advance(std::chrono::seconds(31));
    Append(spool, 4);
    EXPECT_TRUE(spool.Stats().disk_ok);
    EXPECT_EQ(spool.Stats().memory_records, 0U);
  }
  Spool spool(Options(tmp.path()), clock);
  EXPECT_EQ(ReadAll(spool), Ps(0, 5));
}

TEST(Spool, ReadsDiskBacklogBeforeMemoryRecords) {
  TempDir tmp;
  FakeClock clock;
  Spool spool(Options(tmp.path()), clock);
  Append(spool, 0);
  Append(spool, 1);
  {
    FileSizeLimit limit(1);
    Append(spool, 2);
    Append(spool, 3);
  }
  std::vector<SpoolRecord> records;
  ASSERT_TRUE(spool.Read(15, 1 << 20, records));
  ASSERT_TRUE(spool.Read(15, 1 << 20, records));
  ASSERT_TRUE(spool.Read(15, 1 << 20, records));
  ASSERT_TRUE(spool.Read(15, 1 << 20, records));
  ASSERT_EQ(records.size(), 4U);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(records[i].payload, P(i));
    if (i > 0) {
      EXPECT_GT(records[i].seq, records[i - 1].seq);
    }
  }
  spool.Ack(records.back().seq);
  EXPECT_EQ(spool.Stats().pending_records, 0U);
}

TEST(Spool, DiskCapDropsAreReported) {
  TempDir tmp;
  FakeClock clock;
  SpoolOptions options = Options(tmp.path());
  options.max_disk_bytes = 64 << 10;
  options.segment_bytes = 8 << 10;
  Spool spool(options, clock);
  const std::string payload(1000, 'x');
  for (int i = 0; i < 200; ++i) {
    spool.Append(payload, 10, i);
  }
  const SpoolStats stats = spool.Stats();
  EXPECT_LE(stats.disk_bytes, 64U << 10);
  EXPECT_GT(stats.dropped_disk_cap_samples, 0U);
  EXPECT_EQ(stats.pending_samples + stats.dropped_disk_cap_samples, 2000U);
  EXPECT_EQ(stats.memory_records, 0U);
}

}  // namespace
}  // namespace metricsd::queue
