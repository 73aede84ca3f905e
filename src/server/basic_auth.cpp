#include "server/basic_auth.h"

#include <crypt.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "core/base64.h"
#include "core/bytes.h"
#include "core/thread_name.h"

namespace metricsd {

namespace {

// Checked against when the user is unknown, so that a miss costs what a hit costs. Any
// valid cost-10 hash does; nobody knows a password for this one's random salt and digest.
constexpr const char* kUnknownUserHash =
    "$2b$10$X/OwgflWGUvVEhLbHIlt0exOtBVoEiBzSTh8VytGBaMZdNUUmaWtC";

bool BcryptMatches(const std::string& password, const std::string& hash, crypt_data& scratch) {
  scratch.initialized = 0;
  const char* out = ::crypt_r(password.c_str(), hash.c_str(), &scratch);
  // libxcrypt returns a string starting with '*' on failure, never null by default.
  return out != nullptr && out[0] != '*' && ConstantTimeEquals(out, hash);
}

}  // namespace

BasicAuth::BasicAuth(std::map<std::string, std::string> users)
    : users_(users.begin(), users.end()),
      ready_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      worker_([this] {
        SetCurrentThreadName("md-auth");
        Work();
      }) {}

BasicAuth::~BasicAuth() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  worker_.join();
}

BasicAuth::Verdict BasicAuth::Check(std::string_view authorization, std::uint64_t ticket) {
  constexpr std::string_view kScheme = "basic ";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return Verdict::kDenied;
  }
  std::string_view encoded = authorization.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') {
    encoded.remove_prefix(1);
  }
  std::optional<std::string> decoded = DecodeBase64(encoded);
  std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) {
    return Verdict::kDenied;
  }
  std::string user = decoded->substr(0, colon);
  std::string password = decoded->substr(colon + 1);
  std::lock_guard lock(mutex_);
  if (auto known = verified_.find(user); known != verified_.end()) {
    if (ConstantTimeEquals(known->second, password)) {
      return Verdict::kAllowed;
    }
  }
  const auto now = std::chrono::steady_clock::now();
  using Seconds = std::chrono::duration<double>;
  budget_ = std::min(Seconds(1.0), budget_ + Seconds(now - refilled_) * kBcryptShare);
  refilled_ = now;
  if (budget_.count() <= 0 || queued_.size() >= kMaxQueued) {
    return Verdict::kBusy;
  }
  queued_.push_back(Job{ticket, std::move(user), std::move(password)});
  wake_.notify_one();
  return Verdict::kPending;
}

std::vector<std::pair<std::uint64_t, bool>> BasicAuth::Finished() {
  std::uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(ready_fd_.get(), &count, sizeof count);
  std::lock_guard lock(mutex_);
  return std::exchange(finished_, {});
}

void BasicAuth::Work() {
  // crypt_r's work area is 32 KiB: one, reused, on the heap rather than the stack.
  auto scratch = std::make_unique<crypt_data>();
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
    if (stopping_) {
      return;
    }
    Job job = std::move(queued_.front());
    queued_.pop_front();
    auto found = users_.find(job.user);
    const std::string hash = found != users_.end() ? found->second : kUnknownUserHash;
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    bool allowed = BcryptMatches(job.password, hash, *scratch) && found != users_.end();
    const auto spent = std::chrono::steady_clock::now() - started;
    lock.lock();
    budget_ -= spent;
    if (allowed) {
      verified_[job.user] = job.password;
    }
    finished_.emplace_back(job.ticket, allowed);
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(ready_fd_.get(), &one, sizeof one);
  }
}

}  // namespace metricsd
