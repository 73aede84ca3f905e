#include "queue/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "queue/crc32c.h"
#include "sync_counter.h"
#include "test_util.h"

namespace metricsd::queue {
namespace {

using testing::TempDir;

std::string Payload(std::uint64_t seq, std::size_t size = 100) {
  std::string p(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    p[i] = static_cast<char>('a' + (seq + i) % 26);
  }
  return p;
}

std::unique_ptr<Wal> OpenWal(const std::string& dir, std::uint64_t max_bytes = 1 << 20,
                             std::uint64_t segment_bytes = 0) {
  auto wal = Wal::Open(WalOptions{
      .dir = dir, .max_bytes = max_bytes, .segment_bytes = segment_bytes, .fsync = false});
  EXPECT_TRUE(wal.ok()) << wal.error();
  return wal.ok() ? std::move(*wal) : nullptr;
}

void AppendRange(Wal& wal, std::uint64_t from, std::uint64_t to, std::size_t size = 100) {
  for (std::uint64_t seq = from; seq < to; ++seq) {
    const std::string p = Payload(seq, size);
    ASSERT_TRUE(wal.Append({seq, 10, static_cast<std::int64_t>(seq * 1000),
                            static_cast<std::uint32_t>(p.size())},
                           p)
                    .ok());
  }
}

std::vector<std::uint64_t> ReadAll(Wal& wal) {
  std::vector<std::uint64_t> seqs;
  WalRecord record;
  while (wal.ReadNext(record)) {
    EXPECT_EQ(record.payload, Payload(record.info.seq, record.payload.size()));
    seqs.push_back(record.info.seq);
  }
  return seqs;
}

std::vector<std::uint64_t> Seqs(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t s = from; s < to; ++s) {
    v.push_back(s);
  }
  return v;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".wal") {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void AppendBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void Truncate(const std::string& path, std::uint64_t size) {
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0);
}

void FlipByte(const std::string& path, std::uint64_t offset) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

constexpr std::uint64_t kRecord = Wal::kRecordHeaderBytes + 100;
constexpr std::uint64_t kHeader = Wal::kSegmentHeaderBytes;

TEST(Wal, AppendReadAckAndReplayOnlyUnacked) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 11);
    EXPECT_EQ(wal->unread_records(), 10U);
    EXPECT_EQ(wal->unread_samples(), 100U);
    WalRecord record;
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(wal->ReadNext(record));
    }
    ASSERT_TRUE(wal->Ack(4).ok());
    ASSERT_TRUE(wal->ReadNext(record));  // seq 5 read but not acked: it comes back
    EXPECT_EQ(record.info.seq, 5U);
    EXPECT_EQ(record.info.min_timestamp_ms, 5000);
  }
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(wal->recovery().records, 6U);
  EXPECT_EQ(wal->recovery().corrupt_regions, 0U);
  EXPECT_EQ(wal->acked_seq(), 4U);
  EXPECT_EQ(ReadAll(*wal), Seqs(5, 11));
  // New records continue after the old ones.
  AppendRange(*wal, 11, 13);
  EXPECT_EQ(ReadAll(*wal), Seqs(11, 13));
}

TEST(Wal, PeekShowsTheNextRecordWithoutConsumingIt) {
  TempDir tmp;
  auto wal = OpenWal(tmp.path());
  EXPECT_FALSE(wal->PeekNext().has_value());
  AppendRange(*wal, 1, 3);
  auto info = wal->PeekNext();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->seq, 1U);
  EXPECT_EQ(info->payload_bytes, 100U);
  EXPECT_EQ(ReadAll(*wal), Seqs(1, 3));
}

TEST(Wal, TruncatedTailIsCutAtEveryLength) {
  for (std::uint64_t cut : {1UL, 4UL, 31UL, 32UL, 33UL, kRecord - 1}) {
    TempDir tmp;
    {
      auto wal = OpenWal(tmp.path());
      AppendRange(*wal, 1, 6);
    }
    const auto files = SegmentFiles(tmp.path());
    ASSERT_EQ(files.size(), 1U);
    const std::uint64_t full = kHeader + 5 * kRecord;
    Truncate(files[0], full - kRecord + cut);
    auto wal = OpenWal(tmp.path());
    EXPECT_EQ(wal->recovery().corrupt_regions, 1U) << cut;
    EXPECT_EQ(wal->recovery().truncated_bytes, cut);
    EXPECT_EQ(std::filesystem::file_size(files[0]), full - kRecord);
    EXPECT_EQ(ReadAll(*wal), Seqs(1, 5)) << cut;
    // Still appendable and readable after the repair.
    AppendRange(*wal, 6, 8);
    EXPECT_EQ(ReadAll(*wal), Seqs(6, 8));
  }
}

