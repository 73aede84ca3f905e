// The effective configuration of metricsd: plain aggregates with their defaults, filled
// by config::Load() from the JSON file, then the MC_* environment, then validated.
// Every duration is a std::chrono type. Immutable once loaded; a reload builds a new one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relabel/relabel.h"

namespace metricsd::config {

using std::chrono::milliseconds;
using std::chrono::seconds;

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };
// "TLS1.0" .. "TLS1.3", the spelling used in the config file.
std::string_view TlsVersionName(TlsVersion version) noexcept;

// Client-side TLS, shared by every shipper and scrape target.
struct TlsOptions {
  bool enabled = false;
  std::string ca_file;    // empty: the system trust store
  std::string cert_file;  // client certificate for mTLS (optional, needs key_file)
  std::string key_file;
  std::string server_name;  // SNI and the name the server certificate must carry
  bool insecure_skip_verify = false;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  std::vector<std::string> cipher_suites;  // IANA names; empty: OpenSSL defaults
  bool session_tickets = true;
};

struct BasicAuth {
  std::string username;
  std::string password;
  std::string password_file;  // read at start-up and on reload
};

// Authentication and extra headers for one HTTP peer.
struct HttpAuth {
  BasicAuth basic_auth;
  std::string bearer_token;
  std::string bearer_token_file;
  std::map<std::string, std::string> headers;
};

enum class ShipperType { kPrometheusRemoteWrite, kHttpJson, kInfluxLine };

struct QueueOptions {
  std::uint64_t max_disk_bytes = 1ULL << 30;  // per shipper
  std::size_t max_memory_samples = 100'000;   // beyond this, batches live on disk only
  milliseconds min_backoff{500};
  milliseconds max_backoff{std::chrono::minutes(1)};
  milliseconds max_retry_after{std::chrono::minutes(5)};  // cap on a receiver's Retry-After
  bool retry_on_429 = true;
  // Statuses that hold the queue instead of dropping the batch: a refused credential or a
  // wrong path is fixed by the operator, not by discarding data (docs/queue.md).
  std::vector<int> hold_on_status{401, 403, 404};
  // fdatasync every queued batch before Enqueue returns: the queue survives a power loss,
  // not only a crash or kill -9 (which page-cache writes survive anyway).
  bool fsync = true;
  // With fsync, 0 syncs every batch; more is group commit: one fdatasync per interval covers
  // every batch queued since, so a power loss can cost up to that much (a crash still none).
  milliseconds fsync_interval{0};
};

struct ShipperOptions {
  std::string name = "default";
  ShipperType type = ShipperType::kPrometheusRemoteWrite;
  std::string endpoint;
  milliseconds timeout{std::chrono::seconds(30)};
  TlsOptions tls;
  HttpAuth auth;
  std::size_t max_samples_per_request = 2000;
  bool gzip = false;  // http_json only
  // prometheus_remote_write only: rebuild requests from the last cycle's snappy skeletons
  // (formats/snappy_skeleton.h) instead of compressing each one anew.
  bool reuse_compression = true;
  QueueOptions queue;
  // Applied to every sample just before this shipper's queue (after instance and global
  // labels), so different receivers may get different subsets (Prometheus'
  // write_relabel_configs).
  std::vector<RelabelRule> write_relabel_configs;
};

enum class ScrapeFormat { kAuto, kPrometheusText, kOpenMetrics, kJson };

// Prometheus' per-scrape limits (0: no limit). Exceeding one fails the scrape: none of its
// samples are stored, and its series go stale.
struct ScrapeLimits {
  std::size_t sample_limit = 200'000;
  std::size_t label_limit = 64;
  std::size_t label_name_length_limit = 256;
  std::size_t label_value_length_limit = 4096;
  std::size_t line_length_limit = 64 * 1024;
};

struct EndpointOptions {
  std::string name;
  std::string url;
  ScrapeFormat format = ScrapeFormat::kAuto;
  std::string metric_prefix = "app_";
  std::map<std::string, std::string> labels;
  std::optional<milliseconds> timeout;  // default: min(10s, collector interval)
  std::optional<seconds> interval;      // default: the collector interval
  std::uint64_t max_body_bytes = 8ULL << 20;
  TlsOptions tls;
  HttpAuth auth;
  ScrapeLimits limits;  // effective: the global scrape.* values unless the endpoint sets its own
  // Applied to each scraped sample after the prefix and target labels, before anything is
  // stored or shipped (Prometheus' metric_relabel_configs).
  std::vector<RelabelRule> metric_relabel_configs;
};

