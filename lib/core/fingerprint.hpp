// SPDX-License-Identifier: Apache-2.0
// The voting configuration's fingerprint (issue 19): one number that two
// members share iff they agree on who votes on every resource.
//
// Quorum intersection (Guarantees 1 and 2) needs every member to compute the
// same voters for a resource and the same majority of them. Those follow from
// exactly two things (placement.hpp): the set of member ids and the replica
// count as it takes effect, min(R, members) (with R >= members every member
// votes, whatever R says). Two members that differ in either can form
// majorities that do not intersect, so every datagram carries its sender's
// fingerprint and a receiver refuses lease messages that carry another one
// (codec::Receiver, docs/protocol.md "Voting configuration").
//
// Addresses are left out on purpose: a vote is counted for the member id in
// the authenticated header, never for the address it came from, so a wrong
// address is lost or misdirected traffic (safe; `batonctl status` shows the
// member unreachable), and members may legitimately reach one another at
// different addresses (NAT, containers, several interfaces).
//
// Encoding, fixed forever for version 1 (the value must agree across
// builds): XXH3-64, seed 0, over the ASCII domain string below, then R
// (effective) and the member count as little-endian uint32, then every
// member id, ascending, as little-endian uint32. The domain names the
// placement function, so a future placement change also changes every
// fingerprint. The value 0 is never returned: on the wire 0 means "no
// fingerprint" (a sender that predates them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/config.hpp"
#include "core/ids.hpp"

namespace baton::core {

// The encoding's domain string (no terminator is hashed).
inline constexpr std::string_view voting_fingerprint_domain = "baton voting configuration/1 rendezvous-xxh64";

// Fingerprint of `members` (any order, unique, non-zero) voting with
// `replicas` voters per resource (clamped to the member count). Never 0.
std::uint64_t voting_fingerprint(std::span<const MemberId> members, std::size_t replicas);
// The fingerprint of a member's configuration: its members and R.
std::uint64_t voting_fingerprint(const NodeConfig& c);

// 16 lowercase hex digits: how logs, status and docs print a fingerprint.
std::string fingerprint_hex(std::uint64_t fingerprint);

}  // namespace baton::core