TEST(Wal, BitFlipInTheLastRecordIsCut) {
  for (std::uint64_t at : {0UL, 5UL, 9UL, 20UL, 40UL, kRecord - 1}) {
    TempDir tmp;
    {
      auto wal = OpenWal(tmp.path());
      AppendRange(*wal, 1, 6);
    }
    const auto file = SegmentFiles(tmp.path()).at(0);
    FlipByte(file, kHeader + 4 * kRecord + at);
    auto wal = OpenWal(tmp.path());
    EXPECT_EQ(wal->corrupt_records(), 1U) << at;
    EXPECT_EQ(ReadAll(*wal), Seqs(1, 5)) << at;
  }
}

TEST(Wal, ZeroFilledTailIsCut) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 4);
  }
  const auto file = SegmentFiles(tmp.path()).at(0);
  AppendBytes(file, std::string(8192, '\0'));  // e.g. a file system that extended but lost data
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(wal->recovery().corrupt_regions, 1U);
  EXPECT_EQ(wal->recovery().truncated_bytes, 8192U);
  EXPECT_EQ(std::filesystem::file_size(file), kHeader + 3 * kRecord);
  EXPECT_EQ(ReadAll(*wal), Seqs(1, 4));
}

TEST(Wal, CorruptRecordInTheMiddleIsSkippedAndTheRestKept) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 8);
  }
  const auto file = SegmentFiles(tmp.path()).at(0);
  FlipByte(file, kHeader + 2 * kRecord + 50);  // payload of seq 3
  FlipByte(file, kHeader + 4 * kRecord + 9);   // length field of seq 5
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(wal->recovery().corrupt_regions, 2U);
  EXPECT_EQ(wal->recovery().records, 5U);
  EXPECT_EQ(ReadAll(*wal), (std::vector<std::uint64_t>{1, 2, 4, 6, 7}));
  EXPECT_EQ(wal->corrupt_records(), 2U);  // not counted again while reading
}

TEST(Wal, CorruptionAfterOpenIsSkippedWhileReading) {
  TempDir tmp;
  // Nothing kept in memory, so every record is read from the damaged file.
  auto opened = Wal::Open(WalOptions{
      .dir = tmp.path(), .max_bytes = 1 << 20, .fsync = false, .recent_payload_bytes = 0});
  ASSERT_TRUE(opened.ok()) << opened.error();
  auto& wal = *opened;
  AppendRange(*wal, 1, 5);
  FlipByte(SegmentFiles(tmp.path()).at(0), kHeader + 1 * kRecord + 60);
  EXPECT_EQ(ReadAll(*wal), (std::vector<std::uint64_t>{1, 3, 4}));
  EXPECT_EQ(wal->corrupt_records(), 1U);
}

TEST(Wal, GarbageSegmentHeaderAndEmptyFilesAreDropped) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 3);
  }
  AppendBytes(tmp.sub("00000000000000000100.wal"), "not a segment at all, really");
  AppendBytes(tmp.sub("00000000000000000200.wal"), "");
  AppendBytes(tmp.sub("notes.txt"), "ignored");
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(wal->recovery().corrupt_regions, 1U);
  EXPECT_EQ(ReadAll(*wal), Seqs(1, 3));
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("00000000000000000100.wal")));
  EXPECT_TRUE(std::filesystem::exists(tmp.sub("notes.txt")));
}

TEST(Wal, RotatesSegmentsAndDeletesDeliveredOnes) {
  TempDir tmp;
  auto wal = OpenWal(tmp.path(), 1 << 20, kHeader + 4 * kRecord);
  AppendRange(*wal, 1, 13);  // 4 records per segment
  EXPECT_EQ(wal->segment_count(), 3U);
  EXPECT_EQ(SegmentFiles(tmp.path()).size(), 3U);
  EXPECT_EQ(wal->disk_bytes(), 3 * kHeader + 12 * kRecord);
  WalRecord record;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(wal->ReadNext(record));
  }
  ASSERT_TRUE(wal->Ack(9).ok());
  EXPECT_EQ(wal->segment_count(), 1U);
  EXPECT_EQ(SegmentFiles(tmp.path()).size(), 1U);
  EXPECT_EQ(wal->disk_bytes(), kHeader + 4 * kRecord);
  EXPECT_EQ(ReadAll(*wal), Seqs(10, 13));
}

