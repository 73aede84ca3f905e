#include "shippers/influx_line_shipper.h"

namespace metricsd {

std::vector<std::string> InfluxLineShipper::ProtocolHeaders() {
  return {"Content-Type: text/plain; charset=utf-8"};
}

}  // namespace metricsd
