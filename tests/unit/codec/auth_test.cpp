// auth_tag/auth_verify: HMAC-SHA-512-256 over the given bytes with the
// cluster key. The known-answer vectors were computed independently with
// Python: hmac.new(key, msg, hashlib.sha512).digest()[:32], key = bytes(range(32)).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "codec/auth.hpp"

namespace baton::codec {
namespace {

ClusterKey counting_key() {
  ClusterKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<std::uint8_t>(i);
  return k;
}

std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t x : b) {
    s += digits[x >> 4];
    s += digits[x & 15];
  }
  return s;
}

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Auth, KnownAnswers) {
  struct Case {
    std::string_view msg;
    std::string_view tag_hex;
  };
  const Case cases[] = {
      {.msg = "baton", .tag_hex = "9329970f3c81d7bf9cd5ea2e49d90a0ac99e96805469e2af8f5c584a359d4042"},
      {.msg = "", .tag_hex = "b04a70f45e9529968060f0026344d5f4da59f1c3ce228245f6bb088d7b8aa9fc"},
  };
  for (const auto& c : cases) {
    std::array<std::uint8_t, tag_bytes> tag{};
    auth_tag(bytes_of(c.msg), counting_key(), tag);
    EXPECT_EQ(hex(tag), c.tag_hex) << c.msg;
    EXPECT_TRUE(auth_verify(bytes_of(c.msg), tag, counting_key()));
  }
}

TEST(Auth, AnyChangeFailsVerification) {
  const auto msg = bytes_of("REQUEST seat:14A token=7");
  std::array<std::uint8_t, tag_bytes> tag{};
  auth_tag(msg, counting_key(), tag);
  ASSERT_TRUE(auth_verify(msg, tag, counting_key()));

  ClusterKey other = counting_key();
  other.bytes[31] ^= 0x80;
  EXPECT_FALSE(auth_verify(msg, tag, other));

  for (std::size_t i = 0; i < msg.size(); ++i) {
    auto changed = msg;
    changed[i] ^= 0x01;
    EXPECT_FALSE(auth_verify(changed, tag, counting_key())) << i;
  }
  for (std::size_t i = 0; i < tag.size(); ++i) {
    auto changed = tag;
    changed[i] ^= 0x01;
    EXPECT_FALSE(auth_verify(msg, changed, counting_key())) << i;
  }
  auto longer = msg;
  longer.push_back(0);
  EXPECT_FALSE(auth_verify(longer, tag, counting_key()));
  EXPECT_FALSE(auth_verify(std::span(msg).first(msg.size() - 1), tag, counting_key()));
}

}  // namespace
}  // namespace baton::codec