TEST(Wal, SizeCapEvictsOldestSegmentsAndCountsTheirSamples) {
  TempDir tmp;
  const std::uint64_t segment = kHeader + 4 * kRecord;
  auto wal = OpenWal(tmp.path(), 3 * segment, segment);
  AppendRange(*wal, 1, 101);
  EXPECT_LE(wal->disk_bytes(), 3 * segment);
  EXPECT_EQ(wal->unread_records(), 12U);
  EXPECT_EQ(wal->evicted_samples(), 88U * 10);
  EXPECT_EQ(wal->evicted_segments(), 22U);
  EXPECT_EQ(ReadAll(*wal), Seqs(89, 101));
}

TEST(Wal, EvictionOfThePartlyReadSegmentCountsOnlyUnreadSamples) {
  TempDir tmp;
  const std::uint64_t segment = kHeader + 4 * kRecord;
  auto wal = OpenWal(tmp.path(), 2 * segment, segment);
  AppendRange(*wal, 1, 9);  // two full segments
  WalRecord record;
  ASSERT_TRUE(wal->ReadNext(record));  // seq 1 in flight
  AppendRange(*wal, 9, 10);            // evicts segment 1..4: 3 unread records lost
  EXPECT_EQ(wal->evicted_samples(), 30U);
  EXPECT_EQ(ReadAll(*wal), Seqs(5, 10));
  ASSERT_TRUE(wal->Ack(1).ok());  // acking the in-flight record of a deleted segment is fine
}

TEST(Wal, RecordLargerThanTheCapIsDroppedNotWritten) {
  TempDir tmp;
  auto wal = OpenWal(tmp.path(), 4096);
  const std::string big(5000, 'x');
  ASSERT_TRUE(wal->Append({1, 7, 0, 5000}, big).ok());
  EXPECT_EQ(wal->evicted_samples(), 7U);
  EXPECT_EQ(wal->unread_records(), 0U);
}

TEST(Wal, DamagedAckFileReplaysEverything) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 5);
    WalRecord record;
    ASSERT_TRUE(wal->ReadNext(record));
    ASSERT_TRUE(wal->Ack(1).ok());
  }
  AppendBytes(tmp.sub("ack"), "x");  // 17 bytes now; the checksum still matches...
  FlipByte(tmp.sub("ack"), 9);       // ...until the seq changes
  auto wal = OpenWal(tmp.path());
  EXPECT_TRUE(wal->recovery().ack_file_damaged);
  EXPECT_EQ(ReadAll(*wal), Seqs(1, 5));
}

TEST(Wal, FullyAckedSegmentsAreRemovedOnOpen) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 4);
    EXPECT_EQ(ReadAll(*wal).size(), 3U);
    ASSERT_TRUE(wal->Ack(3).ok());
  }
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(wal->segment_count(), 0U);
  EXPECT_TRUE(SegmentFiles(tmp.path()).empty());
  EXPECT_EQ(wal->last_seq(), 3U);
}

TEST(Wal, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir tmp;
  auto first = OpenWal(tmp.path());
  auto second = Wal::Open(WalOptions{.dir = tmp.path()});
  EXPECT_FALSE(second.ok());
}

TEST(Wal, UncreatableDirectoryIsAnErrorNotACrash) {
  TempDir tmp;
  AppendBytes(tmp.sub("file"), "x");
  auto wal = Wal::Open(WalOptions{.dir = tmp.sub("file/queue")});
  EXPECT_FALSE(wal.ok());
}

// With fsync: three records appended, the first read and acknowledged, the Wal closed.
void AppendThreeAckOne(const std::string& dir) {
  auto wal = Wal::Open(WalOptions{.dir = dir, .fsync = true});
  ASSERT_TRUE(wal.ok());
  AppendRange(**wal, 1, 4);
  WalRecord record;
  ASSERT_TRUE((*wal)->ReadNext(record));
  ASSERT_TRUE((*wal)->Ack(1).ok());
}

