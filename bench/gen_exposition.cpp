// Writes GenerateExposition(SERIES) to stdout: the body a benchmark scrape target serves.
//   gen_exposition [SERIES] [--openmetrics]
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "exposition_generator.h"

int main(int argc, char** argv) {
  std::size_t series = 50000;
  bool open_metrics = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--openmetrics") == 0) {
      open_metrics = true;
    } else {
      series = static_cast<std::size_t>(std::strtoull(argv[i], nullptr, 10));
    }
  }
  std::string body = metricsd::bench::GenerateExposition(series, open_metrics);
  return std::fwrite(body.data(), 1, body.size(), stdout) == body.size() ? 0 : 1;
}
