// SPDX-License-Identifier: Apache-2.0
// Stats: counters and gauges of one member, a snapshot copied after every
// batch of the loop (Cluster::stats() never waits for the loop).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "baton/voters.hpp"

namespace baton {

// Why a received datagram was dropped. Dropped datagrams never change state.
enum class DropReason : std::uint8_t {
  oversized = 0,      // larger than the datagram limit (1400 bytes)
  bad_auth = 1,       // authentication tag did not verify (wrong key, truncated, forged)
  malformed = 2,      // not a well-formed datagram
  wrong_cluster = 3,  // another cluster id
  wrong_version = 4,  // wire version not understood
  replayed = 5,       // a datagram already seen, or from an older incarnation
  stranger = 6,       // sender is not a member (or claims to be this member)
  overflow = 7,       // a queue was full (receive batch, tables)
  config_mismatch = 8,  // a member runs another member list or replica count: its lease messages are refused
};
inline constexpr std::size_t drop_reason_count = 9;

constexpr std::string_view drop_reason_name(DropReason r) noexcept {
  switch (r) {
    case DropReason::oversized: return "oversized";
    case DropReason::bad_auth: return "bad_auth";
    case DropReason::malformed: return "malformed";
    case DropReason::wrong_cluster: return "wrong_cluster";
    case DropReason::wrong_version: return "wrong_version";
    case DropReason::replayed: return "replayed";
    case DropReason::stranger: return "stranger";
    case DropReason::overflow: return "overflow";
    case DropReason::config_mismatch: return "config_mismatch";
  }
  return "unknown";
}

// Acquire latency, from the acquire call to the grant, in log2 buckets of
// microseconds: bucket 0 counts [0, 2) us, bucket i >= 1 counts [2^i, 2^(i+1))
// us, the last bucket everything above.
struct LatencyHistogram {
  static constexpr std::size_t buckets = 32;
  std::array<std::uint64_t, buckets> counts{};  // acquires per bucket

  static constexpr std::size_t bucket_of(std::uint64_t micros) noexcept {
    std::size_t b = 0;
    while (micros > 1 && b + 1 < buckets) {
      micros >>= 1;
      ++b;
    }
    return b;
  }
  void record(std::uint64_t micros) noexcept { ++counts[bucket_of(micros)]; }
  std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (auto c : counts) t += c;
    return t;
  }
};

struct Stats {
  // This member as a voter
  std::uint64_t grants = 0;        // GRANTs sent
  std::uint64_t denials = 0;       // DENYs sent
  std::uint64_t renewals = 0;      // holds extended on RENEW
  std::uint64_t live_leases = 0;   // leases live at this voter now
  std::uint64_t waiters = 0;       // waiters remembered by this voter now
  bool quarantined = false;        // not voting yet after a restart
  // This member as an acquirer / holder
  std::uint64_t acquires = 0;          // acquire calls accepted by the loop
  std::uint64_t acquired = 0;          // leases obtained
  std::uint64_t acquire_failures = 0;  // acquires that ended without a lease
  std::uint64_t renewed = 0;           // renewal rounds that reached a majority
  std::uint64_t losses = 0;            // leases lost (any LostReason)
  std::uint64_t held_leases = 0;       // leases this member holds now
  std::uint64_t pending_acquires = 0;  // acquire calls waiting for an outcome now
  LatencyHistogram acquire_latency;    // acquire call -> grant
  // Datagrams
  std::array<std::uint64_t, drop_reason_count> drops{};  // received and dropped, by DropReason
  std::uint64_t datagrams_received = 0;  // accepted and handed to the protocol
  std::uint64_t datagrams_sent = 0;      // handed to the socket
  std::uint64_t send_failures = 0;       // not sent: no send buffer free, socket error, unencodable
  std::uint64_t persist_failures = 0;    // floor reservation writes that failed (retried)
  std::uint64_t observer_pings = 0;      // status PINGs from observers (sender 0) answered by the runtime
  // Incarnations (issue 19, part 3; docs/operations.md "Incarnation behind").
  std::uint64_t incarnation = 0;            // this life's incarnation
  std::uint64_t new_lives = 0;              // lives started in-process because a peer had seen a newer one
  std::uint64_t incarnation_hints_sent = 0; // INCARNATION_BEHIND sent to members whose older life we dropped
  std::uint64_t clients_unknown = 0;        // answers to clients no longer in Limits::clients (not sent)
  std::uint64_t clients_evicted = 0;        // client lives evicted from Limits::clients to make room
  // Issue 21: the configuration record this member votes under (a client:
  // the newest one it heard of). Changes only with a change of the voters.
  VoterConfig voting;

  std::uint64_t drops_total() const noexcept {
    std::uint64_t t = 0;
    for (auto d : drops) t += d;
    return t;
  }
};

}  // namespace baton
