// HTTP basic auth for the server's own endpoint, against bcrypt hashes (the form
// node_exporter's web configuration uses), checked with libxcrypt's crypt_r.
//
// bcrypt is slow on purpose (tens to hundreds of milliseconds), and the server answers
// every client from one thread, so bcrypt never runs on that thread:
//  - a password that verified once is remembered per user and later compared in constant
//    time: a scraper with the right password pays bcrypt once, not per scrape;
//  - other credentials go to one worker thread; the server thread keeps serving and gets the
//    verdict through ready_fd();
//  - the worker spends at most kBcryptShare of one core on average (the time it took is
//    charged after each check), with at most kMaxQueued checks waiting; credentials beyond
//    that are answered kBusy (429) at once, so a flood of wrong passwords costs bounded CPU
//    and never delays /health or a scraper whose password is known;
//  - an unknown user costs a bcrypt of a fixed hash too, so timing does not tell which user
//    names exist.
// One BasicAuth per set of users: a reload builds a new one (forgetting verified passwords).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/unique_fd.h"

namespace metricsd {

class BasicAuth {
 public:
  enum class Verdict { kAllowed, kDenied, kBusy, kPending };
  static constexpr double kBcryptShare = 0.25;
  static constexpr std::size_t kMaxQueued = 8;

  // user -> bcrypt hash; the hashes were validated with the configuration.
  explicit BasicAuth(std::map<std::string, std::string> users);
  ~BasicAuth();
  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // `authorization` is the Authorization header's value (empty when there was none).
  // kPending: a bcrypt check was queued under `ticket`; its verdict comes from Finished().
  Verdict Check(std::string_view authorization, std::uint64_t ticket);

  // Readable while finished checks wait to be taken.
  int ready_fd() const noexcept { return ready_fd_.get(); }
  // (ticket, allowed) of every check finished since the last call.
  std::vector<std::pair<std::uint64_t, bool>> Finished();

 private:
  struct Job {
    std::uint64_t ticket;
    std::string user;
    std::string password;
  };
  void Work();

  const std::map<std::string, std::string, std::less<>> users_;
  UniqueFd ready_fd_;  // eventfd
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::string, std::less<>> verified_;  // user -> password that matched
  std::deque<Job> queued_;
  std::vector<std::pair<std::uint64_t, bool>> finished_;
  // bcrypt time the worker may still spend now; refills at kBcryptShare, capped at 1 s.
  std::chrono::duration<double> budget_{1.0};
  std::chrono::steady_clock::time_point refilled_ = std::chrono::steady_clock::now();
  bool stopping_ = false;
  std::thread worker_;
};

// Decodes standard base64 (RFC 4648, padded); nullopt on any invalid input.
std::optional<std::string> DecodeBase64(std::string_view in);

// True when a and b are equal, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace metricsd