TEST(Wal, WithFsyncWorksTheSame) {
  TempDir tmp;
  AppendThreeAckOne(tmp.path());
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(ReadAll(*wal), Seqs(2, 4));
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Restores the process umask when the test ends.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

TEST(Wal, FilesAre0600AndDirectories0700WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}}) {
    ScopedUmask umask(mask);
    TempDir tmp;
    const std::string dir = tmp.sub("data/shipper");
    {
      auto wal = OpenWal(dir);
      ASSERT_NE(wal, nullptr);
      AppendRange(*wal, 1, 4);
      ASSERT_EQ(ReadAll(*wal).size(), 3u);
      ASSERT_TRUE(wal->Ack(2).ok());
    }
    EXPECT_EQ(ModeOf(tmp.sub("data")), 0700u) << "umask " << mask;
    EXPECT_EQ(ModeOf(dir), 0700u) << "umask " << mask;
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      EXPECT_EQ(ModeOf(entry.path()), 0600u) << entry.path() << " umask " << mask;
      ++files;
    }
    EXPECT_GE(files, 3u);  // lock, ack and a segment
  }
}

// A queue left readable by others (an older version, a restore from a backup) is made private
// when it is opened again; its data is kept.
TEST(Wal, LooseFilesAndDirectoryOfAnOlderVersionBecomePrivate) {
  TempDir tmp;
  const std::string dir = tmp.sub("data/shipper");
  {
    auto wal = OpenWal(dir);
    ASSERT_NE(wal, nullptr);
    AppendRange(*wal, 1, 4);
  }
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ASSERT_EQ(::chmod(entry.path().c_str(), 0644), 0);
  }
  auto wal = OpenWal(dir);
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(ReadAll(*wal).size(), 3u);
  EXPECT_EQ(ModeOf(dir), 0700u);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(ModeOf(entry.path()), 0600u) << entry.path();
  }
}

// A symlink planted in the data directory is refused, and what it points at stays untouched.
TEST(Wal, SymlinkedFilesAreRefusedNotFollowed) {
  for (const char* name : {"lock", "ack", "00000000000000000001.wal"}) {
    TempDir tmp;
    const std::string dir = tmp.sub("q");
    std::filesystem::create_directories(dir);
    const std::string target = tmp.sub("target");
    WriteFile(target, "untouched");
    ASSERT_EQ(::symlink(target.c_str(), (dir + "/" + name).c_str()), 0);
    auto wal = Wal::Open(WalOptions{.dir = dir, .max_bytes = 1 << 20, .fsync = false});
    ASSERT_FALSE(wal.ok()) << name << " was followed";
    EXPECT_NE(wal.error().find(name), std::string::npos) << wal.error();
    EXPECT_EQ(ReadFile(target), "untouched") << name;
    EXPECT_TRUE(std::filesystem::is_symlink(dir + "/" + name)) << name;
  }
}

// Before the ack was written in place, ack.tmp was renamed over it; nothing opens it now.
TEST(Wal, LeftoverAckTmpIsRemovedOnOpenAndASymlinkNotFollowed) {
  TempDir tmp;
  const std::string dir = tmp.sub("q");
  {
    auto wal = OpenWal(dir);
    ASSERT_NE(wal, nullptr);
  }
  WriteFile(dir + "/ack.tmp", "left by a crash");
  {
    auto wal = OpenWal(dir);
    ASSERT_NE(wal, nullptr);
    EXPECT_FALSE(std::filesystem::exists(dir + "/ack.tmp"));
  }
  const std::string target = tmp.sub("target");
  WriteFile(target, "untouched");
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/ack.tmp").c_str()), 0);
  auto wal = OpenWal(dir);
  ASSERT_NE(wal, nullptr);
  EXPECT_FALSE(std::filesystem::is_symlink(dir + "/ack.tmp"));
  AppendRange(*wal, 1, 3);
  ASSERT_EQ(ReadAll(*wal).size(), 2u);
  ASSERT_TRUE(wal->Ack(2).ok());
  EXPECT_EQ(ReadFile(target), "untouched");
}

// The first Ack creates the ack file; a symlink planted there after Open is not followed.
TEST(Wal, SymlinkedAckPlantedAfterOpenIsRefusedNotFollowed) {
  TempDir tmp;
  const std::string dir = tmp.sub("q");
  auto wal = OpenWal(dir);
  ASSERT_NE(wal, nullptr);
  AppendRange(*wal, 1, 3);
  ASSERT_EQ(ReadAll(*wal).size(), 2u);
  const std::string target = tmp.sub("target");
  WriteFile(target, "untouched");
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/ack").c_str()), 0);
  Status acked = wal->Ack(2);
  ASSERT_FALSE(acked.ok());
  EXPECT_NE(acked.error().find("ack"), std::string::npos) << acked.error();
  EXPECT_EQ(ReadFile(target), "untouched");
  EXPECT_TRUE(std::filesystem::is_symlink(dir + "/ack"));
}

