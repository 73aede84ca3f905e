// The cold floor of a system-collection cycle: the system calls one metricsd cycle makes with
// the collectors compare_node_exporter.sh runs (cpu, memory, disk, network, host), and
// nothing else (no parsing, no metric building), once per second like the daemon. Prints the
// CPU time of this thread per cycle, from /proc/thread-self/schedstat. Whatever a cycle of
// the daemon costs above this figure is metricsd's own work; the figure itself is what the
// kernel and the wake-up cost on this machine.
//
// Usage: build/bench/cold_floor [SECONDS]   (default 30)
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

long long ThreadCpuNs() {
  long long ns = 0;
  if (FILE* f = std::fopen("/proc/thread-self/schedstat", "r")) {
    if (std::fscanf(f, "%lld", &ns) != 1) {
      ns = 0;
    }
    std::fclose(f);
  }
  return ns;
}

// Reads a whole procfs file from offset 0 as the collectors do: until a read returns 0.
void ReadAll(int fd, std::vector<char>& buf) {
  off_t offset = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
    if (n <= 0) {
      return;
    }
    offset += n;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 30;
  // Single-read files (the daemon reads these with one pread into a buffer large enough).
  std::vector<int> single;
  for (const char* path : {"/proc/uptime", "/proc/stat", "/proc/loadavg", "/proc/meminfo"}) {
    single.push_back(::open(path, O_RDONLY | O_CLOEXEC));
  }
  std::vector<int> whole;
  for (const char* path : {"/proc/diskstats", "/proc/net/dev"}) {
    whole.push_back(::open(path, O_RDONLY | O_CLOEXEC));
  }
  const int proc_dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int mountinfo = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  std::vector<char> buf(16384);

  timespec next{};
  ::clock_gettime(CLOCK_MONOTONIC, &next);
  long long start = 0;
  const int warmup = 2;
  for (int cycle = 0; cycle < seconds + warmup; ++cycle) {
    if (cycle == warmup) {
      start = ThreadCpuNs();
    }
    for (int fd : single) {
      (void)::pread(fd, buf.data(), buf.size(), 0);
    }
    struct stat st {};
    (void)::fstat(proc_dir, &st);
    pollfd changed{mountinfo, POLLPRI, 0};
    (void)::poll(&changed, 1, 0);
    struct statfs fs {};
    (void)::statfs("/", &fs);
    for (int fd : whole) {
      ReadAll(fd, buf);
    }
    next.tv_sec += 1;
    ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
  const long long used = ThreadCpuNs() - start;
  std::printf("cold floor: %lld us per cycle (%d cycles, the system calls alone)\n",
              used / 1000 / seconds, seconds);
  return 0;
}
