// SPDX-License-Identifier: Apache-2.0
#include "core/fingerprint.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/assert.hpp"
#include "core/limits.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace baton::core {

namespace {

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

std::uint64_t voting_fingerprint(std::span<const MemberId> members, std::size_t replicas) {
  BATON_ASSERT(!members.empty());
  BATON_ASSERT(members.size() <= limits::members_max);
  std::vector<MemberId> sorted(members.begin(), members.end());
  std::sort(sorted.begin(), sorted.end());
  const std::size_t voters = std::min(replicas, sorted.size());
  std::vector<std::uint8_t> bytes(voting_fingerprint_domain.begin(), voting_fingerprint_domain.end());
  put_u32(bytes, static_cast<std::uint32_t>(voters));
  put_u32(bytes, static_cast<std::uint32_t>(sorted.size()));
  for (const MemberId m : sorted) put_u32(bytes, m.value);
  const std::uint64_t h = XXH3_64bits(bytes.data(), bytes.size());
  // 0 is "no fingerprint" on the wire; this one (a 2^-64 event) becomes 1.
  return h == 0 ? 1 : h;
}

std::uint64_t voting_fingerprint(const NodeConfig& c) { return voting_fingerprint(c.members, c.replicas); }

std::string fingerprint_hex(std::uint64_t fingerprint) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fingerprint));
  return buf;
}

}  // namespace baton::core
