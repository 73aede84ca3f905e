#include "config/option_table.h"

#include <array>

namespace metricsd::config {

namespace {

constexpr std::array kOptions = {
    OptionInfo{"server.host", "string", "0.0.0.0", "MC_SERVER_HOST",
               "Address the /health and /metrics server binds to (\"::\" for IPv6)."},
    OptionInfo{"server.port", "int", "8080", "MC_SERVER_PORT", "Port of the server, 1-65535."},
    OptionInfo{"server.health_degraded_after", "duration", "5m", "",
               "/health reports \"degraded\" when a shipper has not succeeded for this long."},
    OptionInfo{"server.tls.cert_file", "string", "", "MC_SERVER_TLS_CERT_FILE",
               "PEM certificate (chain) of the server; set: the endpoint speaks only HTTPS. "
               "Replaced files are picked up within a second."},
    OptionInfo{"server.tls.key_file", "string", "", "MC_SERVER_TLS_KEY_FILE",
               "PEM private key of server.tls.cert_file (unencrypted)."},
    OptionInfo{"server.tls.client_ca_file", "string", "", "MC_SERVER_TLS_CLIENT_CA_FILE",
               "PEM CA bundle that client certificates must chain to (mTLS)."},
    OptionInfo{"server.tls.client_auth_type", "string", "", "",
               "NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert; unset: "
               "RequireAndVerifyClientCert with a client CA, else NoClientCert."},
    OptionInfo{"server.tls.min_version", "tls-version", "TLS1.2", "",
               "Lowest TLS version the server accepts."},
    OptionInfo{"server.basic_auth_users", "map", "", "",
               "User name to bcrypt hash ($2y$...); set: every request needs basic auth."},
    OptionInfo{"server.probes_skip_auth", "bool", "false", "",
               "/health and /ready answer without basic auth or a client certificate."},
    OptionInfo{"collector.interval_seconds", "int", "60", "MC_COLLECTOR_INTERVAL",
               "Seconds between collection cycles, 1-86400."},
    OptionInfo{"collector.enable_cpu", "bool", "true", "", "CPU usage per core and in total."},
    OptionInfo{"collector.enable_memory", "bool", "true", "", "Memory and swap."},
    OptionInfo{"collector.enable_disk", "bool", "true", "", "Filesystem usage and disk I/O."},
    OptionInfo{"collector.enable_network", "bool", "true", "", "Network interface counters."},
    OptionInfo{"collector.enable_gpu", "bool", "false", "", "NVIDIA GPUs through NVML."},
    OptionInfo{"collector.enable_host", "bool", "true", "",
               "Uptime, boot time, load averages and process counts."},
    OptionInfo{"collector.enable_pressure", "bool", "true", "",
               "Pressure stall information (/proc/pressure) where the kernel has it."},
    OptionInfo{"collector.filesystems.mountpoint_include", "regex", "", "",
               "Only mountpoints matching this expression are reported."},
    OptionInfo{
        "collector.filesystems.mountpoint_exclude", "regex",
        "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
        "", "Mountpoints matching this expression are skipped."},
    OptionInfo{"collector.filesystems.fstype_include", "regex", "", "",
               "Only filesystem types matching this expression are reported."},
    OptionInfo{"collector.filesystems.fstype_exclude", "regex", "pseudo and virtual types", "",
               "Filesystem types matching this expression are skipped (tmpfs, proc, overlay, "
               "squashfs ...)."},
    OptionInfo{"collector.filesystems.statfs_timeout", "duration", "5s", "",
               "A mount whose statfs takes longer is marked stuck and skipped until it answers."},
    OptionInfo{"collector.disk_io.device_include", "regex", "", "",
               "Only block devices matching this expression are reported."},
    OptionInfo{"collector.disk_io.device_exclude", "regex", "partitions, loop, ram, fd, sr", "",
               "Block devices matching this expression are skipped."},
    OptionInfo{"collector.network.interface_include", "regex", "", "",
               "Only interfaces matching this expression are reported."},
    OptionInfo{"collector.network.interface_exclude", "regex", "", "",
               "Interfaces matching this expression are skipped."},
    OptionInfo{"collector.gpu.nvml_library", "string", "libnvidia-ml.so.1", "",
               "Path of the NVML library, for unusual driver installs."},
    OptionInfo{"shipper.type", "string", "", "MC_SHIPPER_TYPE",
               "prometheus_remote_write, http_json or influx_line. No shipper: pull mode."},
    OptionInfo{"shipper.endpoint", "string", "", "MC_SHIPPER_ENDPOINT",
               "Receiver URL (http:// or https://)."},
    OptionInfo{"shipper.timeout", "duration", "30s", "MC_SHIPPER_TIMEOUT",
               "Request timeout: a duration string (\"30s\") or integer nanoseconds."},
    OptionInfo{"shipper.tls.enabled", "bool", "false", "MC_TLS_ENABLED",
               "Apply the TLS settings below to https:// endpoints."},
    OptionInfo{"shipper.tls.ca_file", "string", "system roots", "MC_TLS_CA_FILE",
               "PEM bundle of CAs trusted for the server certificate."},
    OptionInfo{"shipper.tls.cert_file", "string", "", "MC_TLS_CERT_FILE",
               "PEM client certificate for mutual TLS (needs key_file)."},
    OptionInfo{"shipper.tls.key_file", "string", "", "MC_TLS_KEY_FILE",
               "PEM private key of the client certificate."},
    OptionInfo{"shipper.tls.server_name", "string", "", "MC_TLS_SERVER_NAME",
               "Name sent as SNI and required in the server certificate."},
    OptionInfo{"shipper.tls.min_version", "tls-version", "TLS1.2", "MC_TLS_MIN_VERSION",
               "Lowest TLS version: TLS1.0, TLS1.1, TLS1.2 or TLS1.3."},
    OptionInfo{"shipper.tls.max_version", "tls-version", "TLS1.3", "MC_TLS_MAX_VERSION",
               "Highest TLS version."},
    OptionInfo{"shipper.tls.cipher_suites", "list", "OpenSSL defaults", "",
               "Allowed cipher suites, IANA names (TLS 1.2 and 1.3)."},
    OptionInfo{"shipper.tls.session_tickets", "bool", "true", "",
               "Allow TLS session ticket resumption."},
    OptionInfo{"shipper.tls.insecure_skip_verify", "bool", "false", "MC_TLS_INSECURE_SKIP_VERIFY",
               "Do not verify the server certificate (testing only; logged loudly)."},
    OptionInfo{"shipper.basic_auth.username", "string", "", "", "HTTP basic auth user."},
    OptionInfo{"shipper.basic_auth.password", "string", "", "", "HTTP basic auth password."},
    OptionInfo{"shipper.basic_auth.password_file", "string", "", "",
               "File holding the basic auth password (re-read on reload)."},
    OptionInfo{"shipper.bearer_token", "string", "", "", "Sent as Authorization: Bearer."},
    OptionInfo{"shipper.bearer_token_file", "string", "", "",
               "File holding the bearer token (re-read on reload)."},
    OptionInfo{"shipper.headers", "map", "{}", "",
               "Extra request headers, e.g. X-Scope-OrgID. Protocol headers cannot be replaced."},
    OptionInfo{"shipper.max_samples_per_request", "int", "2000", "",
               "Larger batches are split into several requests."},
    OptionInfo{"shipper.gzip", "bool", "false", "", "Compress http_json bodies with gzip."},
    OptionInfo{"shipper.queue.max_disk_bytes", "int", "1073741824", "",
               "On-disk buffer cap per shipper; the oldest data goes first when full."},
    OptionInfo{"shipper.queue.max_memory_samples", "int", "100000", "",
               "Samples kept in memory per shipper; the rest waits on disk."},
    OptionInfo{"shipper.queue.min_backoff", "duration", "500ms", "", "First retry delay."},
    OptionInfo{"shipper.queue.max_backoff", "duration", "1m", "", "Longest retry delay."},
    OptionInfo{"shipper.queue.retry_on_429", "bool", "true", "",
               "Retry requests answered 429 Too Many Requests."},
    OptionInfo{"shipper.queue.max_retry_after", "duration", "5m", "",
               "Longest wait a receiver's Retry-After header can impose."},
    OptionInfo{"shipper.queue.hold_on_status", "list", "[401, 403, 404]", "",
               "Statuses that hold the queue (nothing dropped, one probe per max_backoff) until "
               "the configuration or a credential file changes."},
    OptionInfo{"shipper.queue.fsync", "bool", "true", "",
               "fdatasync each queued batch, so the buffer also survives a power loss."},
    OptionInfo{"shipper.queue.fsync_interval", "duration", "0s", "",
               "Group commit: with fsync, sync at most once per interval (one sync covers every "
               "batch since); a power loss can then cost up to this much. 0s: every batch."},
    OptionInfo{"shippers[].name", "string", "", "",
               "Several receivers: each entry takes every shipper.* key plus a unique name."},
    OptionInfo{"endpoints[].name", "string", "", "",
               "Endpoint name, unique; becomes the endpoint label."},
    OptionInfo{"endpoints[].url", "string", "", "", "URL to scrape (http:// or https://)."},
    OptionInfo{"endpoints[].format", "string", "auto", "",
               "auto, prometheus, openmetrics or json."},
    OptionInfo{"endpoints[].metric_prefix", "string", "app_", "",
               "Prefix added to every scraped metric name (may be empty)."},
    OptionInfo{"endpoints[].labels", "map", "{}", "", "Extra labels for this endpoint's samples."},
    OptionInfo{"endpoints[].timeout", "duration", "10s", "",
               "Scrape timeout (never longer than the interval)."},
    OptionInfo{"endpoints[].interval", "duration", "collector interval", "",
               "Scrape this endpoint less often than the collector interval."},
    OptionInfo{"endpoints[].max_body_bytes", "int", "67108864", "",
               "Larger (or decompressing to larger) bodies are rejected."},
    OptionInfo{"endpoints[].tls", "object", "", "", "Same keys as shipper.tls."},
    OptionInfo{"endpoints[].basic_auth", "object", "", "", "Same keys as shipper.basic_auth."},
    OptionInfo{"endpoints[].bearer_token", "string", "", "", "Sent as Authorization: Bearer."},
    OptionInfo{"endpoints[].bearer_token_file", "string", "", "", "File holding the token."},
    OptionInfo{"endpoints[].headers", "map", "{}", "", "Extra request headers."},
    OptionInfo{"global_labels", "map", "{}", "MC_GLOBAL_LABELS",
               "Labels added to every shipped sample, e.g. {\"cluster\": \"eu1\"}. The "
               "variable takes name=value pairs separated by commas and adds to the file's."},
    OptionInfo{"instance", "string", "host name", "MC_INSTANCE",
               "instance label of every shipped sample (a scraped sample's own becomes "
               "exported_instance); empty in the file: none. /metrics never carries it."},
    OptionInfo{"hostname_label", "bool", "false", "",
               "Deprecated (instance is added by default): also add hostname=\"<host name>\"."},
    OptionInfo{"data_dir", "string", "/var/lib/metricsd or ./data", "MC_DATA_DIR",
               "Where shippers buffer unsent data."},
    OptionInfo{"log_level", "string", "info", "MC_LOG_LEVEL", "debug, info, warn or error."},
    OptionInfo{"log_format", "string", "text", "MC_LOG_FORMAT",
               "text, or json for one JSON object per line."},
};

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

std::span<const OptionInfo> AllOptions() { return kOptions; }

std::string RenderOptionsMarkdown() {
  std::string out = "| key | type | default | env | description |\n|---|---|---|---|---|\n";
  for (const OptionInfo& o : kOptions) {
    out += "| `" + std::string(o.key) + "` | " + std::string(o.type) + " | " +
           (o.default_value.empty() ? std::string("-") : "`" + EscapePipes(o.default_value) + "`") +
           " | " + (o.env.empty() ? std::string("-") : "`" + std::string(o.env) + "`") + " | " +
           EscapePipes(o.help) + " |\n";
  }
  return out;
}

std::string RenderEnvMarkdown() {
  std::string out = "| variable | key |\n|---|---|\n";
  for (const OptionInfo& o : kOptions) {
    if (!o.env.empty()) {
      out += "| `" + std::string(o.env) + "` | `" + std::string(o.key) + "` |\n";
    }
  }
  return out;
}

}  // namespace metricsd::config