TEST(Wal, WithFsyncAnAckIsDurableWhenAckReturns) {
  TempDir tmp;
  auto wal = Wal::Open(WalOptions{.dir = tmp.path(), .fsync = true});
  ASSERT_TRUE(wal.ok());
  AppendRange(**wal, 1, 3);
  WalRecord record;
  ASSERT_TRUE((*wal)->ReadNext(record));
  const testing::SyncCalls before = testing::CountedSyncs();
  ASSERT_TRUE((*wal)->Ack(1).ok());
  const testing::SyncCalls after = testing::CountedSyncs();
  // The new ack file's data, then the directory for its new name.
  EXPECT_EQ(after.fdatasync - before.fdatasync, 1);
  EXPECT_EQ(after.fsync - before.fsync, 1);
  // The next acks within kAckSyncInterval are written in place without a flush.
  ASSERT_TRUE((*wal)->ReadNext(record));
  ASSERT_TRUE((*wal)->Ack(2).ok());
  const testing::SyncCalls later = testing::CountedSyncs();
  EXPECT_EQ(later.fdatasync, after.fdatasync);
  EXPECT_EQ(later.fsync, after.fsync);
}

TEST(Wal, WithAnFsyncIntervalOneSyncCoversTheAppendsOfThatInterval) {
  for (const auto interval : {std::chrono::milliseconds(0), std::chrono::milliseconds(3'600'000)}) {
    TempDir tmp;
    auto wal = Wal::Open(WalOptions{.dir = tmp.path(), .fsync = true, .fsync_interval = interval});
    ASSERT_TRUE(wal.ok());
    AppendRange(**wal, 1, 2);  // starts the segment and syncs: the first append always does
    const testing::SyncCalls before = testing::CountedSyncs();
    AppendRange(**wal, 2, 5);
    const testing::SyncCalls after = testing::CountedSyncs();
    EXPECT_EQ(after.fdatasync - before.fdatasync, interval.count() == 0 ? 3 : 0)
        << "fsync_interval " << interval.count() << " ms";
    // What was appended is all there after a reopen, synced or not.
    wal->reset();
    auto reopened = Wal::Open(WalOptions{.dir = tmp.path(), .fsync = true});
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ((*reopened)->unread_records(), 4u);
  }
}

TEST(Wal, AGroupOfAppendsSyncsOnceAtItsEndAndAtASegmentItCloses) {
  TempDir tmp;
  // Segments of 64 KiB hold five 12 KiB records: a second group of six spans two segments.
  auto wal = Wal::Open(WalOptions{.dir = tmp.path(), .segment_bytes = 64U << 10, .fsync = true});
  ASSERT_TRUE(wal.ok());
  const auto append = [&](std::uint64_t seq, bool more_follow) {
    const std::string p = Payload(seq, 12U << 10);
    ASSERT_TRUE((*wal)
                    ->Append({seq, 10, static_cast<std::int64_t>(seq * 1000),
                              static_cast<std::uint32_t>(p.size())},
                             p, more_follow)
                    .ok());
  };
  const testing::SyncCalls before = testing::CountedSyncs();
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    append(seq, seq < 3);
  }
  const testing::SyncCalls small = testing::CountedSyncs();
  // The new segment's header (a segment starts with the first append), then the last of
  // the group: none for the two before it.
  EXPECT_EQ(small.fdatasync - before.fdatasync, 2);
  for (std::uint64_t seq = 4; seq <= 9; ++seq) {
    append(seq, seq < 9);
  }
  const testing::SyncCalls spanning = testing::CountedSyncs();
  // The segment closed in the middle of the group is synced as it closes, the next one's
  // header as it starts, then the end of the group: three, not six.
  EXPECT_EQ(spanning.fdatasync - small.fdatasync, 3);
  wal->reset();
  auto reopened = Wal::Open(WalOptions{.dir = tmp.path(), .fsync = true});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->unread_records(), 9u);
}

TEST(Wal, WithoutFsyncAnAckSyncsNothing) {
  TempDir tmp;
  auto wal = OpenWal(tmp.path());
  AppendRange(*wal, 1, 3);
  WalRecord record;
  ASSERT_TRUE(wal->ReadNext(record));
  const testing::SyncCalls before = testing::CountedSyncs();
  ASSERT_TRUE(wal->Ack(1).ok());
  const testing::SyncCalls after = testing::CountedSyncs();
  EXPECT_EQ(after.fdatasync, before.fdatasync);
  EXPECT_EQ(after.fsync, before.fsync);
}

