// InfluxDB line protocol (type "influx_line"): POST to any InfluxDB-compatible /write
// endpoint (InfluxDB 1.x, VictoriaMetrics, ...). Timestamps are written in the precision the
// endpoint's `precision=` query parameter names (nanoseconds when absent).
#pragma once

#include <memory>

#include "formats/influx_line_encoder.h"
#include "shippers/http_shipper.h"

namespace metricsd {

class InfluxLineShipper final : public HttpShipper {
 public:
  static std::vector<std::string> ProtocolHeaders();

  InfluxLineShipper(const config::ShipperOptions& options, std::unique_ptr<http::HttpClient> client)
      : HttpShipper(options, std::move(client)),
        precision_(formats::InfluxPrecisionFromUrl(options.endpoint)) {}

 private:
  void EncodeRequest(const SampleRange& samples, std::string& body,
                     formats::EncodeStats& stats) override {
    formats::EncodeInfluxLines(samples, precision_, body, stats);
  }

  formats::InfluxPrecision precision_;
};

}  // namespace metricsd
