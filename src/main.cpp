// metricsd entry point: flags, configuration, signals, and the agent's lifetime.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/logging.h"
#include "agent/systemd_notify.h"
#include "cli/flags.h"
#include "config/config_loader.h"
#include "core/version.h"
#include "formats/prometheus_text_writer.h"
#include "net/net_module.h"
#include "server/http_server.h"

namespace {

using metricsd::Agent;
using metricsd::config::Loaded;

constexpr int kExitConfig = 1;
constexpr int kExitUsage = 2;
constexpr int kExitStartup = 3;

// The network module (shippers, scrapes: libcurl and OpenSSL), loaded the first time a
// configuration needs it, on the main thread before the agent starts threads, and kept for
// the process's life. A pull-only metricsd never loads it, which saves megabytes of
// resident memory; a reload that adds the first shipper loads it then.
class NetStack {
 public:
  metricsd::Status LoadFor(const metricsd::config::Config& config) {
    if (net_ || !metricsd::NeedsNetwork(config)) {
      return {};
    }
    auto loaded = metricsd::LoadNetModule();
    if (!loaded.ok()) {
      return metricsd::Error{loaded.error()};
    }
    net_ = std::move(*loaded);
    return {};
  }
  const std::shared_ptr<const metricsd::NetApi>& get() const noexcept { return net_; }

