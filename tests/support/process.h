// Test-only helpers for real peers: start a binary, find a free port, wait with a deadline,
// and stop the child by its PID (SIGTERM, then SIGKILL).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace metricsd::testing {

// The absolute path of `name` on PATH, or empty.
std::string FindBinary(const std::string& name);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Polls `ready` until it returns true or `timeout` passes.
bool WaitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

// True when something accepts TCP connections on 127.0.0.1:port.
bool TcpAccepts(int port);

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ChildProcess {
 public:
  // Starts argv[0] (an absolute path) with stdout and stderr appended to log_file.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running();
  void Stop();
  pid_t pid() const { return pid_; }
  // The tail of the log, for failure messages.
  std::string LogTail() const;

 private:
  pid_t pid_ = -1;
  std::string log_file_;
};

}  // namespace metricsd::testing
