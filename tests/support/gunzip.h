// Test helper: decodes one gzip member, failing the test when bytes follow it (curl decodes
// only the first member and would drop them). Header-only: the test binary links zlib.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace metricsd::testing {

inline std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[65536];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      EXPECT_EQ(z.avail_in, 0u) << "bytes after the first gzip member";
      break;
    }
    if (rc != Z_OK) {
      ADD_FAILURE() << "inflate: " << rc;
      break;
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace metricsd::testing
