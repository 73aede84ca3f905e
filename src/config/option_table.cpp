#include "config/option_table.h"

#include <memory>

#include "config/config_rows.h"
#include "core/metric.h"

namespace metricsd::config {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr EnumName<TlsVersion> kTlsVersionNames[] = {
    {"TLS1.0", TlsVersion::kTls10},      {"TLS1.1", TlsVersion::kTls11},
    {"TLS1.2", TlsVersion::kTls12},      {"TLS1.3", TlsVersion::kTls13},
    {"TLS10", TlsVersion::kTls10, true}, {"TLS11", TlsVersion::kTls11, true},
    {"TLS12", TlsVersion::kTls12, true}, {"TLS13", TlsVersion::kTls13, true},
    {"1.0", TlsVersion::kTls10, true},   {"1.1", TlsVersion::kTls11, true},
    {"1.2", TlsVersion::kTls12, true},   {"1.3", TlsVersion::kTls13, true}};

constexpr EnumName<ClientAuth> kClientAuthNames[] = {
    {"NoClientCert", ClientAuth::kNoClientCert},
    {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert}};

constexpr EnumName<ScrapeFormat> kScrapeFormatNames[] = {
    {"auto", ScrapeFormat::kAuto},
    {"prometheus", ScrapeFormat::kPrometheusText},
    {"openmetrics", ScrapeFormat::kOpenMetrics},
    {"json", ScrapeFormat::kJson},
    {"", ScrapeFormat::kAuto, true},
    {"text", ScrapeFormat::kPrometheusText, true}};

constexpr EnumName<MetricNaming> kMetricNamingNames[] = {
    {"metricsd", MetricNaming::kMetricsd},
    {"node_exporter", MetricNaming::kNodeExporter},
    {"both", MetricNaming::kBoth}};
constexpr EnumName<LogFormat> kLogFormatNames[] = {{"text", LogFormat::kText},
                                                   {"json", LogFormat::kJson}};

Codec<TlsVersion> TlsVersionCodec() {
  return EnumCodec<TlsVersion>(kTlsVersionNames, "TLS version", "tls-version");
}

using StringMap = std::map<std::string, std::string>;

std::vector<OptionRow<TlsOptions>> TlsRows() {
  using T = TlsOptions;
  return {
      Field<T>(
          "enabled", Member(&T::enabled), BoolCodec(),
          {.env = "MC_TLS_ENABLED", .help = "Apply the TLS settings below to https:// endpoints."}),
      Field<T>("ca_file", Member(&T::ca_file), StringCodec(),
               {.env = "MC_TLS_CA_FILE",
                .help = "PEM bundle of CAs trusted for the server certificate.",
                .shown_default = "system roots"}),
      Field<T>("cert_file", Member(&T::cert_file), StringCodec(),
               {.env = "MC_TLS_CERT_FILE",
                .help = "PEM client certificate for mutual TLS (needs key_file)."}),
      Field<T>("key_file", Member(&T::key_file), StringCodec(),
               {.env = "MC_TLS_KEY_FILE", .help = "PEM private key of the client certificate."}),
      Field<T>("server_name", Member(&T::server_name), StringCodec(),
               {.env = "MC_TLS_SERVER_NAME",
                .help = "Name sent as SNI and required in the server certificate."}),
      Field<T>("min_version", Member(&T::min_version), TlsVersionCodec(),
               {.env = "MC_TLS_MIN_VERSION",
                .help = "Lowest TLS version: TLS1.0, TLS1.1, TLS1.2 or TLS1.3."}),
      Field<T>("max_version", Member(&T::max_version), TlsVersionCodec(),
               {.env = "MC_TLS_MAX_VERSION", .help = "Highest TLS version."}),
      Field<T>("cipher_suites", Member(&T::cipher_suites), StringListCodec(),
               {.help = "Allowed cipher suites, IANA names (TLS 1.2 and 1.3).",
                .shown_default = "OpenSSL defaults"}),
      Field<T>("session_tickets", Member(&T::session_tickets), BoolCodec(),
               {.help = "Allow TLS session ticket resumption."}),
      Field<T>("insecure_skip_verify", Member(&T::insecure_skip_verify), BoolCodec(),
               {.env = "MC_TLS_INSECURE_SKIP_VERIFY",
                .help = "Do not verify the server certificate (testing only; logged loudly)."}),
  };
}

std::vector<OptionRow<HttpAuth>> AuthRows() {
  using A = HttpAuth;
  return {
      Field<A>("basic_auth.username", Member(&A::basic_auth, &BasicAuth::username), StringCodec(),
               {.help = "HTTP basic auth user."}),
      Field<A>("basic_auth.password", Member(&A::basic_auth, &BasicAuth::password), SecretCodec(),
               {.help = "HTTP basic auth password."}),
      Field<A>("basic_auth.password_file", Member(&A::basic_auth, &BasicAuth::password_file),
               StringCodec(),
               {.help = "File holding the basic auth password (re-read on reload)."}),
      Field<A>("bearer_token", Member(&A::bearer_token), SecretCodec(),
               {.help = "Sent as Authorization: Bearer."}),
      Field<A>("bearer_token_file", Member(&A::bearer_token_file), StringCodec(),
               {.help = "File holding the bearer token (re-read on reload)."}),
      Field<A>("headers", Member(&A::headers), StringMapCodec(MapValues::kHeaders),
               {.help = "Extra request headers, e.g. X-Scope-OrgID. Protocol headers cannot be "
                        "replaced."}),
  };
}

// The Prometheus scrape limits, as scrape.* and as an endpoint's own keys.
template <typename Root, typename Access>
void AddScrapeLimitRows(std::vector<OptionRow<Root>>& rows, std::string_view prefix, Access limits,
                        bool per_endpoint) {
  struct Limit {
    std::string_view key;
    std::size_t ScrapeLimits::*member;
    std::string_view help;           // scrape.*
    std::string_view endpoint_help;  // endpoints[].*
    std::string_view global_key;     // what an endpoint falls back to
  };
  static constexpr Limit kLimits[] = {
      {"sample_limit", &ScrapeLimits::sample_limit,
       "Most samples one scrape may return; with more, the scrape fails: none of its samples "
       "are stored, and its series go stale. 0: no limit.",
       "This endpoint's scrape.sample_limit; unset: the global value.", "scrape.sample_limit"},
      {"label_limit", &ScrapeLimits::label_limit,
       "Most labels one sample may carry; with more, the scrape fails: none of its samples are "
       "stored, and its series go stale. 0: no limit.",
       "This endpoint's scrape.label_limit; unset: the global value.", "scrape.label_limit"},
      {"label_name_length_limit", &ScrapeLimits::label_name_length_limit,
       "Longest label name, in bytes; with a longer one, the scrape fails: none of its samples "
       "are stored, and its series go stale. 0: no limit.",
       "This endpoint's scrape.label_name_length_limit; unset: the global value.",
       "scrape.label_name_length_limit"},
      {"label_value_length_limit", &ScrapeLimits::label_value_length_limit,
       "Longest label value, in bytes; with a longer one, the scrape fails: none of its "
       "samples are stored, and its series go stale. 0: no limit.",
       "This endpoint's scrape.label_value_length_limit; unset: the global value.",
       "scrape.label_value_length_limit"},
      {"line_length_limit", &ScrapeLimits::line_length_limit,
       "Longest line of a text or OpenMetrics body, in bytes; with a longer one, the scrape "
       "fails: none of its samples are stored, and its series go stale. 0: no limit.",
       "This endpoint's scrape.line_length_limit; unset: the global value.",
       "scrape.line_length_limit"},
  };
  for (const Limit& limit : kLimits) {
    auto field = [ limits, member = limit.member ](auto& root) -> auto& {
      return limits(root).*member;
    };
    Doc doc{.help = per_endpoint ? limit.endpoint_help : limit.help};
    if (per_endpoint) {
      doc.shown_default = limit.global_key;
    }
    rows.push_back(Field<Root>(std::string(prefix) + std::string(limit.key), field,
                               IntegerCodec<std::size_t>(), doc));
  }
}

void CheckGlobalLabels(const StringMap& labels, const std::string& path, Diagnostics& diag) {
  if (labels.contains("instance")) {
    diag.Error(path + ".instance",
               "set the instance key (or MC_INSTANCE) instead; it is added to every shipped "
               "sample");
  }
  for (const auto& [name, value] : labels) {
    if (!IsValidLabelName(name) || name.starts_with("__")) {
      diag.Error(path + "." + name, "is not a valid label name");
    }
    if (value.empty()) {
      diag.Error(path + "." + name, "must not be empty");
    }
  }
}

void CheckEndpointLabels(const StringMap& labels, const std::string& path, Diagnostics& diag) {
  for (const auto& [name, value] : labels) {
    if (!IsValidLabelName(name) || name.starts_with("__")) {
      diag.Error(path + "." + name, "is not a valid label name");
    }
    if (name == "endpoint") {
      diag.Error(path + ".endpoint", "is set by metricsd from the endpoint name");
    }
  }
}

}  // namespace

