// SPDX-License-Identifier: Apache-2.0
// SimNetwork: the simulated datagram network between members.
//
// Everything DESIGN "Assumptions" allows happens here: loss, duplication,
// reordering (every datagram draws its own delay, and with reorder_ppm a
// datagram overtakes the one sent before it on its link), delays with long tails,
// occasionally far beyond any ttl, one-way and two-way partitions, and clogged
// links that hold their traffic until they heal. Queues are bounded: a link
// with too many datagrams in flight drops new ones, as a full socket buffer would.
//
// All randomness comes from the world's Rng, in the order of calls, so a seed
// replays exactly. Times are true time in ns.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.hpp"
#include "core/message.hpp"
#include "core/rng.hpp"

namespace baton::sim {

// One datagram: a batch of messages from one member to another.
struct Datagram {
  core::MemberId from;                // sending member (or client: its id in that life)
  core::MemberId to;                  // receiving member (or client life)
  std::vector<core::Message> msgs;    // 1..messages_per_datagram_max messages
  std::uint64_t serial = 0;           // send order, unique per run (duplicates share it)
  // Network slots, 1..processes: members 1..N (slot == id), then client
  // slots (issue 21), whose ids change with each life. 0: the id is the slot.
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint32_t src_slot() const { return src ? src : from.value; }
  std::uint32_t dst_slot() const { return dst ? dst : to.value; }
};

// How the network behaves; the world swaps profiles between phases.
struct NetworkProfile {
  std::uint32_t loss_ppm = 0;           // chance a datagram is lost, ppm
  std::uint32_t dup_ppm = 0;            // chance a datagram is delivered twice, ppm
  std::int64_t delay_min_ns = 50'000;   // usual one-way delay, lower end (true ns)
  std::int64_t delay_max_ns = 500'000;  // usual one-way delay, upper end (true ns)
  std::uint32_t tail_ppm = 0;           // chance of a long delay, ppm
  std::int64_t tail_max_ns = 0;         // long delays are uniform up to this (true ns)
  std::uint32_t far_tail_ppm = 0;       // chance of a delay far beyond the ttl, ppm
  std::int64_t far_tail_max_ns = 0;     // ... uniform up to this (true ns)
  // Chance, ppm, that a datagram overtakes the one sent before it on its link
  // (arrives before it, if that one is still in flight): with a large share,
  // out-of-order delivery becomes the norm rather than a coin flip.
  std::uint32_t reorder_ppm = 0;
};

// Counters for the run summary.
struct NetworkCounters {
  std::uint64_t sent = 0;        // datagrams handed to the network
  std::uint64_t delivered = 0;   // datagrams that reached their receiver
  std::uint64_t lost = 0;        // dropped by random loss
  std::uint64_t blocked = 0;     // dropped by a partition
  std::uint64_t overflowed = 0;  // dropped because the link queue was full
  std::uint64_t duplicated = 0;  // extra copies scheduled
  std::uint64_t clogged = 0;     // datagrams held back by a clog
  std::uint64_t overtook = 0;    // datagrams made to overtake the previous one on their link (reorder_ppm)
  // Reordering: datagrams sent while the one before them on their link was
  // still in flight (the pairs that can swap), and how many of those are to
  // arrive before it.
  std::uint64_t pairs_in_flight = 0;
  std::uint64_t pairs_swapped = 0;
};

class SimNetwork {
 public:
  // `members`: slots are 1..members (members, then client slots). `link_queue_max`: datagrams in flight per link.
  SimNetwork(std::size_t members, std::size_t link_queue_max, core::Rng& rng);

  void set_profile(const NetworkProfile& p) { profile_ = p; }
  const NetworkProfile& profile() const { return profile_; }

  // Partition: datagrams from -> to are dropped while blocked (one direction).
  // Blocks nest: overlapping partitions of one link each lift their own block.
  void block(core::MemberId from, core::MemberId to);
  void unblock(core::MemberId from, core::MemberId to);
  bool blocked(core::MemberId from, core::MemberId to) const;
  // Clog: datagrams from -> to sent before `until_true_ns` arrive no earlier than it.
  void clog(core::MemberId from, core::MemberId to, std::int64_t until_true_ns);
  // Lifts every partition and clog (queued datagrams keep their arrival times).
  void heal_all();

  // Hands a datagram to the network at true time `now_true_ns`.
  void send(std::int64_t now_true_ns, Datagram d);
  // True time of the next arrival, or INT64_MAX.
  std::int64_t next_arrival_ns() const;
  // The next datagram due at or before `now_true_ns`, if any.
  std::optional<Datagram> pop_due(std::int64_t now_true_ns);

  const NetworkCounters& counters() const { return counters_; }
  std::size_t in_flight() const { return queue_.size(); }
  // Resources that datagrams in flight now could still make a voter hold for
  // `m`: its REQUESTs and RENEWs on their way to voters, and the GRANTs and
  // RENEW_ACKs on their way back to it (which it would have given back).
  std::set<std::string> lease_traffic_of(core::MemberId m) const;

 private:
  std::size_t link(core::MemberId from, core::MemberId to) const { return link(from.value, to.value); }
  std::size_t link(std::uint32_t src_slot, std::uint32_t dst_slot) const;
  std::size_t link(const Datagram& d) const { return link(d.src_slot(), d.dst_slot()); }
  std::int64_t draw_delay();
  // Arrival time of a datagram sent now on link `l` (draws its delay).
  std::int64_t arrival(std::int64_t now_true_ns, std::size_t l);
  void enqueue(std::int64_t now_true_ns, std::int64_t arrive_true_ns, Datagram d);

  std::size_t members_;                 // member count
  std::size_t link_queue_max_;          // per-link bound on datagrams in flight
  core::Rng& rng_;                      // the world's Rng
  NetworkProfile profile_;
  std::vector<std::uint32_t> blocked_;  // [from*members+to]: partitions in force on the link
  std::vector<std::int64_t> clog_until_;  // [from*members+to]: clogged until (true ns)
  std::vector<std::size_t> link_load_;  // [from*members+to]: datagrams in flight
  std::vector<std::int64_t> last_arrival_;  // [from*members+to]: arrival of the last datagram enqueued (true ns)
  // In flight, by (arrival true ns, insertion order): ties resolve in send order.
  std::map<std::pair<std::int64_t, std::uint64_t>, Datagram> queue_;
  std::uint64_t inserted_ = 0;          // insertion counter for the queue key
  std::uint64_t serial_ = 0;            // datagram serial counter
  NetworkCounters counters_;
};

}  // namespace baton::sim
