#include "shippers/http_json_shipper.h"

#include <zlib.h>

#include <algorithm>

#include "formats/http_json_encoder.h"

namespace metricsd {

bool GzipCompress(std::string_view in, std::string& out) {
  z_stream zs{};
  // windowBits 15 + 16: write a gzip header and trailer instead of a zlib one.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return false;
  }
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

std::vector<std::string> HttpJsonShipper::ProtocolHeaders(bool gzip) {
  if (gzip) {
    return {"Content-Type: application/json", "Content-Encoding: gzip"};
  }
  return {"Content-Type: application/json"};
}

void HttpJsonShipper::EncodeRequest(const SampleRange& samples, std::string& body,
                                    formats::EncodeStats& stats) {
  std::int64_t newest_ms = 0;
  for (std::size_t i = samples.begin; i < samples.end; ++i) {
    newest_ms = std::max(newest_ms, samples.views->samples[i].timestamp_ms);
  }
  std::int64_t timestamp_s = newest_ms / 1000;
  if (!gzip_) {
    formats::EncodeHttpJson(samples, timestamp_s, body, stats);
    return;
  }
  formats::EncodeHttpJson(samples, timestamp_s, json_, stats);
  if (!GzipCompress(json_, body)) {
    // zlib only fails on memory exhaustion; sending nothing is better than a broken body.
    stats.samples_skipped_non_finite += stats.samples_written;
    stats.samples_written = 0;
  }
}

}  // namespace metricsd
