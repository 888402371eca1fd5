// Datagram authentication with the cluster key (libsodium crypto_auth,
// HMAC-SHA-512-256). The tag covers every byte of the FlatBuffers buffer,
// header included, and is appended after it (wire/README.md). Verification is
// constant time and runs before any parsing (STYLE.md 10).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace baton::codec {

inline constexpr std::size_t key_bytes = 32;  // crypto_auth_KEYBYTES
inline constexpr std::size_t tag_bytes = 32;  // crypto_auth_BYTES (HMAC-SHA-512-256)

// The shared secret of one cluster. Every member holds the same key.
struct ClusterKey {
  std::array<std::uint8_t, key_bytes> bytes{};  // raw key material, secret
};

// Writes the tag of `msg` under `key` into `tag`.
void auth_tag(std::span<const std::uint8_t> msg, const ClusterKey& key,
              std::span<std::uint8_t, tag_bytes> tag);

// True iff `tag` is the tag of `msg` under `key`. Constant time in the tag's
// content (crypto_auth_verify), so a forger learns nothing from timing.
bool auth_verify(std::span<const std::uint8_t> msg, std::span<const std::uint8_t, tag_bytes> tag,
                 const ClusterKey& key);

}  // namespace baton::codec
