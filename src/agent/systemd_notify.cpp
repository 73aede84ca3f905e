#include "agent/systemd_notify.h"

#include <time.h>

#include <cstdint>
#include <string>

#ifdef METRICSD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace metricsd {

namespace {

// A newline would start a new KEY=VALUE assignment: a status text must never be able to send
// READY=1 or STOPPING=1 by accident.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return out;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
#ifdef METRICSD_HAVE_SYSTEMD
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) names this process.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_ = std::chrono::microseconds(usec);
  }
#endif
}

bool SystemdNotifier::Supported() {
#ifdef METRICSD_HAVE_SYSTEMD
  return true;
#else
  return false;
#endif
}

bool SystemdNotifier::Ready(std::string_view status) {
  return Send("READY=1\nSTATUS=" + OneLine(status));
}

bool SystemdNotifier::Reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  std::uint64_t usec = static_cast<std::uint64_t>(now.tv_sec) * 1000000u +
                       static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
  return Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool SystemdNotifier::Stopping() { return Send("STOPPING=1"); }

bool SystemdNotifier::Status(std::string_view text) { return Send("STATUS=" + OneLine(text)); }

bool SystemdNotifier::KickWatchdog() {
  if (!watchdog_) {
    return false;
  }
  return Send("WATCHDOG=1");
}

bool SystemdNotifier::Send(std::string_view message) {
#ifdef METRICSD_HAVE_SYSTEMD
  // sd_notify needs a NUL-terminated string; 0: keep NOTIFY_SOCKET for later messages.
  std::string text(message);
  return sd_notify(0, text.c_str()) > 0;
#else
  (void)message;
  return false;
#endif
}

}  // namespace metricsd
