// Test support: start a child process with arguments and environment, capture its output
// to files, poll for conditions with deadlines, and always reap it (killed by PID).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace metricsd::testing {

class ChildProcess {
 public:
  // `env` entries are added to (or replace) the current environment; a value of
  // std::nullopt removes the variable.
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::map<std::string, std::optional<std::string>>& env = {},
               const std::string& cwd = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal_number) const;
  // Waits for exit; returns the exit status (or 128+signal), or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// The absolute path of `name` on PATH, or empty.
std::string FindBinary(const std::string& name);

// Polls `ready` every 50 ms until it returns true or `timeout` passes.
bool WaitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

// True when something accepts TCP connections on 127.0.0.1:port.
bool TcpAccepts(int port);

// A peer server (Prometheus, VictoriaMetrics ...): argv[0] is an absolute path; stdout and
// stderr are appended to log_file. Stop() (and the destructor) sends SIGTERM, then SIGKILL.
class PeerProcess {
 public:
  PeerProcess(const std::vector<std::string>& argv, const std::string& log_file);
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  bool running();
  void Stop();
  pid_t pid() const { return pid_; }
  // The tail of the log, for failure messages.
  std::string LogTail() const;

 private:
  pid_t pid_ = -1;
  std::string log_file_;
};

// An environment for starting metricsd in a test: every MC_* and HOST_* variable and the
// proxy variables removed (so the host's settings cannot leak in), loopback not proxied.
// Pass it to ChildProcess, adding what the test needs.
std::map<std::string, std::optional<std::string>> MetricsdTestEnv();
// The same, with the shippers' buffer in `data_dir` (MC_DATA_DIR), so that a test running as
// root never writes to the machine's /var/lib/metricsd.
std::map<std::string, std::optional<std::string>> MetricsdTestEnv(const std::string& data_dir);

// Polls `condition` every 20 ms until it is true or the timeout passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// A TCP port that was free a moment ago on 127.0.0.1.
int FreePort();

// A fresh directory under /tmp, removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);

// Minimal HTTP client for tests (loopback only).
struct HttpReply {
  int status = 0;  // 0: no response
  std::string body;
  std::map<std::string, std::string> headers;
};
HttpReply HttpGet(const std::string& host, int port, const std::string& path,
                  const std::string& method = "GET");

}  // namespace metricsd::testing
