// The cold floor of a system-collection cycle: the system calls one metricsd cycle makes with
// the collectors compare_node_exporter.sh runs (cpu, memory, disk, network, host), and
// nothing else (no parsing, no metric building), once per second like the daemon. Prints the
// CPU time of this thread per cycle, from /proc/thread-self/schedstat. Whatever a cycle of
// the daemon costs above this figure is metricsd's own work; the figure itself is what the
// kernel and the wake-up cost on this machine.
//
// With a port it is the floor of a pushing agent instead (push_host_agent.sh): each cycle
// also reads the pressure files (the default collectors do), encodes SERIES samples as one
// remote write request, appends it to a scratch file (then fdatasync, with "fsync") and
// posts it to 127.0.0.1:PORT/api/v1/write on one kept-alive connection. The response is read
// at the start of the next cycle, so a cycle has one wake-up, the least any agent can have.
// Its series carry agent="floor" (or "floor_nosync"). Nothing is retried: a request that is
// not answered with 2xx makes the run fail.
//
// "curl" posts through libcurl instead (no fdatasync, agent="floor_curl"), loaded with dlopen
// only in that mode: its resident memory is the least any agent that sends with libcurl can
// have, and its CPU what a blocking libcurl request adds (a second wake-up, for the response).
//
// Usage: build/bench/cold_floor [SECONDS [PORT SERIES fsync|nosync|curl]]   (default 30 s)
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <snappy.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
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

void AppendVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void AppendField(std::string& out, int field, std::string_view bytes) {
  AppendVarint(out, static_cast<std::uint64_t>(field) << 3 | 2);
  AppendVarint(out, bytes.size());
  out.append(bytes);
}

// One remote write 1.0 request: SERIES series of four labels, one sample each.
std::string EncodeRequest(std::string_view agent, int series, std::int64_t timestamp_ms,
                          double value) {
  std::string request, one, label, sample;
  for (int i = 0; i < series; ++i) {
    one.clear();
    const std::string index = std::to_string(i);
    for (auto [name, val] :
         {std::pair<std::string_view, std::string_view>{"__name__", "floor_series_value"},
          {"agent", agent},
          {"instance", "127.0.0.1:9100"},
          {"series", index}}) {
      label.clear();
      AppendField(label, 1, name);
      AppendField(label, 2, val);
      AppendField(one, 1, label);
    }
    sample.clear();
    sample.push_back(0x09);  // field 1, fixed64
    char bits[8];
    std::memcpy(bits, &value, 8);
    sample.append(bits, 8);
    sample.push_back(0x10);  // field 2, varint
    AppendVarint(sample, static_cast<std::uint64_t>(timestamp_ms));
    AppendField(one, 2, sample);
    AppendField(request, 1, one);
  }
  return request;
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads one response (headers and a Content-Length body) and returns its status code.
int ReadResponse(int fd) {
  std::string in;
  char buf[4096];
  std::size_t need = std::string::npos;
  while (need == std::string::npos || in.size() < need) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      return -1;
    }
    in.append(buf, static_cast<std::size_t>(n));
    const std::size_t end = in.find("\r\n\r\n");
    if (need == std::string::npos && end != std::string::npos) {
      std::size_t length = 0;
      const std::size_t at = in.find("Content-Length: ");
      if (at != std::string::npos && at < end) {
        length = std::strtoul(in.c_str() + at + 16, nullptr, 10);
      }
      need = end + 4 + length;
    }
  }
  return in.size() > 12 ? std::atoi(in.c_str() + 9) : -1;
}

