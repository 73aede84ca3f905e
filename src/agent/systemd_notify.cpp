#include "agent/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/unique_fd.h"

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

// A whole decimal number, nothing else (environment values are untrusted text).
template <typename T>
std::optional<T> ParseNumber(const char* text) {
  if (text == nullptr || *text == '\0') {
    return std::nullopt;
  }
  std::string_view s(text);
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return value;
}

// sockaddr_un for NOTIFY_SOCKET: an absolute path, or "@name" for the abstract namespace
// (a leading NUL byte; the name is not NUL-terminated, so the length is exact).
bool NotifyAddress(std::string_view name, sockaddr_un& addr, socklen_t& length) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (name.size() < 2 || name.size() > sizeof(addr.sun_path) ||
      (name.front() != '/' && name.front() != '@')) {
    return false;
  }
  if (name.front() == '/' && name.size() == sizeof(addr.sun_path)) {
    return false;  // no room for the terminating NUL
  }
  name.copy(addr.sun_path, name.size());
  if (name.front() == '@') {
    addr.sun_path[0] = '\0';
  }
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                  (name.front() == '/' ? 1 : 0));
  return true;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  // As sd_watchdog_enabled(3): WATCHDOG_USEC > 0, and WATCHDOG_PID (when set) names this
  // process, so a child that inherited the environment does not kick in its parent's name.
  auto usec = ParseNumber<std::uint64_t>(std::getenv("WATCHDOG_USEC"));
  if (!usec || *usec == 0) {
    return;
  }
  if (const char* pid_text = std::getenv("WATCHDOG_PID"); pid_text != nullptr) {
    auto pid = ParseNumber<pid_t>(pid_text);
    if (!pid || *pid != ::getpid()) {
      return;
    }
  }
  watchdog_ = std::chrono::microseconds(*usec);
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
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr) {
    return false;
  }
  sockaddr_un addr{};
  socklen_t length = 0;
  if (!NotifyAddress(socket_name, addr, length)) {
    return false;
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return false;
  }
  // One datagram per message; MSG_NOSIGNAL: a vanished systemd must not raise SIGPIPE.
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), length);
  } while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(message.size());
}

}  // namespace metricsd
