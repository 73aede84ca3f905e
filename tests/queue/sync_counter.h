// Counts the fdatasync() and fsync() calls made in this test binary. The definitions in
// sync_counter.cpp take the place of libc's at link time (the libraries under test are static)
// and forward to the system calls, so the code under test needs no seam for it.
#pragma once

namespace metricsd::queue::testing {

struct SyncCalls {
  int fdatasync = 0;
  int fsync = 0;
};

SyncCalls CountedSyncs();

}  // namespace metricsd::queue::testing
