// SPDX-License-Identifier: Apache-2.0
// AuthKey, auth_tag/auth_verify: keyed BLAKE2b-128 of the given bytes with the
// cluster key and the personalization "baton datagram/1". The known-answer
// vectors were computed independently with Python: hashlib.blake2b(msg,
// key=key, digest_size=16, person=b"baton datagram/1"), key = bytes(range(32)).
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
      {.msg = "baton", .tag_hex = "7db7a79f00a5e42067baf3389718e4ac"},
      {.msg = "", .tag_hex = "78579173080a32cfe7b49986695d90ec"},
  };
  for (const auto& c : cases) {
    std::array<std::uint8_t, tag_bytes> tag{};
    auth_tag(bytes_of(c.msg), counting_key(), tag);
    EXPECT_EQ(hex(tag), c.tag_hex) << c.msg;
    EXPECT_TRUE(auth_verify(bytes_of(c.msg), tag, counting_key()));
  }
}

// Messages around the BLAKE2b block boundaries (128 bytes fill the block
// after the key's exactly), tagged by one AuthKey that is reused, as the
// Packer and Receiver reuse theirs: tagging must not change its state.
TEST(Auth, ReusedKeyMatchesKnownAnswersAcrossBlockBoundaries) {
  struct Case {
    std::size_t len;  // message bytes: i % 256 for i in [0, len)
    std::string_view tag_hex;
  };
  const Case cases[] = {
      {.len = 127, .tag_hex = "10b4da877d805fc192e11aeff509fcba"},
      {.len = 128, .tag_hex = "85416b33f94f8f5cc2cb962e352ea43c"},
      {.len = 129, .tag_hex = "95c9a45e5d549a5de53a840735034eec"},
      {.len = 200, .tag_hex = "a41ca9eae2f7cce91109586b71778d64"},
      {.len = 300, .tag_hex = "437cf2524a4e197c209ec1b065d846e5"},
  };
  const AuthKey original(counting_key());
  for (int round = 0; round < 2; ++round) {
    const AuthKey key = original;  // round 1: a copy (Packer and Receiver hold copies)
    for (const auto& c : cases) {
      std::vector<std::uint8_t> msg(c.len);
      for (std::size_t i = 0; i < c.len; ++i) msg[i] = static_cast<std::uint8_t>(i % 256);
      std::array<std::uint8_t, tag_bytes> tag{};
      key.tag(msg, tag);
      EXPECT_EQ(hex(tag), c.tag_hex) << c.len;
      EXPECT_TRUE(key.verify(msg, tag)) << c.len;
    }
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
  EXPECT_FALSE(AuthKey(other).verify(msg, tag));
  // And the other way round: a tag made with another key.
  std::array<std::uint8_t, tag_bytes> other_tag{};
  AuthKey(other).tag(msg, other_tag);
  EXPECT_NE(other_tag, tag);
  EXPECT_FALSE(AuthKey(counting_key()).verify(msg, other_tag));

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
