// SPDX-License-Identifier: Apache-2.0
// The scenario world: a static cluster of core::Node, a per-member virtual
// clock, and an explicit network queue that moves only when a script says so.
//
// True time starts at 0 (the scenario start); every member's clock starts at
// the same reading and runs at its own rate (1.0 unless `clock` changed it),
// or jumps alone (`advance 3s n1`). Messages queue in FIFO order until
// `deliver` or `drop`; `advance` fires due deadlines but delivers nothing.
// Output from the core is collected after every call: messages are queued,
// events logged for `events`, reservation requests synced (at once, or on
// `sync` when the cluster was made with sync=manual).
//
// Besides every node's core::check_invariants, the world checks the two
// safety guarantees it can see after every step: no two members believe a
// lease on one resource valid at the same true instant (Guarantee 1), and the
// tokens of successive acquisitions of one resource increase (Guarantee 2).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/node.hpp"

namespace baton::scenario {

struct InFlight {
  std::uint64_t seq = 0;  // queue order
  std::int64_t sent_at = 0;  // true time (ns) when it was queued
  core::MemberId from;
  core::MemberId to;
  core::Message msg;
};

struct Member {
  core::MemberId id;
  std::unique_ptr<core::Node> node;  // null while crashed
  std::uint64_t incarnation = 0;
  bool paused = false;
  // Clock: local(t) = local_anchor + (t - true_anchor) * rate_ppm / 1e6.
  core::Instant local_anchor;
  std::int64_t true_anchor = 0;     // ns of true time
  std::int64_t rate_ppm = 1'000'000;
  // Application events of this member (all lives): (true time, line).
  std::vector<std::pair<std::int64_t, std::string>> events;
  std::size_t events_printed = 0;
  // Persistence: the last reservation written durably, and one being written.
  std::optional<core::Token> synced;
  std::optional<core::Token> sync_pending;
  core::AcquireId last_acquire{0};  // highest AcquireId issued in this life
  // The acquirer's phase changes since the last collect(), as trace lines.
  std::vector<std::string> transitions;
};

class World {
 public:
  // Clocks all start here (an arbitrary non-zero monotonic reading).
  static constexpr core::Instant kClockStart = core::Instant::from_ns(1'000'000'000'000);

  void create(std::size_t n, const core::NodeConfig& base, bool manual_sync);
  bool created() const { return !members_.empty(); }

  Member& member(core::MemberId id);
  core::Node& node(core::MemberId id);  // throws if crashed
  std::vector<core::MemberId> ids() const;
  const core::NodeConfig& base() const { return base_; }

  // ---- time ----
  std::int64_t true_now() const { return true_now_; }
  core::Instant local_now(const Member& m) const;
  // "+3s" or "+3s (n2 local +3.03s)" when the member's clock differs.
  std::string when(const Member& m) const;
  std::string local_offset(const Member& m, core::Instant t) const;
  void set_rate(Member& m, std::int64_t rate_ppm);
  // Advances true time by `d`, firing deadlines in order; appends what happened.
  void advance_all(core::Duration d, std::string& out);
  // Jumps one member's clock forward by `d` (true time stands still).
  void advance_member(Member& m, core::Duration d, std::string& out);
  // Fires every deadline already due at a live, unpaused member.
  void fire_due(std::string& out);
  void fire_member(Member& m, std::string& out);

  // ---- members ----
  void start(Member& m, core::RecoveryMode mode, std::string& out);
  void crash(Member& m);
  // Takes the node's outbox: queues messages (printing them if `out` and
  // `show_messages`), records events, and prints and serves persistence
  // requests (if `out`).
  void collect(Member& m, std::string* out, const std::string& prefix = "queued: ", bool show_messages = true);
  void sync(Member& m, std::string& out);

  // ---- network ----
  std::deque<InFlight>& queue() { return queue_; }
  void deliver(const InFlight& f, std::string& out);
  bool cut(core::MemberId a, core::MemberId b) const;
  void set_partition(std::vector<std::set<core::MemberId>> sides) { sides_ = std::move(sides); }
  std::string link(const InFlight& f) const;

  // ---- checks ----
  // Empty if every invariant and guarantee holds, else what broke. A
  // guarantee violation stays reported until take_violation().
  std::string check_all();
  std::string take_violation();
  // Negative controls: a script that breaks an assumption on purpose (a
  // clock beyond rho) says so with `expect-violation`; the runner then
  // leaves guarantee violations to the script's `check`.
  bool violation_expected = false;

 private:
  void record_event(Member& m, const core::Event& e);

  core::NodeConfig base_;
  bool manual_sync_ = false;
  std::map<core::MemberId, Member> members_;
  std::int64_t true_now_ = 0;
  std::deque<InFlight> queue_;
  std::uint64_t next_seq_ = 1;
  std::vector<std::set<core::MemberId>> sides_;  // empty: no partition
  // Guarantee 2: the token of the latest acquisition per resource.
  std::map<std::string, core::Token> last_token_;
  std::string guarantee_violation_;
  std::string violation_key_;               // what guarantee_violation_ is about
  std::set<std::string> reported_;          // violations already taken: not again
};

}  // namespace baton::scenario
