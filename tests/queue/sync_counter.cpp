#include "sync_counter.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace {

std::atomic<int> fdatasync_calls{0};
std::atomic<int> fsync_calls{0};

}  // namespace

extern "C" int fdatasync(int fd) {
  fdatasync_calls.fetch_add(1);
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}

extern "C" int fsync(int fd) {
  fsync_calls.fetch_add(1);
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace metricsd::queue::testing {

SyncCalls CountedSyncs() {
  return {.fdatasync = fdatasync_calls.load(), .fsync = fsync_calls.load()};
}

}  // namespace metricsd::queue::testing