// An ack file that already exists needs its data synced, but not the directory again.
TEST(Wal, WithFsyncAnExistingAckFileSyncsNoDirectory) {
  TempDir tmp;
  AppendThreeAckOne(tmp.path());
  auto wal = Wal::Open(WalOptions{.dir = tmp.path(), .fsync = true});
  ASSERT_TRUE(wal.ok());
  WalRecord record;
  ASSERT_TRUE((*wal)->ReadNext(record));
  ASSERT_EQ(record.info.seq, 2u);
  const testing::SyncCalls before = testing::CountedSyncs();
  ASSERT_TRUE((*wal)->Ack(2).ok());
  const testing::SyncCalls after = testing::CountedSyncs();
  EXPECT_EQ(after.fdatasync - before.fdatasync, 1);
  EXPECT_EQ(after.fsync - before.fsync, 0);
}

// One ack slot as the Wal writes it: magic "MACK", crc32c(seq), seq, little endian.
std::string AckSlot(std::uint64_t seq) {
  char slot[16];
  const std::uint32_t magic = 0x4B43414D;
  std::memcpy(slot, &magic, 4);
  std::memcpy(slot + 8, &seq, 8);
  const std::uint32_t crc = Crc32c(0, slot + 8, 8);
  std::memcpy(slot + 4, &crc, 4);
  return std::string(slot, sizeof slot);
}

std::uint64_t SlotSeq(const std::string& ack_file, std::size_t slot) {
  std::uint64_t seq = 0;
  if (ack_file.size() >= (slot + 1) * 16) {
    std::memcpy(&seq, ack_file.data() + slot * 16 + 8, 8);
  }
  return seq;
}

TEST(Wal, AckIsWrittenInPlaceInAlternatingSlotsAndSurvivesReopen) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 8);
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
      WalRecord record;
      ASSERT_TRUE(wal->ReadNext(record));
      ASSERT_TRUE(wal->Ack(seq).ok());
    }
  }
  std::string ack = ReadFile(tmp.sub("ack"));
  ASSERT_EQ(ack.size(), 32u);
  EXPECT_EQ(SlotSeq(ack, 0), 3u);  // 1, then 2 in slot 1, then 3 over 1
  EXPECT_EQ(SlotSeq(ack, 1), 2u);
  {
    auto wal = OpenWal(tmp.path());
    EXPECT_FALSE(wal->recovery().ack_file_damaged);
    EXPECT_EQ(wal->acked_seq(), 3u);
    WalRecord record;
    ASSERT_TRUE(wal->ReadNext(record));
    EXPECT_EQ(record.info.seq, 4u);
    ASSERT_TRUE(wal->Ack(4).ok());  // overwrites the older slot, 2, and keeps 3
  }
  ack = ReadFile(tmp.sub("ack"));
  EXPECT_EQ(SlotSeq(ack, 0), 3u);
  EXPECT_EQ(SlotSeq(ack, 1), 4u);
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(wal->acked_seq(), 4u);
  EXPECT_EQ(ReadAll(*wal), Seqs(5, 8));
}

// A torn write of the newer slot (power loss) leaves the older one: those records come again.
TEST(Wal, DamagedNewerAckSlotFallsBackToTheOlderOne) {
  for (const bool torn : {false, true}) {
    TempDir tmp;
    {
      auto wal = OpenWal(tmp.path());
      AppendRange(*wal, 1, 7);
      EXPECT_EQ(ReadAll(*wal).size(), 6u);
      ASSERT_TRUE(wal->Ack(2).ok());  // slot 0
      ASSERT_TRUE(wal->Ack(4).ok());  // slot 1
    }
    if (torn) {
      Truncate(tmp.sub("ack"), 16 + 7);  // only part of slot 1 reached the disk
    } else {
      FlipByte(tmp.sub("ack"), 16 + 9);  // slot 1's seq
    }
    {
      auto wal = OpenWal(tmp.path());
      EXPECT_FALSE(wal->recovery().ack_file_damaged) << torn;
      EXPECT_EQ(wal->acked_seq(), 2u) << torn;
      EXPECT_EQ(wal->recovery().records, 4u) << torn;
      EXPECT_EQ(ReadAll(*wal), Seqs(3, 7)) << torn;
      ASSERT_TRUE(wal->Ack(3).ok());  // into the damaged slot: slot 0 keeps 2
    }
    const std::string ack = ReadFile(tmp.sub("ack"));
    EXPECT_EQ(SlotSeq(ack, 0), 2u) << torn;
    EXPECT_EQ(SlotSeq(ack, 1), 3u) << torn;
    auto wal = OpenWal(tmp.path());
    EXPECT_EQ(ReadAll(*wal), Seqs(4, 7)) << torn;
  }
}

