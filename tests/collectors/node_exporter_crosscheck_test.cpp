// Cross-check against prometheus-node-exporter on this machine: both read the same kernel
// sources, so values must agree exactly where nothing moves between the two reads (CPU
// count, memory and swap totals, filesystem sizes) and must be bracketed by two of our reads
// taken before and after node_exporter's where counters move (lo bytes, disk reads).
// Free space moves with other writers on the machine: within 64 MiB plus the drift we see
// between our own two reads.
//
// Skipped when node_exporter is not installed (CI installs the Debian package).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collectors/cpu_collector.h"
#include "collectors/diskio_collector.h"
#include "collectors/filesystem_collector.h"
#include "collectors/memory_collector.h"
#include "collectors/network_collector.h"
#include "core/unique_fd.h"
#include "test_util.h"

extern char** environ;

namespace metricsd {
namespace {

using testing_util::Ctx;
using testing_util::Value;

std::optional<std::string> FindNodeExporter() {
  for (const char* candidate : {"/usr/bin/prometheus-node-exporter", "/usr/local/bin/node_exporter",
                                "/usr/bin/node_exporter"}) {
    if (::access(candidate, X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// A minimal HTTP/1.0 GET; returns the body of a 200 answer.
std::optional<std::string> HttpGet(int port, const std::string& path) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return std::nullopt;
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return std::nullopt;
  }
  std::string response;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    response.append(buf, static_cast<std::size_t>(n));
  }
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") == std::string::npos) {
    return std::nullopt;
  }
  const std::size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::nullopt : std::optional(response.substr(body + 4));
}

struct TextSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value;
};

// Enough of the Prometheus text format for node_exporter's output.
std::vector<TextSample> ParseText(const std::string& text) {
  std::vector<TextSample> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    TextSample s;
    std::size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (i != std::string::npos && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t eq = line.find('=', i);
        const std::string key = line.substr(i, eq - i);
        std::string value;
        std::size_t j = eq + 2;  // past ="
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value.push_back(line[j] == 'n' ? '\n' : line[j]);
          } else {
            value.push_back(line[j]);
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') {
          ++i;
        }
      }
      ++i;
    }
    s.value = std::strtod(line.c_str() + i, nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<double> Find(const std::vector<TextSample>& samples, const std::string& name,
                           const std::string& label = "", const std::string& value = "") {
  for (const TextSample& s : samples) {
    if (s.name == name &&
        (label.empty() || (s.labels.count(label) && s.labels.at(label) == value))) {
      return s.value;
    }
  }
  return std::nullopt;
}

std::string LabelOf(const Labels& labels, const std::string& name) {
  for (const Label& l : labels) {
    if (l.name == name) {
      return l.value;
    }
  }
  return {};
}

class NodeExporterCrossCheck : public testing::Test {
 protected:
  void SetUp() override {
    auto binary = FindNodeExporter();
    if (!binary) {
      GTEST_SKIP() << "prometheus-node-exporter is not installed (apt-get install "
                      "prometheus-node-exporter); cross-check skipped";
    }
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
      port_ = FreePort();
      ASSERT_GT(port_, 0);
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      std::vector<std::string> args = {*binary, listen, "--collector.disable-defaults",
                                       "--collector.cpu", "--collector.meminfo",
                                       "--collector.diskstats", "--collector.netdev",
                                       // lo is excluded by default; it is the one we compare.
                                       "--collector.netdev.device-exclude=^$",
                                       "--collector.filesystem", "--web.disable-exporter-metrics"};
      std::vector<char*> argv;
      for (std::string& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
      pid_t pid = -1;
      const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
      posix_spawn_file_actions_destroy(&actions);
      ASSERT_EQ(rc, 0) << "cannot start " << *binary;
      pid_ = pid;
      // Ready when /metrics answers; a lost race for the port makes it exit: try another.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (std::chrono::steady_clock::now() < deadline) {
        if (HttpGet(port_, "/metrics")) {
          return;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::yield();
      }
    }
    ASSERT_GT(pid_, 0) << "node_exporter did not start";
  }

  void TearDown() override {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::yield();
    }
    pid_ = -1;
  }

  std::vector<TextSample> Scrape() {
    auto body = HttpGet(port_, "/metrics");
    EXPECT_TRUE(body.has_value());
    return body ? ParseText(*body) : std::vector<TextSample>{};
  }

  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(NodeExporterCrossCheck, SameValuesFromTheSameKernel) {
  const HostPaths host;
  CpuCollector cpu(host);
  MemoryCollector memory(host);
  NetworkCollector net(host, config::NetworkOptions{});
  // Every device, so that whatever node_exporter reports can be matched.
  DiskIoCollector disk(host, config::DiskIoOptions{.device_include = "", .device_exclude = ""});
  FilesystemCollector fs(host, config::FilesystemOptions{});

  CollectResult net_before = net.Collect(Ctx());
  CollectResult disk_before = disk.Collect(Ctx());
  CollectResult fs_before = fs.Collect(Ctx());
  const std::vector<TextSample> node = Scrape();
  CollectResult net_after = net.Collect(Ctx());
  CollectResult disk_after = disk.Collect(Ctx());
  CollectResult fs_after = fs.Collect(Ctx());
  CollectResult cpu_now = cpu.Collect(Ctx());
  CollectResult mem_now = memory.Collect(Ctx());
  ASSERT_FALSE(node.empty());

  // CPU count: the distinct cpu labels of node_cpu_seconds_total.
  std::set<std::string> cpus;
  for (const TextSample& s : node) {
    if (s.name == "node_cpu_seconds_total") {
      cpus.insert(s.labels.at("cpu"));
    }
  }
  EXPECT_EQ(static_cast<double>(cpus.size()), *Value(cpu_now, "system_cpu_count"));

  // Memory and swap totals: the same meminfo fields.
  EXPECT_EQ(Find(node, "node_memory_MemTotal_bytes"), Value(mem_now, "system_memory_total_bytes"));
  EXPECT_EQ(Find(node, "node_memory_SwapTotal_bytes"), Value(mem_now, "system_swap_total_bytes"));

  // Filesystems both report: equal size; free space within 64 MiB plus our own drift.
  int compared = 0;
  const MetricFamily* totals = testing_util::FindFamily(fs_before, "system_disk_total_bytes");
  ASSERT_NE(totals, nullptr);
  for (const Sample& s : totals->samples) {
    const std::string mountpoint = LabelOf(s.labels, "mountpoint");
    auto node_size = Find(node, "node_filesystem_size_bytes", "mountpoint", mountpoint);
    auto node_avail = Find(node, "node_filesystem_avail_bytes", "mountpoint", mountpoint);
    if (!node_size || !node_avail) {
      continue;
    }
    ++compared;
    EXPECT_EQ(*node_size, s.value) << mountpoint;
    const double free1 = *Value(fs_before, "system_disk_free_bytes", s.labels);
    auto free2 = Value(fs_after, "system_disk_free_bytes", s.labels);
    ASSERT_TRUE(free2) << mountpoint;
    const double tolerance = 64.0 * 1024 * 1024 + std::fabs(*free2 - free1);
    EXPECT_NEAR(*node_avail, free1, tolerance) << mountpoint;
  }
  bool node_has_filesystems = false;
  for (const TextSample& t : node) {
    node_has_filesystems = node_has_filesystems || t.name == "node_filesystem_size_bytes";
  }
  if (!totals->samples.empty() && node_has_filesystems) {
    EXPECT_GT(compared, 0) << "both report filesystems, but no mountpoint in common";
  }

  // lo bytes: node_exporter's read happened between our two reads.
  const Labels lo{{"interface", "lo"}};
  for (auto [ours, theirs] :
       {std::pair{"system_network_bytes_recv_total", "node_network_receive_bytes_total"},
        std::pair{"system_network_bytes_sent_total", "node_network_transmit_bytes_total"}}) {
    auto node_value = Find(node, theirs, "device", "lo");
    ASSERT_TRUE(node_value) << theirs;
    EXPECT_LE(*Value(net_before, ours, lo), *node_value) << ours;
    EXPECT_GE(*Value(net_after, ours, lo), *node_value) << ours;
  }

  // Disk read counters of every device both report, bracketed the same way.
  int disks = 0;
  const MetricFamily* reads = testing_util::FindFamily(disk_before, "system_disk_read_count_total");
  ASSERT_NE(reads, nullptr);
  for (const Sample& s : reads->samples) {
    const std::string device = LabelOf(s.labels, "device");
    auto node_reads = Find(node, "node_disk_reads_completed_total", "device", device);
    auto node_bytes = Find(node, "node_disk_read_bytes_total", "device", device);
    if (!node_reads || !node_bytes) {
      continue;
    }
    ++disks;
    EXPECT_LE(s.value, *node_reads) << device;
    EXPECT_GE(*Value(disk_after, "system_disk_read_count_total", s.labels), *node_reads) << device;
    EXPECT_LE(*Value(disk_before, "system_disk_read_bytes_total", s.labels), *node_bytes) << device;
    EXPECT_GE(*Value(disk_after, "system_disk_read_bytes_total", s.labels), *node_bytes) << device;
  }
  EXPECT_GT(disks, 0) << "no block device reported by both";
}

}  // namespace
}  // namespace metricsd