std::vector<OptionRow<Config>> ConfigRows() {
  using C = Config;
  using S = ServerOptions;
  using K = CollectorOptions;
  auto server_tls = [](auto member) { return Member(&C::server, &S::tls, member); };
  auto filesystems = [](auto member) { return Member(&C::collector, &K::filesystems, member); };
  std::vector<OptionRow<C>> rows = {
      Field<C>("server.host", Member(&C::server, &S::host), StringCodec(),
               {.env = "MC_SERVER_HOST",
                .help = "Address the /health and /metrics server binds to (\"::\" for IPv6)."}),
      Field<C>("server.port", Member(&C::server, &S::port), IntegerCodec<int>(),
               {.env = "MC_SERVER_PORT", .help = "Port of the server, 1-65535."},
               Between(1, 65535)),
      Field<C>("server.health_degraded_after", Member(&C::server, &S::health_degraded_after),
               DurationCodec<seconds>(),
               {.help = "/health reports \"degraded\" when a shipper has not succeeded for this "
                        "long."},
               PositiveDuration<seconds>()),
      Field<C>("server.tls.cert_file", server_tls(&ServerTlsOptions::cert_file), StringCodec(),
               {.env = "MC_SERVER_TLS_CERT_FILE",
                .help = "PEM certificate (chain) of the server; set: the endpoint speaks only "
                        "HTTPS. Replaced files are picked up within a second."}),
      Field<C>("server.tls.key_file", server_tls(&ServerTlsOptions::key_file), StringCodec(),
               {.env = "MC_SERVER_TLS_KEY_FILE",
                .help = "PEM private key of server.tls.cert_file (unencrypted)."}),
      Field<C>("server.tls.client_ca_file", server_tls(&ServerTlsOptions::client_ca_file),
               StringCodec(),
               {.env = "MC_SERVER_TLS_CLIENT_CA_FILE",
                .help = "PEM CA bundle that client certificates must chain to (mTLS)."}),
      Field<C>("server.tls.client_auth_type", server_tls(&ServerTlsOptions::client_auth_type),
               OptionalEnumCodec<ClientAuth>(kClientAuthNames, "value"),
               {.help = "NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert; "
                        "unset: RequireAndVerifyClientCert with a client CA, else NoClientCert."}),
      Field<C>("server.tls.min_version", server_tls(&ServerTlsOptions::min_version),
               TlsVersionCodec(), {.help = "Lowest TLS version the server accepts."}),
      Field<C>("server.basic_auth_users", Member(&C::server, &S::basic_auth_users),
               StringMapCodec(MapValues::kRedacted),
               {.help = "User name to bcrypt hash ($2y$...); set: every request needs basic "
                        "auth."}),
      Field<C>("server.probes_skip_auth", Member(&C::server, &S::probes_skip_auth), BoolCodec(),
               {.help = "/health and /ready answer without basic auth or a client certificate."}),
      Field<C>(
          "collector.interval_seconds", Member(&C::collector, &K::interval), IntegerSecondsCodec(),
          {.env = "MC_COLLECTOR_INTERVAL", .help = "Seconds between collection cycles, 1-86400."},
          [](const seconds& interval, const std::string& path, Diagnostics& diag) {
            Between<long long>(1, 86400)(interval.count(), path, diag);
          }),
      Field<C>("collector.naming", Member(&C::collector, &K::naming),
               EnumCodec<MetricNaming>(kMetricNamingNames, "naming"),
               {.env = "MC_COLLECTOR_NAMING",
                .help = "Host metric names: metricsd (system_*), node_exporter (node_exporter "
                        "1.5's node_* names, labels and units) or both (docs/node-exporter.md)."}),
      Field<C>("collector.enable_cpu", Member(&C::collector, &K::enable_cpu), BoolCodec(),
               {.help = "CPU usage per core and in total."}),
      Field<C>("collector.enable_memory", Member(&C::collector, &K::enable_memory), BoolCodec(),
               {.help = "Memory and swap."}),
      Field<C>("collector.enable_disk", Member(&C::collector, &K::enable_disk), BoolCodec(),
               {.help = "Filesystem usage and disk I/O."}),
      Field<C>("collector.enable_network", Member(&C::collector, &K::enable_network), BoolCodec(),
               {.help = "Network interface counters."}),
      Field<C>("collector.enable_gpu", Member(&C::collector, &K::enable_gpu), BoolCodec(),
               {.help = "NVIDIA GPUs through NVML."}),
      Field<C>("collector.enable_host", Member(&C::collector, &K::enable_host), BoolCodec(),
               {.help = "Uptime, boot time, load averages and process counts."}),
      Field<C>("collector.enable_pressure", Member(&C::collector, &K::enable_pressure), BoolCodec(),
               {.help = "Pressure stall information (/proc/pressure) where the kernel has it."}),
      Field<C>("collector.filesystems.mountpoint_include",
               filesystems(&FilesystemOptions::mountpoint_include), RegexCodec(),
               {.help = "Only mountpoints matching this expression are reported."}),
      Field<C>("collector.filesystems.mountpoint_exclude",
               filesystems(&FilesystemOptions::mountpoint_exclude), RegexCodec(),
               {.help = "Mountpoints matching this expression are skipped."}),
      Field<C>("collector.filesystems.fstype_include",
               filesystems(&FilesystemOptions::fstype_include), RegexCodec(),
               {.help = "Only filesystem types matching this expression are reported."}),
      Field<C>("collector.filesystems.fstype_exclude",
               filesystems(&FilesystemOptions::fstype_exclude), RegexCodec(),
               {.help = "Filesystem types matching this expression are skipped (tmpfs, proc, "
                        "overlay, squashfs ...).",
                .shown_default = "pseudo and virtual types"}),
      Field<C>("collector.filesystems.statfs_timeout",
               filesystems(&FilesystemOptions::statfs_timeout), DurationCodec<milliseconds>(),
               {.help = "A mount whose statfs takes longer is marked stuck and skipped until it "
                        "answers."},
               PositiveDuration<milliseconds>()),
      Field<C>("collector.disk_io.device_include",
               Member(&C::collector, &K::disk_io, &DiskIoOptions::device_include), RegexCodec(),
               {.help = "Only block devices matching this expression are reported."}),
      Field<C>("collector.disk_io.device_exclude",
               Member(&C::collector, &K::disk_io, &DiskIoOptions::device_exclude), RegexCodec(),
               {.help = "Block devices matching this expression are skipped.",
                .shown_default = "partitions, loop, ram, fd, sr"}),
      Field<C>("collector.network.interface_include",
               Member(&C::collector, &K::network, &NetworkOptions::interface_include), RegexCodec(),
               {.help = "Only interfaces matching this expression are reported."}),
      Field<C>("collector.network.interface_exclude",
               Member(&C::collector, &K::network, &NetworkOptions::interface_exclude), RegexCodec(),
               {.help = "Interfaces matching this expression are skipped."}),
      Field<C>("collector.gpu.nvml_library",
               Member(&C::collector, &K::gpu, &GpuOptions::nvml_library), StringCodec(),
               {.help = "Path of the NVML library, for unusual driver installs.",
                .shown_default = "libnvidia-ml.so.1"}),
      Field<C>("collector.textfile.directory",
               Member(&C::collector, &K::textfile, &TextfileOptions::directory), StringCodec(),
               {.env = "MC_COLLECTOR_TEXTFILE_DIRECTORY",
                .help = "Directory whose *.prom files (Prometheus text) are read each cycle, "
                        "like node_exporter's textfile collector; empty: off."}),
      Field<C>("collector.textfile.max_files",
               Member(&C::collector, &K::textfile, &TextfileOptions::max_files),
               IntegerCodec<std::size_t>(),
               {.help = "Files read per cycle at most (in name order); more are an error."},
               AtLeast<std::size_t>(1)),
      Field<C>("collector.textfile.max_file_bytes",
               Member(&C::collector, &K::textfile, &TextfileOptions::max_file_bytes),
               IntegerCodec<std::size_t>(),
               {.help = "A larger *.prom file is skipped and reported as an error."},
               AtLeast<std::size_t>(1)),
      Field<C>("collector.metric_relabel_configs",
               Member(&C::collector, &K::metric_relabel_configs), RelabelRulesCodec(),
               {.help = "Prometheus relabel rules run on the host, GPU and textfile collectors' "
                        "samples each cycle, before they are served or shipped "
                        "(docs/relabeling.md)."}),
  };
  AddScrapeLimitRows<C>(rows, "scrape.", Member(&C::scrape_limits), false);
  std::vector<OptionRow<C>> tail = {
      Field<C>("global_labels", Member(&C::global_labels), StringMapCodec(MapValues::kShown),
               {.env = "MC_GLOBAL_LABELS",
                .help = "Labels added to every shipped sample, e.g. {\"cluster\": \"eu1\"}. The "
                        "variable takes name=value pairs separated by commas and adds to the "
                        "file's."},
               CheckGlobalLabels),
      Field<C>("instance", Member(&C::instance), OptionalStringCodec("<host name>"),
               {.env = "MC_INSTANCE",
                .help = "instance label of every shipped sample (a scraped sample's own becomes "
                        "exported_instance); empty in the file: none. /metrics never carries it.",
                .shown_default = "host name"}),
      Field<C>("ship_self_metrics", Member(&C::ship_self_metrics), BoolCodec(),
               {.help = "Ship metricsd's own metrics (metricsd_*, process_*) with each collection "
                        "cycle, so alerts on the agent's health work without scraping it."}),
      Field<C>("hostname_label", Member(&C::hostname_label), BoolCodec(),
               {.help = "Deprecated (instance is added by default): also add hostname=\"<host "
                        "name>\"."},
               [](const bool& on, const std::string&, Diagnostics& diag) {
                 if (on) {
                   diag.warnings.push_back(
                       "hostname_label is deprecated: every shipped sample now carries "
                       "instance=\"<host name>\" (the instance key); hostname_label still adds "
                       "hostname=\"<host name>\" as well");
                 }
               }),
      Field<C>("data_dir", Member(&C::data_dir), StringCodec(),
               {.env = "MC_DATA_DIR",
                .help = "Where shippers buffer unsent data.",
                .shown_default = "/var/lib/metricsd or ./data"}),
      Field<C>("log_level", Member(&C::log_level), EnumCodec<LogLevel>(kLogLevelNames, "level"),
               {.env = "MC_LOG_LEVEL", .help = "debug, info, warn or error."}),
      Field<C>("log_format", Member(&C::log_format),
               EnumCodec<LogFormat>(kLogFormatNames, "format"),
               {.env = "MC_LOG_FORMAT", .help = "text, or json for one JSON object per line."}),
  };
  // The rendered client_auth_type is the effective one, so -check-config shows what applies.
  for (OptionRow<C>& row : rows) {
    if (row.key == "server.tls.client_auth_type") {
      row.render = [](const Config& c) {
        return Json(ClientAuthName(c.server.tls.effective_client_auth()));
      };
    }
  }
  rows.insert(rows.end(), tail.begin(), tail.end());
  return rows;
}

