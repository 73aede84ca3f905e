// What this machine charges a thread for one wake-up: a thread that only sleeps and wakes,
// reading its own run time from /proc/thread-self/schedstat. On bare metal a wake-up costs a
// few microseconds; in some virtual machines it costs a hundred or more, which then bounds
// from below any figure of CPU per collection cycle (each cycle wakes a few threads).
//
// Usage: wake_cost [SLEEP_SECONDS [WAKEUPS]]   (default 1 s, 10)
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace {

unsigned long long RunNanoseconds() {
  std::ifstream in("/proc/thread-self/schedstat");
  unsigned long long ns = 0;
  in >> ns;
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  const double gap = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int wakeups = argc > 2 ? std::atoi(argv[2]) : 10;
  timespec sleep_for{};
  sleep_for.tv_sec = static_cast<time_t>(gap);
  sleep_for.tv_nsec = static_cast<long>((gap - static_cast<double>(sleep_for.tv_sec)) * 1e9);
  const unsigned long long before = RunNanoseconds();
  for (int i = 0; i < wakeups; ++i) {
    nanosleep(&sleep_for, nullptr);
  }
  const unsigned long long after = RunNanoseconds();
  std::printf("sleep %.3f s x %d: %.1f us of CPU per wake-up\n", gap, wakeups,
              static_cast<double>(after - before) / 1e3 / wakeups);
  return 0;
}
