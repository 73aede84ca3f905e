// FakeNvml: a test's grip on the fake libnvidia-ml built from tests/nvml/fake_nvml.c.
//
// Constructing one dlopens the fake (the same loaded copy that NvmlLibrary will get when it
// opens the same path) and resets its state; the handle keeps the copy, and so the state,
// alive while metricsd code dlcloses and reopens it. Set() takes one line of the script
// syntax documented in fake_nvml.c. METRICSD_FAKE_NVML_PATH (and the _MINIMAL / _NO_COUNT
// variants) name the built libraries; link a test with metricsd_use_fake_nvml() to get them.
#pragma once

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace metricsd::testing {

class FakeNvml {
 public:
  explicit FakeNvml(std::string path = METRICSD_FAKE_NVML_PATH) : path_(std::move(path)) {
    handle_ = ::dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      throw std::runtime_error("cannot load the fake NVML: " + std::string(::dlerror()));
    }
    reset_ = Symbol<void (*)()>("fake_nvml_reset");
    set_ = Symbol<int (*)(const char*)>("fake_nvml_set");
    calls_ = Symbol<unsigned long long (*)(const char*)>("fake_nvml_calls");
    open_inits_ = Symbol<long long (*)()>("fake_nvml_open_inits");
    reset_();
  }
  ~FakeNvml() { ::dlclose(handle_); }
  FakeNvml(const FakeNvml&) = delete;
  FakeNvml& operator=(const FakeNvml&) = delete;

  const std::string& path() const { return path_; }
  void Reset() { reset_(); }
  // Applies script lines (separated by '\n'); throws on a line the fake does not understand.
  void Set(const std::string& lines) {
    std::size_t start = 0;
    while (start <= lines.size()) {
      std::size_t end = lines.find('\n', start);
      if (end == std::string::npos) {
        end = lines.size();
      }
      const std::string line = lines.substr(start, end - start);
      if (set_(line.c_str()) != 0) {
        throw std::runtime_error("fake NVML rejected: " + line);
      }
      start = end + 1;
    }
  }
  // How often an NVML entry point was called since the last reset (names in fake_nvml.c).
  unsigned long long Calls(const std::string& function) const { return calls_(function.c_str()); }
  // Successful nvmlInit calls not yet paired with nvmlShutdown.
  long long OpenInits() const { return open_inits_(); }

 private:
  template <typename Fn>
  Fn Symbol(const char* name) {
    void* symbol = ::dlsym(handle_, name);
    if (symbol == nullptr) {
      throw std::runtime_error(std::string("fake NVML lacks ") + name);
    }
    return reinterpret_cast<Fn>(symbol);
  }

  std::string path_;
  void* handle_ = nullptr;
  void (*reset_)() = nullptr;
  int (*set_)(const char*) = nullptr;
  unsigned long long (*calls_)(const char*) = nullptr;
  long long (*open_inits_)() = nullptr;
};

}  // namespace metricsd::testing
