// SPDX-License-Identifier: Apache-2.0
// A tiny in-memory cluster for unit tests: nodes, a shared virtual clock, and
// a network that delivers everything in order unless told otherwise. The
// scenario tests and the simulator have richer worlds; this one is for
// checking one behaviour at a time.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/invariants.hpp"
#include "core/node.hpp"

namespace baton::core::testing {

struct InFlight {
  MemberId from;
  MemberId to;
  Message msg;
};

class TestCluster {
 public:
  explicit TestCluster(std::size_t n, NodeConfig base = {}) {
    for (std::size_t i = 1; i <= n; ++i) base.members.push_back(MemberId{static_cast<std::uint32_t>(i)});
    base_ = base;
    for (std::size_t i = 1; i <= n; ++i) start(MemberId{static_cast<std::uint32_t>(i)}, RecoveryMode::first_start);
  }

  // `persist`: with a state directory (implied by reservation; with peers: one that lost its state).
  void start(MemberId id, RecoveryMode mode, Token reservation = {}, bool persist = false) {
    NodeConfig c = base_;
    c.self = id;
    c.incarnation = Incarnation{++incarnations_[id.value]};
    c.recovery = mode;
    c.recovered_reservation = reservation;
    if (mode == RecoveryMode::reservation || persist) c.persist = true;
    auto n = Node::create(c, 1000 + id.value * 7 + incarnations_[id.value], now_);
    EXPECT_TRUE(n.ok()) << n.what();
    nodes_[id.value] = std::move(*n);
    collect(id);
  }

  // A client (issue 21): not one of the members, id in the client namespace.
  void start_client(MemberId id, Incarnation incarnation) {
    EXPECT_TRUE(is_client(id));
    NodeConfig c = base_;
    c.self = id;
    c.incarnation = incarnation;
    c.recovery = RecoveryMode::first_start;
    auto n = Node::create(c, 5000 + incarnation.value, now_);
    EXPECT_TRUE(n.ok()) << n.what();
    nodes_[id.value] = std::move(*n);
    collect(id);
  }

  void crash(MemberId id) { nodes_.erase(id.value); }

  Node& node(std::uint32_t id) { return *nodes_.at(id); }
  Instant now() const { return now_; }

  // Moves every node's outbox into the network queue and the event log.
  void collect(MemberId id) {
    Outbox out;
    nodes_.at(id.value)->take_outbox(out);
    for (auto& o : out.messages) net_.push_back(InFlight{id, o.to, std::move(o.msg)});
    for (auto& e : out.events) events_[id.value].push_back(e);
    if (out.persist) persists_[id.value] = *out.persist;
    if (out.reconfigured) reconfigured_[id.value].push_back(*out.reconfigured);
    check(id);
  }

  void check(MemberId id) {
    if (!nodes_.count(id.value)) return;
    const std::string bad = check_invariants(*nodes_.at(id.value));
    EXPECT_EQ(bad, "") << "member " << id.value;
  }

  // Delivers queued messages (and what they cause) until quiet, except to or
  // from members in `cut`.
  std::size_t deliver_all(const std::set<std::uint32_t>& cut = {}, std::size_t max_steps = 100000) {
    std::size_t n = 0;
    while (!net_.empty() && n < max_steps) {
      InFlight f = std::move(net_.front());
      net_.pop_front();
      ++n;
      if (cut.count(f.from.value) || cut.count(f.to.value) || !nodes_.count(f.to.value)) continue;
      nodes_.at(f.to.value)->on_message(now_, f.from, f.msg);
      collect(f.to);
    }
    return n;
  }

  // Advances virtual time, firing deadlines as they come due.
  void advance(Duration d, const std::set<std::uint32_t>& cut = {}) {
    const Instant end = now_ + d;
    deliver_all(cut);
    while (true) {
      Instant next = Instant::max();
      for (auto& [id, n] : nodes_) next = min(next, n->next_deadline());
      if (next > end) break;
      now_ = max(now_, next);
      for (auto& [id, n] : nodes_) {
        if (n->next_deadline() <= now_) {
          n->on_deadline(now_);
          collect(MemberId{id});
        }
      }
      deliver_all(cut);
    }
    now_ = end;
    deliver_all(cut);
  }

  Result<AcquireId> acquire(std::uint32_t id, const char* res, Duration ttl, Duration wait, bool auto_renew = false) {
    auto r = node(id).acquire(now_, AcquireArgs{.resource = ResourceName(res), .ttl = ttl,
                                                .wait_until = now_ + wait, .auto_renew = auto_renew});
    collect(MemberId{id});
    return r;
  }

  std::vector<Event>& events(std::uint32_t id) { return events_[id]; }
  std::optional<Event> last_event(std::uint32_t id, AcquireId a) {
    for (auto it = events_[id].rbegin(); it != events_[id].rend(); ++it)
      if (it->id == a) return *it;
    return std::nullopt;
  }
  std::deque<InFlight>& network() { return net_; }
  std::map<std::uint32_t, Token>& persists() { return persists_; }
  // Outbox::reconfigured of member `id`, in order.
  std::vector<ReconfigResult>& reconfigured(std::uint32_t id) { return reconfigured_[id]; }

 private:
  NodeConfig base_;
  Instant now_ = Instant::from_ns(1'000'000'000);
  std::map<std::uint32_t, std::unique_ptr<Node>> nodes_;
  std::map<std::uint32_t, std::uint64_t> incarnations_;
  std::deque<InFlight> net_;
  std::map<std::uint32_t, std::vector<Event>> events_;
  std::map<std::uint32_t, Token> persists_;
  std::map<std::uint32_t, std::vector<ReconfigResult>> reconfigured_;
};

}  // namespace baton::core::testing