std::vector<OptionRow<ShipperOptions>> ShipperRows() {
  using S = ShipperOptions;
  using Q = QueueOptions;
  auto queue = [](auto member) { return Member(&S::queue, member); };
  std::vector<OptionRow<S>> rows = {
      Field<S>("type", Member(&S::type), EnumCodec<ShipperType>(kShipperTypeNames, "shipper type"),
               {.env = "MC_SHIPPER_TYPE",
                .help = "prometheus_remote_write, http_json or influx_line. No shipper: pull mode.",
                .shown_default = ""}),
      Field<S>("endpoint", Member(&S::endpoint), UrlCodec(),
               {.env = "MC_SHIPPER_ENDPOINT", .help = "Receiver URL (http:// or https://)."}),
      Field<S>("timeout", Member(&S::timeout), DurationCodec<milliseconds>(),
               {.env = "MC_SHIPPER_TIMEOUT",
                .help = "Request timeout: a duration string (\"30s\") or integer nanoseconds."},
               DurationBetween<milliseconds>(milliseconds(1), minutes(10))),
  };
  Mount(rows, TlsRows(), "tls.", Member(&S::tls), /*keep_env=*/true);
  Mount(rows, AuthRows(), "", Member(&S::auth), /*keep_env=*/true);
  std::vector<OptionRow<S>> tail = {
      Field<S>("max_samples_per_request", Member(&S::max_samples_per_request),
               IntegerCodec<std::size_t>(),
               {.help = "Larger batches are split into several requests."},
               AtLeast<std::size_t>(1)),
      Field<S>("gzip", Member(&S::gzip), BoolCodec(),
               {.help = "Compress http_json bodies with gzip."}),
      Field<S>("reuse_compression", Member(&S::reuse_compression), BoolCodec(),
               {.help = "prometheus_remote_write: rebuild each request from the last cycle's "
                        "compression of the same series (less CPU, larger requests); false: "
                        "snappy compresses every request (smallest requests)."}),
      Field<S>("queue.max_disk_bytes", queue(&Q::max_disk_bytes), IntegerCodec<std::uint64_t>(),
               {.help = "On-disk buffer cap per shipper; the oldest data goes first when full."},
               AtLeast<std::uint64_t>(1 << 20, "(1 MiB)")),
      Field<S>("queue.max_memory_samples", queue(&Q::max_memory_samples),
               IntegerCodec<std::size_t>(),
               {.help = "Samples kept in memory per shipper; the rest waits on disk."},
               AtLeast<std::size_t>(1)),
      Field<S>("queue.min_backoff", queue(&Q::min_backoff), DurationCodec<milliseconds>(),
               {.help = "First retry delay."}),
      Field<S>("queue.max_backoff", queue(&Q::max_backoff), DurationCodec<milliseconds>(),
               {.help = "Longest retry delay."}),
      Field<S>("queue.retry_on_429", queue(&Q::retry_on_429), BoolCodec(),
               {.help = "Retry requests answered 429 Too Many Requests."}),
      Field<S>("queue.max_retry_after", queue(&Q::max_retry_after), DurationCodec<milliseconds>(),
               {.help = "Longest wait a receiver's Retry-After header can impose."}),
      Field<S>("queue.hold_on_status", queue(&Q::hold_on_status), IntListCodec(),
               {.help = "Statuses that hold the queue (nothing dropped, one probe per "
                        "max_backoff) until the configuration or a credential file changes."},
               [](const std::vector<int>& statuses, const std::string& path, Diagnostics& diag) {
                 for (std::size_t i = 0; i < statuses.size(); ++i) {
                   const int status = statuses[i];
                   // 413 splits and 429 retries: holding them would hide a receiver that
                   // wants less.
                   if (status < 400 || status > 599 || status == 413 || status == 429) {
                     diag.Error(path + "[" + std::to_string(i) + "]",
                                std::to_string(status) +
                                    " is not a 4xx or 5xx status other than 413 and 429");
                   }
                 }
               }),
      Field<S>("queue.fsync", queue(&Q::fsync), BoolCodec(),
               {.help = "fdatasync each queued batch, so the buffer also survives a power loss."}),
      Field<S>("queue.fsync_interval", queue(&Q::fsync_interval), DurationCodec<milliseconds>(),
               {.help = "Group commit: with fsync, sync at most once per interval (one sync "
                        "covers every batch since); a power loss can then cost up to this much. "
                        "0s: every batch."},
               DurationBetween<milliseconds>(milliseconds(0), hours(1))),
  };
  rows.insert(rows.end(), tail.begin(), tail.end());
  rows.push_back(Field<S>(
      "write_relabel_configs", Member(&S::write_relabel_configs), RelabelRulesCodec(),
      {.help = "Prometheus relabel rules run on each sample just before this shipper's queue, "
               "after the instance and global labels (docs/relabeling.md)."}));
  return rows;
}

