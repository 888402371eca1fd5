// SPDX-License-Identifier: Apache-2.0
// Placement: which members vote on a resource.
//
// With at most R members every member votes. With more, a resource's voters
// are the R members with the highest rendezvous score xxh64(resource, member):
// a pure function of the name and the member ids, so every member computes
// the same set without coordination, and adding or removing a member moves
// only the resources whose top R it enters or leaves.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "core/ids.hpp"

namespace baton::core {

// Sorted voters of `resource` among `members` (any order), at most `replicas`.
std::vector<MemberId> place(std::string_view resource, std::span<const MemberId> members, std::size_t replicas);

// Rendezvous score of one (resource, member) pair.
std::uint64_t rendezvous_score(std::string_view resource, MemberId member);

// Votes needed for a majority of `voters`.
constexpr std::size_t majority(std::size_t voters) { return voters / 2 + 1; }

}  // namespace baton::core
