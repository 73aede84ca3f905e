#include "shippers/remote_write_shipper.h"

namespace metricsd {

std::vector<std::string> RemoteWriteShipper::ProtocolHeaders() {
  return {
      "Content-Encoding: snappy",
      "Content-Type: application/x-protobuf",
      "X-Prometheus-Remote-Write-Version: 0.1.0",
  };
}

}  // namespace metricsd