std::vector<OptionRow<ShipperOptions>> ShipperListRows() {
  return {Field<ShipperOptions>(
      "name", Member(&ShipperOptions::name), StringCodec(),
      {.help = "Several receivers: each entry takes every shipper.* key plus a unique name.",
       .shown_default = ""})};
}

std::vector<OptionRow<EndpointOptions>> EndpointRows() {
  using E = EndpointOptions;
  std::vector<OptionRow<E>> rows = {
      Field<E>("name", Member(&E::name), StringCodec(),
               {.help = "Endpoint name, unique; becomes the endpoint label."}),
      Field<E>("url", Member(&E::url), UrlCodec(),
               {.help = "URL to scrape (http:// or https://)."}),
      Field<E>("format", Member(&E::format), EnumCodec<ScrapeFormat>(kScrapeFormatNames, "format"),
               {.help = "auto, prometheus, openmetrics or json."}),
      Field<E>("metric_prefix", Member(&E::metric_prefix), StringCodec(),
               {.help = "Prefix added to every scraped metric name (may be empty)."},
               [](const std::string& prefix, const std::string& path, Diagnostics& diag) {
                 if (!prefix.empty() && !IsValidMetricName(prefix)) {
                   diag.Error(path, "\"" + prefix + "\" is not a valid metric name prefix");
                 }
               }),
      Field<E>("labels", Member(&E::labels), StringMapCodec(MapValues::kShown),
               {.help = "Extra labels for this endpoint's samples."}, CheckEndpointLabels),
      Field<E>("timeout", Member(&E::timeout), OptionalDurationCodec<milliseconds>(),
               {.help = "Scrape timeout (never longer than the interval).", .shown_default = "10s"},
               IfSet(DurationBetween<milliseconds>(milliseconds(1), minutes(10)))),
      Field<E>("interval", Member(&E::interval), OptionalDurationCodec<seconds>(),
               {.help = "Scrape this endpoint less often than the collector interval.",
                .shown_default = "collector interval"},
               IfSet(DurationBetween<seconds>(seconds(1), hours(24)))),
      Field<E>("max_body_bytes", Member(&E::max_body_bytes), IntegerCodec<std::uint64_t>(),
               {.help = "Larger (or decompressing to larger) bodies are rejected."},
               AtLeast<std::uint64_t>(1024)),
  };
  AddScrapeLimitRows<E>(rows, "", Member(&E::limits), true);
  rows.push_back(Field<E>(
      "metric_relabel_configs", Member(&E::metric_relabel_configs), RelabelRulesCodec(),
      {.help = "Prometheus relabel rules run on each scraped sample after the prefix and target "
               "labels, before anything is stored or shipped (docs/relabeling.md)."}));
  rows.push_back(Summary<E>("tls", "Same keys as shipper.tls."));
  Mount(rows, TlsRows(), "tls.", Member(&E::tls), /*keep_env=*/false, /*in_table=*/false);
  rows.push_back(Summary<E>("basic_auth", "Same keys as shipper.basic_auth."));
  Mount(rows, AuthRows(), "", Member(&E::auth), /*keep_env=*/false);
  for (OptionRow<E>& row : rows) {
    if (row.key.starts_with("basic_auth.")) {
      row.in_table = false;
    }
  }
  return rows;
}