struct FilesystemOptions {
  std::string mountpoint_include;  // regular expressions (RE2); empty: no filter
  std::string mountpoint_exclude =
      "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
  std::string fstype_include;
  std::string fstype_exclude =
      "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
      "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
      "sysfs|tracefs|tmpfs|ramfs|nfsd)$";
  milliseconds statfs_timeout{std::chrono::seconds(5)};
};

struct DiskIoOptions {
  std::string device_include;
  std::string device_exclude =
      "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]+|nvme\\d+n\\d+p|mmcblk\\d+p)\\d+$|^(ram|loop|fd|sr)\\d*$";
};

struct NetworkOptions {
  std::string interface_include;
  std::string interface_exclude;
};

struct GpuOptions {
  std::string nvml_library;  // empty: libnvidia-ml.so.1, then libnvidia-ml.so
};

// Which names the host collectors use: metricsd's own (system_*), node_exporter 1.5's
// (node_*, so its dashboards and alerts work unchanged), or both side by side.
enum class MetricNaming { kMetricsd, kNodeExporter, kBoth };

// The textfile collector: *.prom files that scripts and cron jobs write (docs/textfile.md).
struct TextfileOptions {
  std::string directory;  // empty: off
  std::size_t max_files = 1000;
  std::size_t max_file_bytes = 4 * 1024 * 1024;
};

struct CollectorOptions {
  seconds interval{60};
  MetricNaming naming = MetricNaming::kMetricsd;
  bool enable_cpu = true;
  bool enable_memory = true;
  bool enable_disk = true;
  bool enable_network = true;
  bool enable_gpu = false;
  bool enable_host = true;      // uptime, boot time, load, processes
  bool enable_pressure = true;  // /proc/pressure (PSI) where the kernel has it
  FilesystemOptions filesystems;
  DiskIoOptions disk_io;
  NetworkOptions network;
  GpuOptions gpu;
  TextfileOptions textfile;
  // Applied to the host, GPU and textfile collectors' samples each cycle, before they are served,
  // shipped or tracked for staleness.
  std::vector<RelabelRule> metric_relabel_configs;

  bool native_names() const noexcept { return naming != MetricNaming::kNodeExporter; }
  bool node_exporter_names() const noexcept { return naming != MetricNaming::kMetricsd; }
};

// Who may connect to the server's own endpoint with TLS: the names (and meanings) of
// node_exporter's web configuration, limited to those that verify what they accept.
enum class ClientAuth { kNoClientCert, kVerifyClientCertIfGiven, kRequireAndVerifyClientCert };
std::string_view ClientAuthName(ClientAuth auth) noexcept;

// TLS on the server's own endpoint; off while cert_file is empty.
struct ServerTlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // mTLS: clients must present a certificate signed by it
  // Unset: RequireAndVerifyClientCert with a client CA, else NoClientCert.
  std::optional<ClientAuth> client_auth_type;
  TlsVersion min_version = TlsVersion::kTls12;

  bool enabled() const noexcept { return !cert_file.empty(); }
  ClientAuth effective_client_auth() const noexcept {
    return client_auth_type.value_or(client_ca_file.empty()
                                         ? ClientAuth::kNoClientCert
                                         : ClientAuth::kRequireAndVerifyClientCert);
  }
};

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;
  // /health reports "degraded" when a shipper has not succeeded for this long.
  seconds health_degraded_after{std::chrono::minutes(5)};
  ServerTlsOptions tls;
  // user -> bcrypt hash ($2y$, $2b$ or $2a$). Non-empty: every request needs basic auth.
  std::map<std::string, std::string> basic_auth_users;
  // /health and /ready answer without basic auth or a client certificate (for kubelet and
  // load balancer probes); the other paths still require them.
  bool probes_skip_auth = false;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

struct Config {
  ServerOptions server;
  CollectorOptions collector;
  std::vector<ShipperOptions> shippers;  // empty: pull mode (/metrics only)
  std::vector<EndpointOptions> endpoints;
  ScrapeLimits scrape_limits;  // scrape.*: every endpoint's defaults
  std::map<std::string, std::string> global_labels;
  // instance="<value>" on every shipped sample, so that hosts never share a series. Unset:
  // the host name; empty: no instance label. /metrics never carries it (the scraper adds its
  // own).
  std::optional<std::string> instance;
  bool hostname_label = false;  // add hostname="<host>" to every shipped sample (deprecated)
  // metricsd's own metrics (metricsd_*, process_*) go to the shippers with each collection
  // cycle, so that a push-only setup sees the agent's health in the receiver too.
  bool ship_self_metrics = true;
  std::string data_dir;  // empty: /var/lib/metricsd if writable, else ./data
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
};

}  // namespace metricsd::config
