#include "codec/auth.hpp"

#include <sodium.h>

#include "core/assert.hpp"

namespace baton::codec {

static_assert(crypto_auth_KEYBYTES == key_bytes);
static_assert(crypto_auth_BYTES == tag_bytes);

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

void auth_tag(std::span<const std::uint8_t> msg, const ClusterKey& key,
              std::span<std::uint8_t, tag_bytes> tag) {
  ensure_sodium();
  // crypto_auth always returns 0 for these argument types.
  crypto_auth(tag.data(), msg.data(), msg.size(), key.bytes.data());
}

bool auth_verify(std::span<const std::uint8_t> msg, std::span<const std::uint8_t, tag_bytes> tag,
                 const ClusterKey& key) {
  ensure_sodium();
  return crypto_auth_verify(tag.data(), msg.data(), msg.size(), key.bytes.data()) == 0;
}

}  // namespace baton::codec
