// RAII owners for libcurl handles. They never call curl_global_init/cleanup: main owns
// those (once per process, before any thread starts), and tests do the same in their main.
// Move-only; a handle is used by one thread at a time, as libcurl requires.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>

namespace metricsd::http {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};

// An easy handle; keeps its connection cache alive between transfers, which is how
// connections are reused.
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

inline CurlEasy MakeCurlEasy() noexcept { return CurlEasy(curl_easy_init()); }

struct CurlUrlDeleter {
  void operator()(CURLU* handle) const noexcept { curl_url_cleanup(handle); }
};

// A parsed URL (curl_url API).
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

// A curl_slist of header lines ("Name: value"). libcurl keeps only the pointer during a
// transfer, so the list must outlive every transfer that uses it.
class CurlSlist {
 public:
  CurlSlist() = default;
  CurlSlist(const CurlSlist&) = delete;
  CurlSlist& operator=(const CurlSlist&) = delete;
  CurlSlist(CurlSlist&& other) noexcept : head_(other.head_) { other.head_ = nullptr; }
  CurlSlist& operator=(CurlSlist&& other) noexcept {
    if (this != &other) {
      curl_slist_free_all(head_);
      head_ = other.head_;
      other.head_ = nullptr;
    }
    return *this;
  }
  ~CurlSlist() { curl_slist_free_all(head_); }

  // Returns false when libcurl could not allocate; the list is unchanged then.
  [[nodiscard]] bool Append(std::string_view line) {
    std::string copy(line);  // curl_slist_append needs a NUL-terminated string
    curl_slist* next = curl_slist_append(head_, copy.c_str());
    if (next == nullptr) {
      return false;
    }
    head_ = next;
    return true;
  }

  curl_slist* get() const noexcept { return head_; }
  bool empty() const noexcept { return head_ == nullptr; }

 private:
  curl_slist* head_ = nullptr;
};

}  // namespace metricsd::http
