// CollectInto(): every system collector, writing a tick over the families of its earlier
// ticks, gives what a fresh Collect() gives, also when devices, interfaces, mounts or
// whole families come and go between ticks. Also the per-name filter decisions.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "collectors/cpu_collector.h"
#include "collectors/diskio_collector.h"
#include "collectors/filesystem_collector.h"
#include "collectors/host_collector.h"
#include "collectors/memory_collector.h"
#include "collectors/name_filter.h"
#include "collectors/network_collector.h"
#include "collectors/pressure_collector.h"
#include "test_util.h"

namespace metricsd {
namespace {

using testing_util::Ctx;
using testing_util::ScratchHost;

using Factory = std::function<std::unique_ptr<Collector>(const HostPaths&)>;

void ExpectSameResult(const CollectResult& got, const CollectResult& want, int step) {
  EXPECT_EQ(got.status, want.status) << "step " << step;
  EXPECT_EQ(got.message, want.message) << "step " << step;
  ASSERT_EQ(got.families.size(), want.families.size()) << "step " << step;
  for (std::size_t i = 0; i < got.families.size(); ++i) {
    const MetricFamily& g = got.families[i];
    const MetricFamily& w = want.families[i];
    EXPECT_EQ(g.name, w.name) << "step " << step;
    EXPECT_EQ(g.help, w.help) << g.name;
    EXPECT_EQ(g.type, w.type) << g.name;
    EXPECT_EQ(g.samples, w.samples) << g.name << " at step " << step;
  }
}

// Runs `steps` (each rewrites the host, then ticks): one collector writes every tick over
// its own storage, a twin collects afresh; both must agree at every step.
void ExpectRecyclingIsInvisible(const Factory& make,
                                const std::vector<std::function<void(const ScratchHost&)>>& steps) {
  ScratchHost host;
  std::unique_ptr<Collector> recycling = make(host.paths());
  std::unique_ptr<Collector> fresh = make(host.paths());
  CollectResult storage;
  for (std::size_t step = 0; step < steps.size(); ++step) {
    steps[step](host);
    const CollectContext ctx = Ctx(1'700'000'000'000 + static_cast<std::int64_t>(step) * 1000);
    storage.status = CollectStatus::kOk;
    storage.message.clear();
    recycling->CollectInto(ctx, storage);
    CollectResult want = fresh->Collect(ctx);
    ExpectSameResult(storage, want, static_cast<int>(step));
    if (step == 0) {
      EXPECT_FALSE(storage.families.empty()) << "the fixture gives samples";
    }
  }
}

const auto kUnchanged = [](const ScratchHost&) {};

TEST(Recycling, Memory) {
  const std::string no_swap = "MemTotal: 1000 kB\nMemFree: 900 kB\nBuffers: 10 kB\nCached: 20 kB\n";
  ExpectRecyclingIsInvisible(
      [](const HostPaths& p) { return std::make_unique<MemoryCollector>(p); },
      {kUnchanged, kUnchanged,
       [&](const ScratchHost& h) { h.Write("proc/meminfo", no_swap + "SwapTotal: 0 kB\n"); },
       [&](const ScratchHost& h) { h.Write("proc/meminfo", no_swap); },
       [&](const ScratchHost& h) { h.Write("proc/meminfo", ""); },
       [&](const ScratchHost& h) { h.Write("proc/meminfo", no_swap + "SwapTotal: 8 kB\n"); }});
}

TEST(Recycling, Host) {
  ExpectRecyclingIsInvisible(
      [](const HostPaths& p) { return std::make_unique<HostCollector>(p); },
      {kUnchanged, kUnchanged, [](const ScratchHost& h) { h.Remove("proc/loadavg"); },
       [](const ScratchHost& h) { h.Remove("proc/uptime"); },
       [](const ScratchHost& h) { h.Write("proc/loadavg", "0.10 0.20 0.30 1/100 42\n"); }});
}

TEST(Recycling, Cpu) {
  ExpectRecyclingIsInvisible([](const HostPaths& p) { return std::make_unique<CpuCollector>(p); },
                             {kUnchanged, kUnchanged,
                              [](const ScratchHost& h) {
                                h.Write("proc/stat",
                                        "cpu  200 0 100 1000 0 0 0 0 0 0\n"
                                        "cpu0 100 0 50 500 0 0 0 0 0 0\n"
                                        "cpu3 100 0 50 500 0 0 0 0 0 0\n");
                              },
                              [](const ScratchHost& h) {
                                h.Write("proc/stat",
                                        "cpu  300 0 200 1100 0 0 0 0 0 0\n"
                                        "cpu0 150 0 100 550 0 0 0 0 0 0\n");
                              }});
}

TEST(Recycling, Pressure) {
  ExpectRecyclingIsInvisible(
      [](const HostPaths& p) { return std::make_unique<PressureCollector>(p); },
      {kUnchanged, kUnchanged,
       [](const ScratchHost& h) {
         h.Write("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
       },
       [](const ScratchHost& h) { h.Write("proc/pressure/cpu", "garbage\n"); },
       [](const ScratchHost& h) {
         h.Write("proc/pressure/cpu",
                 "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=2\n");
       }});
}

TEST(Recycling, DiskIo) {
  ExpectRecyclingIsInvisible(
      [](const HostPaths& p) {
        return std::make_unique<DiskIoCollector>(p, config::DiskIoOptions{});
      },
      {kUnchanged, kUnchanged,
       [](const ScratchHost& h) {
         h.Write("proc/diskstats",
                 "   8       0 sda 1000 10 80000 500 2000 20 160000 1500 2 3000 4000\n"
                 "   8      16 sdb 7 0 56 1 0 0 0 0 0 1 1\n");
       },
       [](const ScratchHost& h) {
         h.Write("proc/diskstats",
                 "   8      16 sdb 8 0 64 1 0 0 0 0 0 1 1\n"
                 "   8       0 sda 1001 10 80008 500 2000 20 160000 1500 2 3000 4000\n"
                 "   8      32 sdc 1 x\n");
       },
       [](const ScratchHost& h) {
         h.Write("proc/diskstats", "   7       0 loop0 10 0 20 1 0 0 0 0 0 1 1\n");
       },
       [](const ScratchHost& h) {
         h.Write("proc/diskstats", "   8      16 sdb 9 0 72 1 0 0 0 0 0 1 1\n");
       }});
}

TEST(Recycling, Network) {
  const std::string header =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n";
  ExpectRecyclingIsInvisible(
      [](const HostPaths& p) {
        return std::make_unique<NetworkCollector>(
            p, config::NetworkOptions{.interface_include = "", .interface_exclude = "^veth"});
      },
      {kUnchanged, kUnchanged,
       [&](const ScratchHost& h) {
         h.Write("proc/net/dev", header +
                                     "    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                                     "veth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                                     "  eth0: 5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0\n");
       },
       [&](const ScratchHost& h) {
         h.Write("proc/net/dev", header + "  eth0: 7 0 0 0 0 0 0 0 8 0 0 0 0 0 0 0\n");
       },
       [&](const ScratchHost& h) { h.Write("proc/net/dev", header); },
       [&](const ScratchHost& h) {
         h.Write("proc/net/dev", header + "  eth1: 9 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n");
       }});
}

TEST(Recycling, Filesystem) {
  const auto statfs = [](const std::string& path) -> Result<FsStat> {
    if (path.ends_with("/boot")) {
      return Error{"not mounted here"};
    }
    return FsStat{.block_size = 4096,
                  .blocks = 1000 + path.size(),
                  .blocks_free = 400,
                  .blocks_available = 300,
                  .files = 100,
                  .files_free = 50};
  };
  const std::string root = "27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
  ExpectRecyclingIsInvisible(
      [&](const HostPaths& p) {
        return std::make_unique<FilesystemCollector>(p, config::FilesystemOptions{}, statfs);
      },
      {kUnchanged, kUnchanged,
       [&](const ScratchHost& h) {
         h.Write("proc/1/mountinfo", root +
                                         "30 27 8:3 / /data rw,relatime - xfs /dev/sdb1 rw\n"
                                         "31 27 8:4 / /srv rw,relatime - ext4 /dev/sdc1 rw\n");
       },
       [&](const ScratchHost& h) {
         h.Write("proc/1/mountinfo", root + "31 27 8:4 / /srv rw,relatime - ext4 /dev/sdc1 rw\n");
       },
       [&](const ScratchHost& h) { h.Remove("proc/1/mountinfo"); }});
}

TEST(NameFilter, SearchesWithRe2AndTheDefaultsKeepTheirMeaning) {
  // A search, not a full match: anchors where meant.
  EXPECT_TRUE(NameFilter("eth", "").Matches("veth7"));
  EXPECT_FALSE(NameFilter("^eth", "").Matches("veth7"));
  EXPECT_FALSE(NameFilter("", "lo").Matches("lo"));
  EXPECT_TRUE(NameFilter("", "^lo$").Matches("loop0"));
  // The shipped defaults, which are RE2 patterns now.
  const config::DiskIoOptions disk;
  const NameFilter devices(disk.device_include, disk.device_exclude);
  for (std::string_view partition : {"sda1", "nvme0n1p2", "mmcblk0p1", "loop3", "ram0", "sr0"}) {
    EXPECT_FALSE(devices.Matches(partition)) << partition;
  }
  for (std::string_view device : {"sda", "nvme0n1", "vdb", "dm-0", "md127"}) {
    EXPECT_TRUE(devices.Matches(device)) << device;
  }
  const config::FilesystemOptions fs;
  const NameFilter mounts(fs.mountpoint_include, fs.mountpoint_exclude);
  EXPECT_FALSE(mounts.Matches("/proc"));
  EXPECT_FALSE(mounts.Matches("/var/lib/docker/overlay2/x/merged"));
  EXPECT_TRUE(mounts.Matches("/"));
  EXPECT_TRUE(mounts.Matches("/devices"));  // "^/(dev|...)($|/)": only /dev and below
  const NameFilter types(fs.fstype_include, fs.fstype_exclude);
  EXPECT_FALSE(types.Matches("tmpfs"));
  EXPECT_TRUE(types.Matches("ext4"));
  // A pattern RE2 refuses (lookahead, which ECMAScript had) is an error, not a silent pass.
  EXPECT_THROW(NameFilter("(?=x)", ""), std::invalid_argument);
}

TEST(FilteredNames, FilterDecisionsAndLabelsAreKeptForKnownNames) {
  const NameFilter filter("", "^lo$");
  std::vector<FilteredName> list;
  const std::vector<std::string_view> first{"lo", "eth0", "eth1"};
  EXPECT_FALSE(SameNames(list, first));
  UpdateFilteredNames(list, first, filter, "interface");
  ASSERT_TRUE(SameNames(list, first));
  EXPECT_FALSE(list[0].included);
  EXPECT_TRUE(list[0].labels.empty());
  EXPECT_TRUE(list[1].included);
  EXPECT_EQ(list[1].labels, (Labels{{"interface", "eth0"}}));
  const Label* eth1_labels = list[2].labels.data();

  // eth0 leaves, veth7 arrives before eth1: eth1 keeps its entry (not rebuilt).
  const std::vector<std::string_view> second{"lo", "veth7", "eth1"};
  UpdateFilteredNames(list, second, filter, "interface");
  ASSERT_TRUE(SameNames(list, second));
  EXPECT_EQ(list[2].labels.data(), eth1_labels);
  EXPECT_EQ(list[1].labels, (Labels{{"interface", "veth7"}}));
  EXPECT_FALSE(list[0].included);

  // Reordered names keep their entries too.
  const std::vector<std::string_view> third{"eth1", "lo"};
  UpdateFilteredNames(list, third, filter, "interface");
  ASSERT_TRUE(SameNames(list, third));
  EXPECT_EQ(list[0].labels.data(), eth1_labels);
  EXPECT_FALSE(list[1].included);

  UpdateFilteredNames(list, {}, filter, "interface");
  EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace metricsd
