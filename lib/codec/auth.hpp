// SPDX-License-Identifier: Apache-2.0
// Datagram authentication with the cluster key: keyed BLAKE2b (libsodium
// crypto_generichash_blake2b) with a 16-byte tag and the personalization
// auth_personal ("baton datagram/1"), which keeps these tags apart from any
// other use of the same key at no cost (it goes into BLAKE2b's parameter
// block). The tag covers every byte of the FlatBuffers buffer, header
// included, and is appended after it (wire/README.md). Verification is
// constant time and runs before any parsing (STYLE.md 10).
//
// Cost (issue 7): the key fills a BLAKE2b block of its own, so a datagram of
// n bytes costs 1 + ceil(n / 128) BLAKE2b compressions: 3 for 200 bytes,
// where HMAC-SHA-512-256 (crypto_auth, the tag before issue 7) costs 5
// SHA-512 compressions, each about as dear. AuthKey computes the keyed state
// once per key and copies it per datagram, but libsodium 1.0.18 buffers up
// to two blocks before compressing, so the key block is still compressed
// per datagram: the saving is the key setup only (bench/codec_bench.cpp,
// BM_Auth_Blake2b against BM_Auth_Blake2bOneShot).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace baton::codec {

inline constexpr std::size_t key_bytes = 32;  // crypto_generichash_KEYBYTES (the key file's size, unchanged)
inline constexpr std::size_t tag_bytes = 16;  // crypto_generichash_BYTES_MIN: a 128-bit tag

// BLAKE2b personalization of every tag: the 16 ASCII bytes "baton datagram/1".
inline constexpr std::array<std::uint8_t, 16> auth_personal{'b', 'a', 't', 'o', 'n', ' ', 'd', 'a',
                                                            't', 'a', 'g', 'r', 'a', 'm', '/', '1'};

// The shared secret of one cluster. Every member holds the same key.
struct ClusterKey {
  std::array<std::uint8_t, key_bytes> bytes{};  // raw key material, secret
};

// A cluster key ready to tag and verify: the keyed BLAKE2b state, computed
// once. Holds key material; wiped on destruction.
class AuthKey {
 public:
  explicit AuthKey(const ClusterKey& key);
  ~AuthKey();
  AuthKey(const AuthKey&) = default;
  AuthKey& operator=(const AuthKey&) = default;

  // Writes the tag of `msg` into `tag`.
  void tag(std::span<const std::uint8_t> msg, std::span<std::uint8_t, tag_bytes> tag) const;
  // True iff `tag` is the tag of `msg`. Constant time in the tag's content
  // (crypto_verify_16), so a forger learns nothing from timing.
  bool verify(std::span<const std::uint8_t> msg, std::span<const std::uint8_t, tag_bytes> tag) const;

 private:
  // A crypto_generichash_blake2b_state after init: opaque here so that no
  // header outside auth.cpp includes sodium.h (auth.cpp static_asserts the
  // size and alignment).
  alignas(64) std::array<std::uint8_t, 384> state_{};
};

// One-shot forms: derive the AuthKey and tag/verify once. For tests, tools
// and the fuzzers; the hot path (Packer, Receiver) keeps an AuthKey.
void auth_tag(std::span<const std::uint8_t> msg, const ClusterKey& key,
              std::span<std::uint8_t, tag_bytes> tag);
bool auth_verify(std::span<const std::uint8_t> msg, std::span<const std::uint8_t, tag_bytes> tag,
                 const ClusterKey& key);

}  // namespace baton::codec
