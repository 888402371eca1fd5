// SPDX-License-Identifier: Apache-2.0
// Limits on everything (STYLE.md 5, DESIGN Guarantee 4). Defaults here;
// per-instance overrides live in Limits and are checked by validate().
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/time.hpp"

namespace baton::core::limits {

inline constexpr std::size_t members_max = 64;              // static cluster size
inline constexpr std::size_t replicas_default = 5;          // R: voters per resource
inline constexpr std::size_t resource_name_bytes_max = 128;
inline constexpr std::size_t datagram_bytes_max = 1400;     // fits one Ethernet MTU
inline constexpr std::size_t messages_per_datagram_max = 32;
inline constexpr std::size_t leases_per_voter_default = 1u << 20;     // live leases a voter holds
inline constexpr std::size_t waiters_per_resource_default = 64;
inline constexpr std::size_t waiters_per_voter_default = 1u << 16;
inline constexpr std::size_t acquires_in_flight_default = 1u << 16;   // acquires + held leases per member
inline constexpr std::size_t outbox_messages_default = 1u << 16;      // messages per core call
inline constexpr std::size_t replay_window = 1024;                   // sequence numbers per sender
inline constexpr std::size_t pending_persist_max = 4096;             // requests parked on a floor sync
inline constexpr std::size_t idle_fences_default = 65536;            // idle per-resource fences a voter keeps
inline constexpr std::size_t pong_mismatches_max = 32;               // ConfigMismatch entries in one PONG

inline constexpr std::uint32_t rho_ppm_max = 100000;  // rho <= 0.1
// The largest fencing token (or floor, or reservation) anything accepts: the
// codec drops a datagram that carries a larger one as malformed, and a state
// directory holding one is corrupt. Leaves 2^63 tokens of headroom, so that
// token + 1 and a floor plus a reservation block never wrap (a member that
// accepted UINT64_MAX would assert on its next acquire).
inline constexpr std::uint64_t token_max = (std::uint64_t{1} << 63) - 1;
// Retry jitter window: one round trip, doubled per split vote lost, at most 2^6
// round trips (the simulator's 14 contenders on 7 members needed more than 4).
inline constexpr std::uint32_t jitter_doublings_max = 6;
// A member draws one jitter per local acquire waiting on the resource and keeps
// the earliest (acquirer.hpp); more than this many draws change nothing useful.
inline constexpr std::size_t jitter_draws_max = 64;
inline constexpr Duration ttl_floor = Duration::ms(1);
inline constexpr Duration ttl_ceiling = Duration::s(3600);

static_assert(messages_per_datagram_max >= 2, "a reply plus a FREE must fit one datagram");
static_assert(resource_name_bytes_max + 128 < datagram_bytes_max, "one message must fit one datagram");
static_assert(replicas_default % 2 == 1, "an odd replica count wastes no voter");
// Entries are 24 bytes on the wire; the rest of a maximal PONG (envelope, every
// drop counter, tag) takes about 250 more (codec_test: LargestMessageOfEveryTypeFitsOneDatagram).
static_assert(pong_mismatches_max * 24 + 400 <= datagram_bytes_max);
static_assert(ttl_floor < ttl_ceiling);

// ---- Remote reconfiguration (issue 21 step 4: CONFIG_CHANGE_REPLY) ----
// The human-readable detail of a CONFIG_CHANGE_REPLY, in bytes (longer text
// is cut by the member, refused by the decoder). With the largest record
// (two sets of 64 ids, about 540 bytes) the reply still fits one datagram.
inline constexpr std::size_t config_change_detail_max = 256;
static_assert(config_change_detail_max + 2 * members_max * 4 + 400 <= datagram_bytes_max);

}  // namespace baton::core::limits