 private:
  std::shared_ptr<const metricsd::NetApi> net_;
};

struct ConfigChoice {
  std::string path;  // empty: embedded default
  bool explicit_path = false;
};

ConfigChoice ChooseConfig(const metricsd::Flags& flags) {
  if (flags.config_path) {
    return {*flags.config_path, true};
  }
  if (::access("config.json", F_OK) == 0) {
    return {"config.json", false};
  }
  return {};
}

metricsd::Result<Loaded> Load(const ConfigChoice& choice, const metricsd::Flags& flags) {
  auto loaded = choice.path.empty()
                    ? metricsd::config::LoadFromText(metricsd::config::kEmbeddedDefaultConfig,
                                                     "embedded default")
                    : metricsd::config::LoadFromFile(choice.path);
  if (loaded.ok() && flags.log_level) {
    loaded->config.log_level = *metricsd::config::ParseLogLevel(*flags.log_level);
  }
  return loaded;
}

std::string Describe(const Loaded& loaded) {
  const auto& c = loaded.config;
  std::string mode = c.shippers.empty() ? "pull mode (no shipper; serving /metrics only)"
                                        : std::to_string(c.shippers.size()) + " shipper(s)";
  return "metricsd " + std::string(metricsd::kVersion) + " starting with " +
         (loaded.source == "embedded default"
              ? std::string("the embedded default configuration (no -config and no ./config.json)")
              : "configuration " + loaded.source) +
         ": " + mode + ", interval " + std::to_string(c.collector.interval.count()) + "s";
}

void LogWarnings(const Loaded& loaded) {
  for (const std::string& w : loaded.warnings) {
    spdlog::warn("{}", w);
  }
}

// The running agent, swapped on reload; the server's callbacks read it.
class AgentSlot {
 public:
  std::shared_ptr<Agent> Get() const {
    std::lock_guard lock(mutex_);
    return agent_;
  }
  void Set(std::shared_ptr<Agent> agent) {
    std::lock_guard lock(mutex_);
    agent_ = std::move(agent);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<Agent> agent_;  // guarded by mutex_
};

// No wait for a second reading: a single collection reports CPU usage since boot.
int RunOnce(Agent& agent) {
  std::vector<metricsd::MetricFamily> families = agent.CollectOnce();
  std::string out;
  metricsd::AppendPrometheusText(families, out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : kExitStartup;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string program = argc > 0 ? argv[0] : "metricsd";
  auto flags = metricsd::ParseFlags(args);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n%s", flags.error().c_str(), metricsd::UsageText(program).c_str());
    return kExitUsage;
  }
  if (flags->help) {
    std::fputs(metricsd::UsageText(program).c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::printf("metricsd %s\n", metricsd::kVersion);
    return 0;
  }
  if (flags->log_level && !metricsd::config::ParseLogLevel(*flags->log_level)) {
    std::fprintf(stderr, "-log-level: unknown level \"%s\" (expected debug, info, warn or error)\n",
                 flags->log_level->c_str());
    return kExitUsage;
  }

  // Signals are taken synchronously by the main thread; block them before any thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  ConfigChoice choice = ChooseConfig(*flags);
  auto loaded = Load(choice, *flags);
  if (!loaded.ok()) {
    std::fprintf(stderr, "metricsd: %s\n", loaded.error().c_str());
    return kExitConfig;
  }
  metricsd::SetUpLogging(loaded->config.log_level, loaded->config.log_format);
  if (!flags->positional.empty()) {
    spdlog::warn("ignoring unexpected arguments starting with \"{}\"", flags->positional.front());
  }

  NetStack net;
  if (auto loaded_net = net.LoadFor(loaded->config); !loaded_net.ok()) {
    spdlog::error("cannot start: {}", loaded_net.error());
    return kExitStartup;
  }
  if (flags->check_config) {
    for (const std::string& w : loaded->warnings) {
      std::fprintf(stderr, "warning: %s\n", w.c_str());
    }
    if (auto shippers = metricsd::ValidateShippers(loaded->config, net.get().get());
        !shippers.ok()) {
      std::fprintf(stderr, "metricsd: invalid configuration (%s):\n  %s\n", loaded->source.c_str(),
                   shippers.error().c_str());
      return kExitConfig;
    }
    std::string rendered = metricsd::config::RenderEffectiveConfig(loaded->config);
    std::fputs(rendered.c_str(), stdout);
    std::fprintf(stderr, "configuration %s is valid\n", loaded->source.c_str());
    return 0;
  }

  metricsd::ProcessInfo process{.started = std::chrono::steady_clock::now(),
                                .config_source = loaded->source};
  metricsd::HostPaths paths = metricsd::HostPaths::FromEnvironment();
  if (flags->once) {
    LogWarnings(*loaded);
    try {
      Agent agent(loaded->config, paths, process, net.get());
      return RunOnce(agent);
    } catch (const metricsd::ConfigError& e) {
      spdlog::error("invalid configuration ({}): {}", loaded->source, e.what());
      return kExitConfig;
    } catch (const std::exception& e) {
      spdlog::error("cannot start: {}", e.what());
      return kExitStartup;
    }
  }

  spdlog::info("{}", Describe(*loaded));
  LogWarnings(*loaded);
  if (paths.proc != "/proc" || paths.sys != "/sys" || paths.root != "/") {
    spdlog::info("reading the host through HOST_PROC={} HOST_SYS={} HOST_ROOT={}", paths.proc,
                 paths.sys, paths.root);
  }

  AgentSlot slot;
  std::shared_ptr<Agent> agent;
  try {
    agent = std::make_shared<Agent>(loaded->config, paths, process, net.get());
  } catch (const metricsd::ConfigError& e) {
    spdlog::error("invalid configuration ({}): {}", loaded->source, e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return kExitStartup;
  }
  slot.Set(agent);

  metricsd::HttpServer server(metricsd::ServerHandlers{
      .render_metrics = [&slot] { return slot.Get()->RenderMetrics(); },
      .health = [&slot] { return slot.Get()->Health(); },
  });
  std::string host = loaded->config.server.host;
  int port = loaded->config.server.port;
  if (auto bound = server.Bind(host, port); !bound.ok()) {
    spdlog::error("{}", bound.error());
    return kExitStartup;
  }
  server.Start();
  spdlog::info("serving /health and /metrics on {}:{}", host.empty() ? "0.0.0.0" : host, port);
  agent->Start();
  // systemd (Type=notify): harmless when NOTIFY_SOCKET is unset.
  metricsd::SystemdNotifier notifier;
  notifier.Ready("serving on " + (host.empty() ? std::string("0.0.0.0") : host) + ":" +
                 std::to_string(port));
  // With WatchdogSec set, wake up often enough to keep the watchdog fed.
  std::optional<std::chrono::microseconds> watchdog = notifier.WatchdogInterval();
  timespec wake{.tv_sec = 30, .tv_nsec = 0};
  if (watchdog) {
    auto every = std::min<std::chrono::microseconds>(*watchdog / 4, std::chrono::seconds(30));
    every = std::max<std::chrono::microseconds>(every, std::chrono::milliseconds(100));
    wake.tv_sec = static_cast<time_t>(every.count() / 1'000'000);
    wake.tv_nsec = static_cast<long>((every.count() % 1'000'000) * 1000);
  }

  metricsd::config::Config running = loaded->config;
  int exit_code = 0;
  for (;;) {
    int signal_number = watchdog ? sigtimedwait(&signals, nullptr, &wake) : 0;
    if (!watchdog && sigwait(&signals, &signal_number) != 0) {
      continue;
    }
    if (signal_number < 0) {
      if (errno == EAGAIN) {
        notifier.KickWatchdog();
      }
      continue;
    }
    if (signal_number == SIGHUP) {
      spdlog::info("SIGHUP: reloading configuration");
      notifier.Reloading();
      auto reloaded = Load(choice, *flags);
      // Checked before the running agent is stopped, so a bad file costs no collection.
      if (reloaded.ok()) {
        if (auto loaded_net = net.LoadFor(reloaded->config); !loaded_net.ok()) {
          reloaded = metricsd::Error{loaded_net.error()};
        } else if (auto shippers = metricsd::ValidateShippers(reloaded->config, net.get().get());
                   !shippers.ok()) {
          reloaded = metricsd::Error{shippers.error()};
        }
      }
      if (!reloaded.ok()) {
        spdlog::error("reload failed, keeping the running configuration: {}", reloaded.error());
        notifier.Ready("reload failed; running configuration kept");
        continue;
      }
      LogWarnings(*reloaded);
      if (reloaded->config.server.host != host || reloaded->config.server.port != port) {
        spdlog::warn(
            "server.host/server.port changed; that needs a restart (still serving on "
            "{}:{})",
            host, port);
      }
      agent->Stop();
      std::shared_ptr<Agent> next;
      try {
        next = std::make_shared<Agent>(reloaded->config, paths, process, net.get());
      } catch (const std::exception& e) {
        spdlog::error("reload failed, keeping the running configuration: {}", e.what());
        agent->Start();
        notifier.Ready("reload failed; running configuration kept");
        continue;
      }
      metricsd::SetUpLogging(reloaded->config.log_level, reloaded->config.log_format);
      slot.Set(next);
      agent = next;
      agent->Start();
      running = reloaded->config;
      spdlog::info("configuration reloaded from {}", reloaded->source);
      notifier.Ready("configuration reloaded");
      continue;
    }
    spdlog::info("{}: shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    notifier.Stopping();
    break;
  }
  agent->Stop();
  server.Stop();
  spdlog::info("metricsd stopped");
  return exit_code;
}