TEST(Wal, BothAckSlotsDamagedReplaysEverything) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 5);
    EXPECT_EQ(ReadAll(*wal).size(), 4u);
    ASSERT_TRUE(wal->Ack(2).ok());
    ASSERT_TRUE(wal->Ack(3).ok());
  }
  FlipByte(tmp.sub("ack"), 9);
  FlipByte(tmp.sub("ack"), 16 + 9);
  auto wal = OpenWal(tmp.path());
  EXPECT_TRUE(wal->recovery().ack_file_damaged);
  EXPECT_EQ(wal->acked_seq(), 0u);
  EXPECT_EQ(ReadAll(*wal), Seqs(1, 5));
}

// The format before: one 16-byte ack, replaced by rename.
TEST(Wal, LegacySixteenByteAckFileIsRead) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 6);
  }
  WriteFile(tmp.sub("ack"), AckSlot(3));
  {
    auto wal = OpenWal(tmp.path());
    EXPECT_FALSE(wal->recovery().ack_file_damaged);
    EXPECT_EQ(wal->acked_seq(), 3u);
    EXPECT_EQ(wal->recovery().records, 2u);
    EXPECT_EQ(ReadAll(*wal), Seqs(4, 6));
    ASSERT_TRUE(wal->Ack(4).ok());  // into slot 1, keeping the legacy slot
  }
  const std::string ack = ReadFile(tmp.sub("ack"));
  EXPECT_EQ(ack.substr(0, 16), AckSlot(3));
  EXPECT_EQ(ack.substr(16), AckSlot(4));
  auto wal = OpenWal(tmp.path());
  EXPECT_EQ(wal->acked_seq(), 4u);
  EXPECT_EQ(ReadAll(*wal), Seqs(5, 6));
}

std::vector<std::string> PeekAndReadPayloads(Wal& wal) {
  std::vector<std::string> payloads;
  while (wal.PeekNext().has_value()) {
    WalRecord record;
    if (!wal.ReadNext(record)) {
      break;
    }
    payloads.push_back(record.payload);
  }
  return payloads;
}

std::vector<std::string> Payloads(std::uint64_t from, std::uint64_t to, std::size_t size) {
  std::vector<std::string> v;
  for (std::uint64_t seq = from; seq < to; ++seq) {
    v.push_back(Payload(seq, size));
  }
  return v;
}

// The push-mode pattern: the sender reads what the collection thread appended just before.
TEST(Wal, RecordReadRightAfterAppendComesFromMemoryWithoutDiskReads) {
  TempDir tmp;
  std::vector<std::string> from_memory;
  {
    auto wal = OpenWal(tmp.path());
    const std::uint64_t reads_at_open = wal->disk_reads();
    for (std::uint64_t seq = 1; seq <= 5; ++seq) {
      AppendRange(*wal, seq, seq + 1, 6000);
      const auto peeked = wal->PeekNext();
      ASSERT_TRUE(peeked.has_value());
      EXPECT_EQ(peeked->seq, seq);
      EXPECT_EQ(peeked->payload_bytes, 6000u);
      EXPECT_EQ(peeked->samples, 10u);
      EXPECT_EQ(peeked->min_timestamp_ms, static_cast<std::int64_t>(seq * 1000));
      WalRecord record;
      ASSERT_TRUE(wal->ReadNext(record));
      EXPECT_EQ(record.info.seq, seq);
      EXPECT_EQ(record.info.payload_bytes, 6000u);
      from_memory.push_back(record.payload);
    }
    EXPECT_EQ(wal->disk_reads(), reads_at_open);
    EXPECT_EQ(wal->memory_reads(), 5u);
    EXPECT_EQ(wal->unread_records(), 0u);
    EXPECT_EQ(from_memory, Payloads(1, 6, 6000));
  }
  // Nothing was acknowledged: the same records, now from disk, byte for byte.
  auto wal = OpenWal(tmp.path());
  const std::uint64_t reads_at_open = wal->disk_reads();
  EXPECT_EQ(PeekAndReadPayloads(*wal), from_memory);
  EXPECT_EQ(wal->memory_reads(), 0u);
  EXPECT_GT(wal->disk_reads(), reads_at_open);
}

