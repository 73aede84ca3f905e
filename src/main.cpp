#include <cstdio>

#include "core/version.h"

int main() {
  std::printf("metricsd %s\n", metricsd::kVersion);
  return 0;
}
