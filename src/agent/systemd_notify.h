// SystemdNotifier: the service side of systemd's notify protocol (sd_notify(3)) for a
// Type=notify unit: READY once serving, RELOADING/READY around a SIGHUP reload, STOPPING on
// shutdown, STATUS lines for `systemctl status`, and the watchdog keep-alive.
//
// The protocol is one unix datagram per message to $NOTIFY_SOCKET (a path, or "@name" for the
// abstract namespace), so it is spoken here directly rather than through libsystemd, whose
// dependency chain would cost resident memory in every process. Every call is harmless when
// NOTIFY_SOCKET is unset (not started by systemd, or in a container) or unreachable: it then
// sends nothing and returns false. Each call opens its own datagram socket, so the object
// holds no resources and may be used from any thread. Nothing here throws.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace metricsd {

class SystemdNotifier {
 public:
  // Reads WATCHDOG_USEC/WATCHDOG_PID once; NOTIFY_SOCKET is looked up on every send.
  SystemdNotifier();

  // READY=1 with a STATUS line: start-up finished (server bound, agent running), or a reload
  // finished. Each returns true when the message was handed to systemd.
  bool Ready(std::string_view status);
  // RELOADING=1 with MONOTONIC_USEC=<CLOCK_MONOTONIC in µs>, as systemd >= 253 requires for
  // Type=notify-reload; older versions ignore the extra field. Follow it with Ready() once the
  // reload is over, whether it succeeded or not, or systemd leaves the unit "reloading".
  bool Reloading();
  // STOPPING=1: shutdown has begun.
  bool Stopping();
  // STATUS=<text>, shown by `systemctl status`. Newlines are replaced by spaces.
  bool Status(std::string_view text);

  // The unit's WatchdogSec when systemd expects keep-alives from this process, else nullopt.
  // Kick at least every half of it.
  std::optional<std::chrono::microseconds> WatchdogInterval() const { return watchdog_; }
  // WATCHDOG=1. Sends nothing when the watchdog is not enabled for this process.
  bool KickWatchdog();

 private:
  bool Send(std::string_view message);

  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace metricsd
