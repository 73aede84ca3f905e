#include "server/request_head.h"

#include <gtest/gtest.h>

#include <string>

namespace metricsd {
namespace {

RequestHead Ok(std::string_view head) {
  auto parsed = ParseRequestHead(head);
  EXPECT_TRUE(std::holds_alternative<RequestHead>(parsed)) << head;
  return std::holds_alternative<RequestHead>(parsed) ? std::get<RequestHead>(parsed)
                                                     : RequestHead{};
}

int ErrorStatus(std::string_view head) {
  auto parsed = ParseRequestHead(head);
  return std::holds_alternative<RequestError>(parsed) ? std::get<RequestError>(parsed).status : 0;
}

TEST(RequestHead, RequestLineAndHeaders) {
  RequestHead r =
      Ok("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br, GZip;q=0.5\r\n"
         "Content-Length: 3");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_TRUE(r.accepts_gzip);
  EXPECT_EQ(r.content_length, 3u);
}

TEST(RequestHead, KeepAliveRules) {
  EXPECT_FALSE(Ok("GET / HTTP/1.0").keep_alive);
  EXPECT_TRUE(Ok("GET / HTTP/1.0\r\nConnection: Keep-Alive").keep_alive);
  EXPECT_FALSE(Ok("GET / HTTP/1.1\r\nconnection: close").keep_alive);
  EXPECT_FALSE(Ok("HEAD /health HTTP/1.1\r\nAccept-Encoding: gzip;q=0").accepts_gzip);
}

TEST(RequestHead, MalformedAndUnsupported) {
  EXPECT_EQ(ErrorStatus(""), 400);
  EXPECT_EQ(ErrorStatus("GET /"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1 extra"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/2.0"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nno colon here"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nContent-Length: 12x"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nContent-Length: -1"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999"), 400);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nContent-Length: 65537"), 413);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nTransfer-Encoding: chunked"), 501);
}

}  // namespace
}  // namespace metricsd
