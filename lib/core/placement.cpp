// SPDX-License-Identifier: Apache-2.0
#include "core/placement.hpp"

#include <algorithm>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace baton::core {

std::uint64_t rendezvous_score(std::string_view resource, MemberId member) {
  // Seed the hash with the member id: one pass over the name per member.
  return XXH64(resource.data(), resource.size(), 0x62617430ULL ^ (static_cast<std::uint64_t>(member.value) * 0x9e3779b97f4a7c15ULL));
}

std::vector<MemberId> place(std::string_view resource, std::span<const MemberId> members, std::size_t replicas) {
  std::vector<MemberId> out(members.begin(), members.end());
  if (out.size() > replicas) {
    // Highest score first; ties (astronomically rare) broken by member id.
    auto better = [&](MemberId a, MemberId b) {
      const auto sa = rendezvous_score(resource, a);
      const auto sb = rendezvous_score(resource, b);
      return sa != sb ? sa > sb : a < b;
    };
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(replicas), out.end(), better);
    out.resize(replicas);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace baton::core