// The few libcurl calls a request needs, from a library opened only in "curl" mode.
struct Curl {
  explicit Curl(int port) {
    void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      std::fprintf(stderr, "cold floor: %s\n", ::dlerror());
      std::exit(1);
    }
    init = reinterpret_cast<decltype(init)>(::dlsym(lib, "curl_easy_init"));
    setopt = reinterpret_cast<decltype(setopt)>(::dlsym(lib, "curl_easy_setopt"));
    perform = reinterpret_cast<decltype(perform)>(::dlsym(lib, "curl_easy_perform"));
    getinfo = reinterpret_cast<decltype(getinfo)>(::dlsym(lib, "curl_easy_getinfo"));
    auto append = reinterpret_cast<curl_slist* (*)(curl_slist*, const char*)>(
        ::dlsym(lib, "curl_slist_append"));
    easy = init();
    url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/write";
    for (const char* header : {"Content-Encoding: snappy", "Content-Type: application/x-protobuf",
                               "X-Prometheus-Remote-Write-Version: 0.1.0"}) {
      headers = append(headers, header);
    }
    setopt(easy, CURLOPT_URL, url.c_str());
    setopt(easy, CURLOPT_HTTPHEADER, headers);
  }

  // Posts the body and waits for the answer; returns the HTTP status.
  int Post(const std::string& body) {
    setopt(easy, CURLOPT_POSTFIELDS, body.data());
    setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    long status = -1;
    if (perform(easy) != CURLE_OK || getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
      return -1;
    }
    return static_cast<int>(status);
  }

  CURL* (*init)() = nullptr;
  CURLcode (*setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*perform)(CURL*) = nullptr;
  CURLcode (*getinfo)(CURL*, CURLINFO, ...) = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string url;
};

struct Push {
  int port = 0;
  int series = 0;
  bool fsync = false;
  std::unique_ptr<Curl> curl;
  int socket = -1;
  int wal = -1;
  bool awaiting = false;
  int failures = 0;
  std::string compressed;

  void Cycle() {
    if (awaiting) {
      const int status = ReadResponse(socket);
      failures += status < 200 || status > 299;
    }
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const std::int64_t ms = std::int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
    const std::string request =
        EncodeRequest(curl ? "floor_curl" : (fsync ? "floor" : "floor_nosync"), series, ms,
                      static_cast<double>(ms % 1000));
    snappy::Compress(request.data(), request.size(), &compressed);
    // A record header (length and checksum in the daemon's WAL) and the request.
    const std::uint64_t header = compressed.size();
    iovec record[2] = {{const_cast<std::uint64_t*>(&header), sizeof header},
                       {compressed.data(), compressed.size()}};
    if (::writev(wal, record, 2) < 0 || (fsync && ::fdatasync(wal) != 0)) {
      std::perror("wal");
      std::exit(1);
    }
    if (curl) {
      const int status = curl->Post(compressed);
      failures += status < 200 || status > 299;
      return;
    }
    const std::string head =
        "POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: snappy\r\n"
        "Content-Type: application/x-protobuf\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"
        "Content-Length: " +
        std::to_string(compressed.size()) + "\r\n\r\n";
    iovec out[2] = {{const_cast<char*>(head.data()), head.size()},
                    {compressed.data(), compressed.size()}};
    msghdr msg{};
    msg.msg_iov = out;
    msg.msg_iovlen = 2;
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL) !=
        static_cast<ssize_t>(head.size() + compressed.size())) {
      std::perror("send");
      std::exit(1);
    }
    awaiting = true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 30;
  Push push;
  if (argc > 4) {
    push.port = std::atoi(argv[2]);
    push.series = std::atoi(argv[3]);
    const std::string_view mode = argv[4];
    push.fsync = mode == "fsync";
    if (mode == "curl") {
      push.curl = std::make_unique<Curl>(push.port);
    } else {
      push.socket = Connect(push.port);
    }
    char path[] = "/tmp/cold_floor_wal.XXXXXX";
    push.wal = ::mkstemp(path);
    ::unlink(path);
  }
  // Single-read files (the daemon reads these with one pread into a buffer large enough).
  std::vector<const char*> single_paths = {"/proc/uptime", "/proc/stat", "/proc/loadavg",
                                           "/proc/meminfo"};
  if (push.port != 0) {
    single_paths.insert(single_paths.end(),
                        {"/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io"});
  }
  std::vector<int> single;
  for (const char* path : single_paths) {
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
    if (push.port != 0) {
      push.Cycle();
    }
    next.tv_sec += 1;
    ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
  const long long used = ThreadCpuNs() - start;
  std::printf("cold floor: %lld us per cycle (%d cycles, the system calls alone%s)\n",
              used / 1000 / seconds, seconds,
              push.port == 0 ? ""
              : push.curl    ? ", pushing with libcurl"
              : push.fsync   ? ", pushing, fdatasync"
                             : ", pushing");
  if (push.failures != 0) {
    std::fprintf(stderr, "cold floor: %d requests were not accepted\n", push.failures);
    return 1;
  }
  return 0;
}
