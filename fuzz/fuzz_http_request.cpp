// libFuzzer: the built-in server's request-head parser on arbitrary bytes (anyone who can
// reach the port can send them). It must return a head or an error status, never crash, and
// a head's views must lie inside the input. The basic-auth credentials go through the
// base64 decoder, which must refuse or decode to exactly 3 bytes per 4 less the padding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base64.h"
#include "server/request_head.h"

namespace {

void Check(bool ok) {
  if (!ok) {
    __builtin_trap();
  }
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace metricsd;
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseRequestHead(head);
  if (const auto* req = std::get_if<RequestHead>(&parsed)) {
    Check(Inside(req->method, head) && Inside(req->path, head));
    Check(req->content_length <= kMaxRequestBodyBytes);
    Check(req->path.find('?') == std::string_view::npos);
    Check(Inside(req->authorization, head));
    std::string_view credentials = req->authorization.substr(req->authorization.find(' ') + 1);
    if (auto decoded = DecodeBase64(credentials)) {
      std::size_t padding = credentials.ends_with("==") ? 2 : credentials.ends_with('=') ? 1 : 0;
      Check(decoded->size() == credentials.size() / 4 * 3 - padding);
    }
  } else {
    const int status = std::get<RequestError>(parsed).status;
    Check(status == 400 || status == 413 || status == 501);
  }
  (void)ListsToken(head, "gzip");
  return 0;
}
