// HTTP JSON (type "http_json"): the original metricsd payload (see formats/http_json_encoder.h),
// POSTed with Content-Type: application/json, optionally gzip-compressed
// (Content-Encoding: gzip). The top-level "timestamp" is the newest collection time of the
// samples in the request (unix seconds), so a batch sent late keeps the time it was taken.
#pragma once

#include <memory>
#include <string>

#include "shippers/http_shipper.h"

namespace metricsd {

// gzip (RFC 1952) of `in` into `out` (replaced). Returns false only if zlib fails.
bool GzipCompress(std::string_view in, std::string& out);

class HttpJsonShipper final : public HttpShipper {
 public:
  static std::vector<std::string> ProtocolHeaders(bool gzip);

  HttpJsonShipper(const config::ShipperOptions& options, std::unique_ptr<http::HttpClient> client)
      : HttpShipper(options, std::move(client)), gzip_(options.gzip) {}

 private:
  void EncodeRequest(const SampleRange& samples, std::string& body,
                     formats::EncodeStats& stats) override;

  bool gzip_;
  std::string json_;  // reused; the uncompressed payload when gzip is on
};

}  // namespace metricsd
