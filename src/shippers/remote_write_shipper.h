// Prometheus remote write 1.0 (type "prometheus_remote_write"): snappy-compressed protobuf
// WriteRequest with the spec's headers (Content-Encoding: snappy, Content-Type:
// application/x-protobuf, X-Prometheus-Remote-Write-Version: 0.1.0, User-Agent:
// metricsd/<version>); users cannot override them. See HttpShipper for verdicts and splitting.
#pragma once

#include <memory>

#include "formats/remote_write_encoder.h"
#include "shippers/http_shipper.h"

namespace metricsd {

class RemoteWriteShipper final : public HttpShipper {
 public:
  // The header lines this shipper sends on every request (reserved names).
  static std::vector<std::string> ProtocolHeaders();

  RemoteWriteShipper(const config::ShipperOptions& options,
                     std::unique_ptr<http::HttpClient> client)
      : HttpShipper(options, std::move(client)) {}

  // The queue holds this shipper's requests finished (queue/ready_request_writer.h).
  bool SendsReadyRequests() const noexcept override { return true; }
  SendResult SendReady(std::string_view body, std::size_t /*samples*/) noexcept override {
    return PostBody(body);
  }

 private:
  void EncodeRequest(const SampleRange& samples, std::string& body,
                     formats::EncodeStats& stats) override {
    encoder_.Encode(samples, body, stats);
  }

  formats::RemoteWriteEncoder encoder_;
};

}  // namespace metricsd
