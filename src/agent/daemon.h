// The daemon's lifetime: start, reload, stop and the systemd watchdog, plus the two one-shot
// modes (-check-config, -once). main() parses the flags and calls one of these.
//
// Reload (SIGHUP) keeps the running agent untouched until the new configuration has been
// loaded and validated, including what only a real client can check; then the old agent
// stops collecting and the new one takes over each queue whose shipper kept its name and
// directory, without closing its on-disk buffer. A queue whose shipper was removed is
// closed, its data kept on disk.
//
// The watchdog is fed only while the collection, scrape, server and sender threads all make
// progress (core/progress_mark.h): a hung thread stops the kicks and systemd restarts us.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent.h"
#include "cli/flags.h"
#include "config/config_loader.h"
#include "core/clock.h"
#include "core/host_paths.h"
#include "core/result.h"
#include "net/net_api.h"
#include "server/http_server.h"

namespace metricsd {

inline constexpr int kExitConfig = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitStartup = 3;

// Which configuration to load: -config, else ./config.json when it exists, else the
// embedded default (empty path).
struct ConfigChoice {
  std::string path;
  std::optional<std::string> log_level;  // -log-level, over the file's
};
ConfigChoice ChooseConfig(const Flags& flags);

// -check-config: prints the effective configuration (secrets redacted) or the errors.
int CheckConfig(const ConfigChoice& choice);
// -once: one collection cycle printed as Prometheus text.
int CollectOnce(const ConfigChoice& choice, const HostPaths& paths);

class Daemon {
 public:
  Daemon(ConfigChoice choice, HostPaths paths);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Loads the configuration, builds the agent, binds the server and starts everything.
  // On failure nothing runs and the error carries the exit code to use.
  struct StartError {
    int exit_code;
    std::string message;
  };
  std::optional<StartError> Start();

  // Loads the configuration again and switches to it; on any error the running agent is
  // kept as it was and the error is returned.
  Status Reload();

  void Stop();

  // The first thread stuck in one piece of work, for the watchdog; nullopt when all progress.
  std::optional<std::string> Stalled() const;

  int port() const noexcept { return server_ ? server_->port() : 0; }
  std::shared_ptr<Agent> agent() const;

  // Start(), then SIGHUP reloads and SIGINT/SIGTERM stop; feeds systemd's watchdog. Blocks
  // those signals first, so call it before any other thread exists.
  int Run();

 private:
  class NetStack;
  Result<config::Loaded> Load() const;
  Result<config::Loaded> LoadAndValidate();

  const ConfigChoice choice_;
  const HostPaths paths_;
  ProcessInfo process_;
  SystemClock clock_;  // outlives every agent and queue
  std::unique_ptr<NetStack> net_;
  std::unique_ptr<HttpServer> server_;
  std::string host_;
  int port_ = 0;
  mutable std::mutex agent_mutex_;
  std::shared_ptr<Agent> agent_;  // guarded by agent_mutex_; the server's handlers read it
};

}  // namespace metricsd
