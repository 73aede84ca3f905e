#include "agent/systemd_notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "core/unique_fd.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;

std::uint64_t MonotonicMicros() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
}

// Plays systemd: a unix datagram socket bound in a temporary directory, named by NOTIFY_SOCKET.
class SystemdNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // sun_path holds 108 bytes: stay under /tmp rather than a possibly long TMPDIR.
    std::string pattern = "/tmp/metricsd-notify-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/notify";
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd_.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof(addr.sun_path));
    path_.copy(addr.sun_path, path_.size());
    ASSERT_EQ(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }

  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    fd_ = UniqueFd();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  // The next datagram, or nullopt when none arrives before the deadline.
  std::optional<std::string> Receive(int timeout_ms = 5000) {
    pollfd p{.fd = fd_.get(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, timeout_ms) != 1) {
      return std::nullopt;
    }
    char buf[4096];
    ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      return std::nullopt;
    }
    return std::string(buf, static_cast<std::size_t>(n));
  }

  std::string dir_;
  std::string path_;
  UniqueFd fd_;
};

TEST_F(SystemdNotifyTest, ReadySendsReadyAndStatus) {
  SystemdNotifier notifier;
  EXPECT_TRUE(notifier.Ready("serving on 0.0.0.0:8080"));
  EXPECT_EQ(Receive(), "READY=1\nSTATUS=serving on 0.0.0.0:8080");
}

TEST_F(SystemdNotifyTest, ReloadingCarriesTheMonotonicClock) {
  SystemdNotifier notifier;
  std::uint64_t before = MonotonicMicros();
  EXPECT_TRUE(notifier.Reloading());
  std::uint64_t after = MonotonicMicros();
  auto message = Receive();
  ASSERT_TRUE(message);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(message->rfind(prefix, 0), 0u) << *message;
  std::uint64_t usec = std::stoull(message->substr(prefix.size()));
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
}

TEST_F(SystemdNotifyTest, ReloadThenReadyIsTheFullReloadSequence) {
  SystemdNotifier notifier;
  EXPECT_TRUE(notifier.Reloading());
  EXPECT_TRUE(notifier.Ready("configuration reloaded"));
  auto first = Receive();
  auto second = Receive();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->rfind("RELOADING=1\n", 0), 0u);
  EXPECT_EQ(*second, "READY=1\nSTATUS=configuration reloaded");
}

TEST_F(SystemdNotifyTest, StoppingSendsStopping) {
  SystemdNotifier notifier;
  EXPECT_TRUE(notifier.Stopping());
  EXPECT_EQ(Receive(), "STOPPING=1");
}

TEST_F(SystemdNotifyTest, StatusCannotInjectAssignments) {
  SystemdNotifier notifier;
  EXPECT_TRUE(notifier.Status("bad\nSTOPPING=1"));
  EXPECT_EQ(Receive(), "STATUS=bad STOPPING=1");
}

TEST_F(SystemdNotifyTest, WatchdogForThisProcessIsKicked) {
  ::setenv("WATCHDOG_USEC", "120000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.WatchdogInterval());
  EXPECT_EQ(*notifier.WatchdogInterval(), std::chrono::microseconds(120s));
  EXPECT_TRUE(notifier.KickWatchdog());
  EXPECT_EQ(Receive(), "WATCHDOG=1");
}

TEST_F(SystemdNotifyTest, WatchdogMeantForAnotherProcessIsIgnored) {
  ::setenv("WATCHDOG_USEC", "120000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.WatchdogInterval());
  EXPECT_FALSE(notifier.KickWatchdog());
  // Prove the socket works, and that the ignored kick sent nothing before it.
  EXPECT_TRUE(notifier.Stopping());
  EXPECT_EQ(Receive(), "STOPPING=1");
}

TEST_F(SystemdNotifyTest, NoWatchdogWithoutWatchdogUsec) {
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.WatchdogInterval());
  EXPECT_FALSE(notifier.KickWatchdog());
}

TEST(SystemdNotifyWithoutSocket, EveryCallIsAHarmlessNoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.Ready("ready"));
  EXPECT_FALSE(notifier.Reloading());
  EXPECT_FALSE(notifier.Status("status"));
  EXPECT_FALSE(notifier.Stopping());
  EXPECT_FALSE(notifier.KickWatchdog());
}

TEST(SystemdNotifyAbstractSocket, AtNameIsTheAbstractNamespace) {
  // NOTIFY_SOCKET=@name: a leading NUL byte in sun_path and no terminating one.
  std::string name = "metricsd-notify-test-" + std::to_string(::getpid());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  name.copy(addr.sun_path + 1, name.size());
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), length), 0);
  ::setenv("NOTIFY_SOCKET", ("@" + name).c_str(), 1);
  SystemdNotifier notifier;
  EXPECT_TRUE(notifier.Stopping());
  ::unsetenv("NOTIFY_SOCKET");
  pollfd p{.fd = fd.get(), .events = POLLIN, .revents = 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char buf[64];
  ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "STOPPING=1");
}

TEST(SystemdNotifyWithoutSocket, MalformedSocketNamesSendNothing) {
  for (const char* name : {"", "relative/notify", "@", "/"}) {
    ::setenv("NOTIFY_SOCKET", name, 1);
    SystemdNotifier notifier;
    EXPECT_FALSE(notifier.Ready("ready")) << "NOTIFY_SOCKET=" << name;
  }
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
  EXPECT_FALSE(SystemdNotifier().Stopping()) << "a path longer than sun_path";
  ::unsetenv("NOTIFY_SOCKET");
}

TEST(SystemdNotifyWithoutSocket, MalformedWatchdogUsecIsNoWatchdog) {
  for (const char* usec : {"", "0", "12x", "-5", "99999999999999999999999"}) {
    ::setenv("WATCHDOG_USEC", usec, 1);
    ::unsetenv("WATCHDOG_PID");
    EXPECT_FALSE(SystemdNotifier().WatchdogInterval()) << "WATCHDOG_USEC=" << usec;
  }
  ::unsetenv("WATCHDOG_USEC");
}

TEST(SystemdNotifyWithoutSocket, UnreachableSocketIsNotAnError) {
  // systemd gone (socket path removed): the daemon must carry on.
  ::setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify", 1);
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.Ready("ready"));
  EXPECT_FALSE(notifier.Stopping());
  ::unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace metricsd
