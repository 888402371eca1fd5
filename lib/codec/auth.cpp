// SPDX-License-Identifier: Apache-2.0
#include "codec/auth.hpp"

#include <sodium.h>

#include <cstring>

#include "core/assert.hpp"

namespace baton::codec {

static_assert(crypto_generichash_blake2b_KEYBYTES == key_bytes);
static_assert(crypto_generichash_blake2b_BYTES_MIN == tag_bytes);
static_assert(crypto_generichash_blake2b_PERSONALBYTES == auth_personal.size());

namespace {

// sodium_init() picks the fastest implementations and must run before any
// other libsodium call. It is thread-safe and idempotent; the function-local
// static makes every later call free. It fails only when the system cannot
// provide what libsodium needs, and then no datagram can be authenticated.
void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  BATON_ASSERT(ready);
}

}  // namespace

AuthKey::AuthKey(const ClusterKey& key) {
  static_assert(sizeof(crypto_generichash_blake2b_state) == sizeof(state_));
  static_assert(alignof(crypto_generichash_blake2b_state) <= alignof(AuthKey));
  ensure_sodium();
  crypto_generichash_blake2b_state s;
  // Returns 0 for these arguments (key, output and personal sizes in range).
  const int init = crypto_generichash_blake2b_init_salt_personal(&s, key.bytes.data(), key.bytes.size(), tag_bytes,
                                                                 nullptr, auth_personal.data());
  BATON_ASSERT(init == 0);
  std::memcpy(state_.data(), &s, sizeof s);
  sodium_memzero(&s, sizeof s);
}

AuthKey::~AuthKey() { sodium_memzero(state_.data(), state_.size()); }

void AuthKey::tag(std::span<const std::uint8_t> msg, std::span<std::uint8_t, tag_bytes> tag) const {
  crypto_generichash_blake2b_state s;
  std::memcpy(&s, state_.data(), sizeof s);
  // Both return 0 for a state from init and an output of the init's size.
  crypto_generichash_blake2b_update(&s, msg.data(), msg.size());
  crypto_generichash_blake2b_final(&s, tag.data(), tag.size());
  // The copy is not wiped: that would cost about as much as a small
  // datagram's tag, and the key itself stays in memory for the member's life.
}

bool AuthKey::verify(std::span<const std::uint8_t> msg, std::span<const std::uint8_t, tag_bytes> tag) const {
  std::array<std::uint8_t, tag_bytes> expected;
  this->tag(msg, expected);
  return crypto_verify_16(expected.data(), tag.data()) == 0;
}

void auth_tag(std::span<const std::uint8_t> msg, const ClusterKey& key, std::span<std::uint8_t, tag_bytes> tag) {
  AuthKey(key).tag(msg, tag);
}

bool auth_verify(std::span<const std::uint8_t> msg, std::span<const std::uint8_t, tag_bytes> tag,
                 const ClusterKey& key) {
  return AuthKey(key).verify(msg, tag);
}

}  // namespace baton::codec
