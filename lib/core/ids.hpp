// SPDX-License-Identifier: Apache-2.0
// Strong types for the protocol's identifiers, so that a token is never
// passed where a member id is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace baton::core {

template <typename Tag, typename Rep>
struct StrongId {
  Rep value{};
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
};

struct MemberIdTag {};
struct IncarnationTag {};
struct TokenTag {};
struct AcquireIdTag {};

// A member of the static cluster, 1..member_id_max (0 is "no member"), or a
// client (is_client): a process that acquires through the voters without a
// member slot (issue 21). Client ids live in their own namespace, the top bit
// set, so that no client can ever be taken for a member.
using MemberId = StrongId<MemberIdTag, std::uint32_t>;

inline constexpr std::uint32_t client_id_flag = 1u << 31;
// The largest member id: below the client namespace.
inline constexpr std::uint32_t member_id_max = client_id_flag - 1;

// Whether `m` names a client (its top bit is set), not a member.
constexpr bool is_client(MemberId m) { return (m.value & client_id_flag) != 0; }

// The client id for 31 bits of `random` (a client draws them per process
// life, with a random 64-bit incarnation: lease ids, which carry both, stay
// unique across client restarts; docs/protocol.md "Clients").
constexpr MemberId client_id(std::uint32_t random) { return MemberId{client_id_flag | random}; }
// One life of a member process: a restart gets a larger (or at least a
// different) incarnation, so ids minted in one life are never reused.
using Incarnation = StrongId<IncarnationTag, std::uint64_t>;
// Fencing token: strictly increasing per resource across successive leases
// (Guarantee 2). 0 is "no token".
using Token = StrongId<TokenTag, std::uint64_t>;
// Handle of one acquire-to-release life of a lease at its acquirer; local to a
// member, never on the wire.
using AcquireId = StrongId<AcquireIdTag, std::uint64_t>;

// Lease ids are unique across restarts: they carry the owner's incarnation
// (DESIGN: "Lease ids are unique across restarts").
struct LeaseId {
  MemberId owner{};         // the acquiring member
  Incarnation incarnation{};  // the acquirer's life that minted it
  std::uint64_t serial = 0;   // per-incarnation counter, from 1
  constexpr auto operator<=>(const LeaseId&) const = default;
  constexpr bool empty() const { return serial == 0; }
};

// When a hold ends, a voter hands the lease to the waiter whose request's
// lease id has the lowest rank (Voter::notify_free). Every voter computes the
// same rank, so voters that saw the same requests agree; it is a hash, not an
// order, so no member is favoured; and an acquirer with k acquires waiting
// picks the lowest-ranked of k fresh serials for its request (Acquirer), so
// it is handed the lease about k times as often as a member with one.
constexpr std::uint64_t handoff_rank(const LeaseId& l) {
  std::uint64_t x = l.serial ^ (std::uint64_t{l.owner.value} << 32) ^ (l.incarnation.value * 0x9e3779b97f4a7c15ULL);
  // splitmix64's finalizer
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A resource name, e.g. "seat:14A": 1..limits::resource_name_bytes_max bytes of
// arbitrary content. Validated where it enters (API, codec).
class ResourceName {
 public:
  ResourceName() = default;
  explicit ResourceName(std::string s) : s_(std::move(s)) {}
  explicit ResourceName(std::string_view s) : s_(s) {}
  explicit ResourceName(const char* s) : s_(s) {}
  const std::string& str() const { return s_; }
  std::string_view view() const { return s_; }
  bool empty() const { return s_.empty(); }
  std::size_t size() const { return s_.size(); }
  auto operator<=>(const ResourceName&) const = default;
  bool operator==(const ResourceName&) const = default;

 private:
  std::string s_;
};

}  // namespace baton::core
