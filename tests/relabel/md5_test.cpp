#include "relabel/md5.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <random>
#include <string>

namespace metricsd {
namespace {

std::string Hex(const Md5Digest& digest) {
  std::string hex;
  for (std::uint8_t byte : digest) {
    char pair[3];
    std::snprintf(pair, sizeof(pair), "%02x", byte);
    hex.append(pair);
  }
  return hex;
}

Md5Digest OpensslMd5(std::string_view bytes) {
  Md5Digest digest{};
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_md5(), nullptr), 1);
  EXPECT_EQ(size, digest.size());
  return digest;
}

// The test suite of RFC 1321, appendix A.5.
TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(Hex(Md5::Of("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(Md5::Of("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Hex(Md5::Of("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Hex(Md5::Of("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Hex(Md5::Of("abcdefghijklmnopqrstuvwxyz")), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(Hex(Md5::Of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(Hex(Md5::Of("1234567890123456789012345678901234567890123456789012345678901234567890"
                        "1234567890")),
            "57edf4a22be3c955ac49da2e2107b67a");
}

// Every length around the block and padding boundaries (55, 56, 64, 119, 120 ...), random
// bytes, and the same message fed in two pieces split at a random point.
TEST(Md5, MatchesOpensslOnRandomInput) {
  std::mt19937_64 random(20230201);
  for (std::size_t length = 0; length <= 300; ++length) {
    std::string message(length, '\0');
    for (char& c : message) {
      c = static_cast<char>(random() & 0xFF);
    }
    const Md5Digest expected = OpensslMd5(message);
    ASSERT_EQ(Hex(Md5::Of(message)), Hex(expected)) << "length " << length;

    const std::size_t split = length == 0 ? 0 : random() % (length + 1);
    Md5 incremental;
    incremental.Update(std::string_view(message).substr(0, split));
    incremental.Update(std::string_view(message).substr(split));
    ASSERT_EQ(Hex(incremental.Finish()), Hex(expected))
        << "length " << length << " split " << split;
  }
}

TEST(Md5, FinishResetsForTheNextMessage) {
  Md5 md5;
  md5.Update("first message");
  (void)md5.Finish();
  md5.Update("abc");
  EXPECT_EQ(Hex(md5.Finish()), "900150983cd24fb0d6963f7d28e17f72");
}

}  // namespace
}  // namespace metricsd
