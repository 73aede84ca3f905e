#include "server/basic_auth.h"

#include <crypt.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

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

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      v[k] = pad > 0 ? -1 : Base64Value(c);  // nothing but '=' after a '='
      if (v[k] < 0) {
        return std::nullopt;
      }
    }
    std::uint32_t bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(bits >> 16);
    if (pad < 2) out += static_cast<char>((bits >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(bits & 0xff);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

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