namespace {

template <typename Root>
void AddInfo(std::vector<OptionInfo>& out, const std::vector<OptionRow<Root>>& rows,
             std::string_view prefix) {
  // On the heap: GCC 12 wrongly warns that a stack Config's strings may be uninitialized.
  const auto defaults = std::make_unique<const Root>();
  for (const OptionRow<Root>& row : rows) {
    if (!row.in_table) {
      continue;
    }
    OptionInfo info{.key = std::string(prefix) + row.key,
                    .type = row.type,
                    .env = row.doc.env,
                    .help = row.doc.help,
                    .default_from_code = !row.doc.shown_default.has_value()};
    info.default_value = row.doc.shown_default ? std::string(*row.doc.shown_default)
                                               : DefaultText(row.render(*defaults));
    out.push_back(std::move(info));
  }
}

std::string EscapePipes(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::vector<OptionInfo> AllOptions() {
  std::vector<OptionInfo> out;
  AddInfo(out, ConfigRows(), "");
  AddInfo(out, ShipperRows(), "shipper.");
  AddInfo(out, ShipperListRows(), "shippers[].");
  AddInfo(out, EndpointRows(), "endpoints[].");
  return out;
}

std::string RenderOptionsMarkdown() {
  std::string out = "| key | type | default | env | description |\n|---|---|---|---|---|\n";
  for (const OptionInfo& o : AllOptions()) {
    out += "| `" + o.key + "` | " + std::string(o.type) + " | " +
           (o.default_value.empty() ? std::string("-") : "`" + EscapePipes(o.default_value) + "`") +
           " | " + (o.env.empty() ? std::string("-") : "`" + std::string(o.env) + "`") + " | " +
           EscapePipes(o.help) + " |\n";
  }
  return out;
}

std::string RenderEnvMarkdown() {
  std::string out = "| variable | key |\n|---|---|\n";
  for (const OptionInfo& o : AllOptions()) {
    if (!o.env.empty()) {
      out += "| `" + std::string(o.env) + "` | `" + o.key + "` |\n";
    }
  }
  return out;
}

}  // namespace metricsd::config
