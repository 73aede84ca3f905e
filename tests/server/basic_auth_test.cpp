#include "server/basic_auth.h"

#include "core/base64.h"
#include "support/bcrypt.h"

#include <poll.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace metricsd {
namespace {

using namespace std::chrono_literals;
using Verdict = BasicAuth::Verdict;

std::string Bcrypt(const std::string& password, int cost = 4) {
  return testing::BcryptHash(password, cost);
}

std::string Header(const std::string& user_colon_password) {
  // Encoded with the same alphabet the decoder reads; checked against known vectors below.
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  const std::string& in = user_colon_password;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return "Basic " + out;
}

// Waits (up to 10 s) for the verdict of `ticket`.
std::optional<bool> AwaitVerdict(BasicAuth& auth, std::uint64_t ticket) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{.fd = auth.ready_fd(), .events = POLLIN, .revents = 0};
    ::poll(&p, 1, 100);
    for (const auto& [id, allowed] : auth.Finished()) {
      if (id == ticket) {
        return allowed;
      }
    }
  }
  return std::nullopt;
}

TEST(Base64, DecodesTheRfc4648Vectors) {
  EXPECT_EQ(DecodeBase64(""), "");
  EXPECT_EQ(DecodeBase64("Zg=="), "f");
  EXPECT_EQ(DecodeBase64("Zm8="), "fo");
  EXPECT_EQ(DecodeBase64("Zm9v"), "foo");
  EXPECT_EQ(DecodeBase64("Zm9vYg=="), "foob");
  EXPECT_EQ(DecodeBase64("Zm9vYmE="), "fooba");
  EXPECT_EQ(DecodeBase64("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Header("foobar"), "Basic Zm9vYmFy");
}

TEST(Base64, RefusesMalformedInput) {
  EXPECT_FALSE(DecodeBase64("Zm9"));       // not a multiple of 4
  EXPECT_FALSE(DecodeBase64("Zm=v"));      // data after padding
  EXPECT_FALSE(DecodeBase64("Z==="));      // too much padding
  EXPECT_FALSE(DecodeBase64("Zg==Zm9v"));  // padding before the end
  EXPECT_FALSE(DecodeBase64("Zm9v!A=="));  // outside the alphabet
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(BasicAuth, TheRightPasswordIsCheckedWithBcryptOnceThenFromMemory) {
  BasicAuth auth({{"prom", Bcrypt("right-pw")}});
  ASSERT_EQ(auth.Check(Header("prom:right-pw"), 1), Verdict::kPending);
  EXPECT_EQ(AwaitVerdict(auth, 1), true);
  EXPECT_EQ(auth.Check(Header("prom:right-pw"), 2), Verdict::kAllowed);
  // The remembered password does not let a different one through.
  ASSERT_EQ(auth.Check(Header("prom:right-pwX"), 3), Verdict::kPending);
  EXPECT_EQ(AwaitVerdict(auth, 3), false);
}

TEST(BasicAuth, WrongPasswordsAndUnknownUsersAreDenied) {
  BasicAuth auth({{"prom", Bcrypt("right-pw")}});
  ASSERT_EQ(auth.Check(Header("prom:wrong"), 1), Verdict::kPending);
  EXPECT_EQ(AwaitVerdict(auth, 1), false);
  ASSERT_EQ(auth.Check(Header("nobody:right-pw"), 2), Verdict::kPending);
  EXPECT_EQ(AwaitVerdict(auth, 2), false);
  // The user name is case-sensitive, as the map's keys are.
  ASSERT_EQ(auth.Check(Header("Prom:right-pw"), 3), Verdict::kPending);
  EXPECT_EQ(AwaitVerdict(auth, 3), false);
}

TEST(BasicAuth, MissingOrMalformedCredentialsAreDeniedWithoutBcrypt) {
  BasicAuth auth({{"prom", Bcrypt("right-pw")}});
  EXPECT_EQ(auth.Check("", 1), Verdict::kDenied);
  EXPECT_EQ(auth.Check("Bearer abc", 2), Verdict::kDenied);
  EXPECT_EQ(auth.Check("Basic", 3), Verdict::kDenied);
  EXPECT_EQ(auth.Check("Basic !!!!", 4), Verdict::kDenied);
  EXPECT_EQ(auth.Check(Header("no-colon"), 5), Verdict::kDenied);
  // The scheme is case-insensitive (RFC 7235).
  EXPECT_EQ(auth.Check("bAsIc " + Header("prom:right-pw").substr(6), 6), Verdict::kPending);
  EXPECT_EQ(AwaitVerdict(auth, 6), true);
}

TEST(BasicAuth, AFloodOfPasswordsIsRefusedBeyondTheQueue) {
  // Cost 12: each check takes long enough that the queue fills before the worker drains it.
  BasicAuth auth({{"prom", Bcrypt("right-pw", 12)}});
  int pending = 0;
  int busy = 0;
  for (std::uint64_t i = 1; i <= 3 * BasicAuth::kMaxQueued; ++i) {
    Verdict v = auth.Check(Header("prom:guess" + std::to_string(i)), i);
    pending += v == Verdict::kPending;
    busy += v == Verdict::kBusy;
  }
  EXPECT_LE(pending, static_cast<int>(BasicAuth::kMaxQueued) + 1);
  EXPECT_GE(busy, static_cast<int>(2 * BasicAuth::kMaxQueued) - 1);
}

}  // namespace
}  // namespace metricsd
