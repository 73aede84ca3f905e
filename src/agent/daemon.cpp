#include "agent/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>
#include <vector>

#include "agent/logging.h"
#include "agent/systemd_notify.h"
#include "core/version.h"
#include "formats/prometheus_text_writer.h"
#include "net/net_module.h"

namespace metricsd {

// The network module (shippers, scrapes: libcurl and OpenSSL), loaded the first time a
// configuration needs it, on the main thread before the agent starts threads, and kept for
// the process's life. A pull-only metricsd never loads it, which saves megabytes of
// resident memory; a reload that adds the first shipper loads it then.
class Daemon::NetStack {
 public:
  Status LoadFor(const config::Config& config) {
    if (net_ || !NeedsNetwork(config)) {
      return {};
    }
    auto loaded = LoadNetModule();
    if (!loaded.ok()) {
      return Error{loaded.error()};
    }
    net_ = std::move(*loaded);
    return {};
  }
  const std::shared_ptr<const NetApi>& get() const noexcept { return net_; }

 private:
  std::shared_ptr<const NetApi> net_;
};

namespace {

Result<config::Loaded> LoadChoice(const ConfigChoice& choice) {
  auto loaded = choice.path.empty()
                    ? config::LoadFromText(config::kEmbeddedDefaultConfig, "embedded default")
                    : config::LoadFromFile(choice.path);
  if (loaded.ok() && choice.log_level) {
    loaded->config.log_level = *config::ParseLogLevel(*choice.log_level);
  }
  return loaded;
}

std::string Describe(const config::Loaded& loaded) {
  const auto& c = loaded.config;
  std::string mode = c.shippers.empty() ? "pull mode (no shipper; serving /metrics only)"
                                        : std::to_string(c.shippers.size()) + " shipper(s)";
  return "metricsd " + std::string(kVersion) + " starting with " +
         (loaded.source == "embedded default"
              ? std::string("the embedded default configuration (no -config and no ./config.json)")
              : "configuration " + loaded.source) +
         ": " + mode + ", interval " + std::to_string(c.collector.interval.count()) + "s";
}

void LogWarnings(const config::Loaded& loaded) {
  for (const std::string& w : loaded.warnings) {
    spdlog::warn("{}", w);
  }
}

std::string Address(const std::string& host, int port) {
  return (host.empty() ? std::string("0.0.0.0") : host) + ":" + std::to_string(port);
}

}  // namespace

ConfigChoice ChooseConfig(const Flags& flags) {
  ConfigChoice choice{.log_level = flags.log_level};
  if (flags.config_path) {
    choice.path = *flags.config_path;
  } else if (::access("config.json", F_OK) == 0) {
    choice.path = "config.json";
  }
  return choice;
}

int CheckConfig(const ConfigChoice& choice) {
  auto loaded = LoadChoice(choice);
  if (!loaded.ok()) {
    std::fprintf(stderr, "metricsd: %s\n", loaded.error().c_str());
    return kExitConfig;
  }
  for (const std::string& w : loaded->warnings) {
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  }
  std::shared_ptr<const NetApi> net;
  if (NeedsNetwork(loaded->config)) {
    auto module = LoadNetModule();
    if (!module.ok()) {
      std::fprintf(stderr, "metricsd: cannot start: %s\n", module.error().c_str());
      return kExitStartup;
    }
    net = std::move(*module);
  }
  Status network = ValidateNetworkSettings(loaded->config, net.get());
  if (network.ok()) {
    if (auto security = MakeServerSecurity(loaded->config.server, net.get()); !security.ok()) {
      network = Error{security.error()};
    }
  }
  if (!network.ok()) {
    std::fprintf(stderr, "metricsd: invalid configuration (%s):\n  %s\n", loaded->source.c_str(),
                 network.error().c_str());
    return kExitConfig;
  }
  std::fputs(config::RenderEffectiveConfig(loaded->config).c_str(), stdout);
  std::fprintf(stderr, "configuration %s is valid\n", loaded->source.c_str());
  return 0;
}

int CollectOnce(const ConfigChoice& choice, const HostPaths& paths) {
  auto loaded = LoadChoice(choice);
  if (!loaded.ok()) {
    std::fprintf(stderr, "metricsd: %s\n", loaded.error().c_str());
    return kExitConfig;
  }
  SetUpLogging(loaded->config.log_level, loaded->config.log_format);
  LogWarnings(*loaded);
  std::shared_ptr<const NetApi> net;
  if (NeedsNetwork(loaded->config)) {
    auto module = LoadNetModule();
    if (!module.ok()) {
      spdlog::error("cannot start: {}", module.error());
      return kExitStartup;
    }
    net = std::move(*module);
  }
  // -once ships nothing, so the agent is built without shippers (and opens no queue).
  loaded->config.shippers.clear();
  SystemClock clock;
  try {
    Agent agent(
        loaded->config, paths,
        ProcessInfo{.started = std::chrono::steady_clock::now(), .config_source = loaded->source},
        clock, net);
    // No wait for a second reading: a single collection reports CPU usage since boot.
    std::string out;
    AppendPrometheusText(agent.CollectOnce(), out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : kExitStartup;
  } catch (const ConfigError& e) {
    spdlog::error("invalid configuration ({}): {}", loaded->source, e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return kExitStartup;
  }
}

Daemon::Daemon(ConfigChoice choice, HostPaths paths)
    : choice_(std::move(choice)), paths_(std::move(paths)), net_(std::make_unique<NetStack>()) {}

Daemon::~Daemon() { Stop(); }

Result<config::Loaded> Daemon::Load() const { return LoadChoice(choice_); }

Result<config::Loaded> Daemon::LoadAndValidate() {
  auto loaded = Load();
  if (!loaded.ok()) {
    return loaded;
  }
  if (Status net = net_->LoadFor(loaded->config); !net.ok()) {
    return Error{net.error()};
  }
  if (Status shippers = ValidateNetworkSettings(loaded->config, net_->get().get());
      !shippers.ok()) {
    return Error{"invalid configuration (" + loaded->source + "): " + shippers.error()};
  }
  return loaded;
}

std::shared_ptr<Agent> Daemon::agent() const {
  std::lock_guard lock(agent_mutex_);
  return agent_;
}

std::optional<Daemon::StartError> Daemon::Start() {
  auto loaded = Load();
  if (!loaded.ok()) {
    // Errors go to stderr in the default format, as every later log line would.
    SetUpLogging(config::LogLevel::kInfo, config::LogFormat::kText);
    return StartError{kExitConfig, loaded.error()};
  }
  SetUpLogging(loaded->config.log_level, loaded->config.log_format);
  if (Status net = net_->LoadFor(loaded->config); !net.ok()) {
    return StartError{kExitStartup, "cannot start: " + net.error()};
  }
  spdlog::info("{}", Describe(*loaded));
  LogWarnings(*loaded);
  if (paths_.proc != "/proc" || paths_.sys != "/sys" || paths_.root != "/") {
    spdlog::info("reading the host through HOST_PROC={} HOST_SYS={} HOST_ROOT={}", paths_.proc,
                 paths_.sys, paths_.root);
  }
  process_ =
      ProcessInfo{.started = std::chrono::steady_clock::now(), .config_source = loaded->source};
  std::shared_ptr<Agent> agent;
  try {
    agent = std::make_shared<Agent>(loaded->config, paths_, process_, clock_, net_->get());
  } catch (const ConfigError& e) {
    return StartError{kExitConfig, "invalid configuration (" + loaded->source + "): " + e.what()};
  } catch (const std::exception& e) {
    return StartError{kExitStartup, std::string("cannot start: ") + e.what()};
  }
  {
    std::lock_guard lock(agent_mutex_);
    agent_ = agent;
  }
  auto security = MakeServerSecurity(loaded->config.server, net_->get().get());
  if (!security.ok()) {
    return StartError{kExitConfig,
                      "invalid configuration (" + loaded->source + "): " + security.error()};
  }
  server_ = std::make_unique<HttpServer>(
      ServerHandlers{
          .metrics = [this](bool gzip) { return this->agent()->Metrics(gzip); },
          .health = [this] { return this->agent()->Health(); },
          .status =
              [this](bool json) {
                StatusView view = this->agent()->GatherStatus();
                return json ? RenderStatusJson(view) : RenderStatusHtml(view);
              },
      },
      ServerLimits{}, std::move(*security));
  host_ = loaded->config.server.host;
  port_ = loaded->config.server.port;
  if (Status bound = server_->Bind(host_, port_); !bound.ok()) {
    server_.reset();
    return StartError{kExitStartup, bound.error()};
  }
  server_->Start();
  spdlog::info("serving /, /health and /metrics on {}{}", Address(host_, server_->port()),
               loaded->config.server.tls.enabled() ? " (HTTPS)" : "");
  agent->Start();
  return std::nullopt;
}

Status Daemon::Reload() {
  auto reloaded = LoadAndValidate();
  if (!reloaded.ok()) {
    return Error{reloaded.error()};
  }
  LogWarnings(*reloaded);
  if (reloaded->config.server.host != host_ || reloaded->config.server.port != port_) {
    spdlog::warn("server.host/server.port changed; that needs a restart (still serving on {})",
                 Address(host_, server_ ? server_->port() : port_));
  }
  // Built once: this is also the check of the server's settings.
  auto security = MakeServerSecurity(reloaded->config.server, net_->get().get());
  if (!security.ok()) {
    return Error{"invalid configuration (" + reloaded->source + "): " + security.error()};
  }
  std::shared_ptr<Agent> old = agent();
  // Collection pauses for the switch; the queues keep sending throughout.
  old->StopCollection();
  std::shared_ptr<Agent> next;
  ProcessInfo process = process_;
  process.config_source = reloaded->source;
  try {
    next = std::make_shared<Agent>(reloaded->config, paths_, process, clock_, net_->get(),
                                   old->queues());
  } catch (const std::exception& e) {
    old->Start();
    return Error{e.what()};
  }
  process_ = std::move(process);
  SetUpLogging(reloaded->config.log_level, reloaded->config.log_format);
  {
    std::lock_guard lock(agent_mutex_);
    agent_ = next;
  }
  next->InheritSeries(*old);
  next->InheritHistory(*old);
  next->Start();
  if (server_) {
    server_->SetSecurity(std::move(*security));
  }
  // The old agent goes when the last server request using it ends; the queues it alone
  // held (shippers removed by the reload) close then, their data kept on disk.
  old.reset();
  spdlog::info("configuration reloaded from {}", reloaded->source);
  return {};
}

void Daemon::Stop() {
  if (std::shared_ptr<Agent> running = agent()) {
    running->Stop();
  }
  if (server_) {
    server_->Stop();
  }
}

std::optional<std::string> Daemon::Stalled() const {
  const auto now = std::chrono::steady_clock::now();
  if (server_) {
    if (auto busy = server_->progress().StalledFor(now)) {
      return "server thread: one pass has run for " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*busy).count()) + "s";
    }
  }
  if (std::shared_ptr<Agent> running = agent()) {
    return running->Stalled(now);
  }
  return std::nullopt;
}

int Daemon::Run() {
  // Signals are taken synchronously by this thread; blocked before any thread exists, so
  // every thread started later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (auto failed = Start()) {
    spdlog::error("{}", failed->message);
    return failed->exit_code;
  }
  // systemd (Type=notify): harmless when NOTIFY_SOCKET is unset.
  SystemdNotifier notifier;
  notifier.Ready("serving on " + Address(host_, server_->port()));
  // With WatchdogSec set, wake up often enough to keep the watchdog fed; a kick is sent only
  // while every thread makes progress.
  std::optional<std::chrono::microseconds> watchdog = notifier.WatchdogInterval();
  auto every = std::chrono::microseconds(std::chrono::seconds(30));
  if (watchdog) {
    every = std::clamp<std::chrono::microseconds>(*watchdog / 4, std::chrono::milliseconds(100),
                                                  std::chrono::seconds(30));
  }
  const timespec wake{.tv_sec = static_cast<time_t>(every.count() / 1'000'000),
                      .tv_nsec = static_cast<long>((every.count() % 1'000'000) * 1000)};
  std::optional<std::string> reported_stall;
  for (;;) {
    const int signal_number = sigtimedwait(&signals, nullptr, &wake);
    if (signal_number < 0) {
      if (errno != EAGAIN) {
        continue;  // EINTR
      }
      std::optional<std::string> stalled = Stalled();
      if (stalled && stalled != reported_stall) {
        spdlog::error("{}; no longer feeding the watchdog", *stalled);
        notifier.Status("stalled: " + *stalled);
      } else if (!stalled && reported_stall) {
        spdlog::info("every thread makes progress again");
        notifier.Status("serving on " + Address(host_, server_->port()));
      }
      reported_stall = std::move(stalled);
      if (!reported_stall) {
        notifier.KickWatchdog();
      }
      continue;
    }
    if (signal_number == SIGHUP) {
      spdlog::info("SIGHUP: reloading configuration");
      notifier.Reloading();
      if (Status reloaded = Reload(); !reloaded.ok()) {
        spdlog::error("reload failed, keeping the running configuration: {}", reloaded.error());
        notifier.Ready("reload failed; running configuration kept");
      } else {
        notifier.Ready("configuration reloaded");
      }
      continue;
    }
    spdlog::info("{}: shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    notifier.Stopping();
    break;
  }
  Stop();
  spdlog::info("metricsd stopped");
  return 0;
}

}  // namespace metricsd