// The backlog found at Open is read from disk, the header once per record.
TEST(Wal, PeekThenReadReadsEachHeaderOnce) {
  TempDir tmp;
  {
    auto wal = OpenWal(tmp.path());
    AppendRange(*wal, 1, 5);
  }
  auto wal = OpenWal(tmp.path());
  const std::uint64_t reads_at_open = wal->disk_reads();
  EXPECT_EQ(PeekAndReadPayloads(*wal), Payloads(1, 5, 100));
  EXPECT_EQ(wal->disk_reads() - reads_at_open, 4u * 2);  // a header and a payload each
  EXPECT_EQ(wal->memory_reads(), 0u);
  // Peeking again does not read again.
  AppendRange(*wal, 5, 6);
  const std::uint64_t before_peeks = wal->disk_reads();
  ASSERT_TRUE(wal->PeekNext().has_value());
  ASSERT_TRUE(wal->PeekNext().has_value());
  EXPECT_EQ(wal->disk_reads(), before_peeks);
}

// Which records the reader got from disk (by seq), reading everything unread.
std::vector<std::uint64_t> SeqsReadFromDisk(Wal& wal, std::vector<std::string>& payloads) {
  std::vector<std::uint64_t> from_disk;
  while (wal.PeekNext().has_value()) {
    const std::uint64_t disk_before = wal.disk_reads();
    WalRecord record;
    if (!wal.ReadNext(record)) {
      break;
    }
    if (wal.disk_reads() != disk_before) {
      from_disk.push_back(record.info.seq);
    }
    payloads.push_back(record.payload);
  }
  return from_disk;
}

TEST(Wal, BacklogBeyondTheMemoryBoundIsReadFromDiskUntilTheReaderCatchesUp) {
  TempDir tmp;
  // Room for the payloads of three 100-byte records.
  auto opened = Wal::Open(WalOptions{
      .dir = tmp.path(), .max_bytes = 1 << 20, .fsync = false, .recent_payload_bytes = 350});
  ASSERT_TRUE(opened.ok()) << opened.error();
  Wal& wal = **opened;
  std::vector<std::string> payloads;

  // Within the bound: all from memory.
  AppendRange(wal, 1, 4);
  EXPECT_TRUE(SeqsReadFromDisk(wal, payloads).empty());
  EXPECT_EQ(wal.memory_reads(), 3u);

  // Seven unread records pass it: all of them come from disk, the newest too.
  AppendRange(wal, 4, 11);
  EXPECT_EQ(SeqsReadFromDisk(wal, payloads), Seqs(4, 11));
  EXPECT_EQ(wal.memory_reads(), 3u);

  // Caught up: kept again.
  AppendRange(wal, 11, 13);
  EXPECT_TRUE(SeqsReadFromDisk(wal, payloads).empty());
  EXPECT_EQ(wal.memory_reads(), 5u);

  // A record larger than the bound is never kept.
  AppendRange(wal, 13, 14, 400);
  EXPECT_EQ(SeqsReadFromDisk(wal, payloads), Seqs(13, 14));

  std::vector<std::string> expected = Payloads(1, 13, 100);
  expected.push_back(Payload(13, 400));
  EXPECT_EQ(payloads, expected);
}

// Segments rotate and the oldest are evicted at the cap while records are kept in memory:
// the reader still gets every surviving record once, in order, from wherever it is.
TEST(Wal, KeptRecordsFollowRotationAndEviction) {
  TempDir tmp;
  const std::uint64_t segment = kHeader + 4 * kRecord;
  auto wal = OpenWal(tmp.path(), 3 * segment, segment);
  AppendRange(*wal, 1, 3);
  EXPECT_EQ(ReadAll(*wal), Seqs(1, 3));
  ASSERT_TRUE(wal->Ack(2).ok());
  AppendRange(*wal, 3, 31);  // 8 segments written; those from 21 on stay
  EXPECT_EQ(wal->evicted_segments(), 5u);
  EXPECT_EQ(ReadAll(*wal), Seqs(21, 31));
  EXPECT_EQ(wal->memory_reads(), 12u);
  ASSERT_TRUE(wal->Ack(30).ok());
  AppendRange(*wal, 31, 33);
  EXPECT_EQ(ReadAll(*wal), Seqs(31, 33));
  EXPECT_EQ(wal->memory_reads(), 14u);
}

}  // namespace
}  // namespace metricsd::queue
