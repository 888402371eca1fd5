// SPDX-License-Identifier: Apache-2.0
// Node: one member's protocol core, the composition of its Voter (answers
// REQUEST/RENEW/RELEASE for the resources it votes on), its Acquirer (this
// member's own acquires and leases) and its Recovery (restart quarantine and
// floor learning).
//
// Sans-I/O (STYLE.md 1): every input carries `now` on this member's monotonic
// clock, which must never go backwards; outputs accumulate in an Outbox that
// the driver drains with take_outbox() after every input, and next_deadline()
// says when on_deadline() is due. Messages to this member itself are delivered
// in-process, inside the same call; they never appear in the outbox.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "baton/result.hpp"
#include "core/config.hpp"
#include "core/ids.hpp"
#include "core/membership.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"
#include "core/sink.hpp"
#include "core/stats.hpp"
#include "core/time.hpp"

namespace baton::core {

class Voter;
class Acquirer;
class Recovery;
class Reconfigurer;

struct AcquireArgs {
  ResourceName resource{};
  Duration ttl{};                     // within [ttl_min, ttl_max]
  Instant wait_until = Instant{};   // give up after this instant (<= now: one try, no waiting)
  bool auto_renew = false;          // renew by itself until release or loss
};

// What the acquirer knows of one of its acquires.
struct LeaseInfo {
  enum class State : std::uint8_t { acquiring, held };
  State state = State::acquiring;
  ResourceName resource{};
  Token token{};            // held: the lease's fencing token
  Instant valid_from{};     // held: t0 (or t_r) of the latest successful round
  Instant validity_end{};   // held: believe the lease valid strictly before this
  bool auto_renew = false;
};

// Node::reconfigure's argument checks, alone (the API runs them on the
// caller's thread, so a bad call fails at once): sorts `voters`. Errors:
// invalid_argument naming the value at fault, as Node::reconfigure.
Result<void> check_reconfigure(const NodeConfig& c, std::vector<MemberId>& voters);

class Node {
 public:
  // Validates `config`; `seed` drives lease-id salts and retry jitter.
  static Result<std::unique_ptr<Node>> create(const NodeConfig& config, std::uint64_t seed, Instant now);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // ---- inputs -------------------------------------------------------------
  // One decoded, authenticated message from member `from`.
  void on_message(Instant now, MemberId from, const Message& m);
  void on_messages(Instant now, MemberId from, std::span<const Message> msgs);
  // Due timers (holds expiring, retries, renewals, quarantine end).
  void on_deadline(Instant now);
  // The runtime durably wrote `reservation` (after Outbox::persist asked).
  void on_persisted(Instant now, Token reservation);
  // A configuration record (issue 21): V1 at this member's voter (a client
  // only learns it, A1). Today only the simulator calls it, standing in for
  // the reconfiguration driver's CONFIG_PROPOSE (step 3). `r` must be valid.
  CfgAccept propose_config(Instant now, const CfgRecord& r);
  // Starts moving the cluster's voters to `voters` (issue 21; core/
  // reconfigure.hpp), driven by this member: its outcome comes back as
  // Outbox::reconfigured. Errors (nothing changed): invalid_argument for a
  // client, an empty list, a voter that is not a member (the address book),
  // more voters than replicas or a cluster in scale mode (more members than
  // replicas: not supported yet), ballots exhausted; busy while a run of
  // this member is under way; unavailable while this member, having lost its
  // state, learns it from its peers (recovery.hpp (c)).
  Result<void> reconfigure(Instant now, std::vector<MemberId> voters);
  // A datagram was dropped before it reached the core.
  void count_drop(DropReason why);

  // ---- API calls ----------------------------------------------------------
  // Errors: invalid_argument (check_acquire: empty or too long name, ttl out
  // of range), overloaded (acquires_in_flight reached). On error nothing changed and no
  // event will follow; otherwise exactly one acquired or acquire_failed event
  // follows for the returned id.
  Result<AcquireId> acquire(Instant now, const AcquireArgs& args);
  // Stops using and releases a held lease, or cancels a pending acquire (which
  // then ends with acquire_failed/cancelled). Errors: not_held (unknown id).
  Result<void> release(Instant now, AcquireId id);
  // Starts a renewal round now; one renewed or renew_failed event follows.
  // Errors: not_held.
  Result<void> renew(Instant now, AcquireId id);
  Result<void> set_auto_renew(Instant now, AcquireId id, bool on);

  // ---- outputs ------------------------------------------------------------
  Instant next_deadline() const;
  // Moves everything pending into `out` (cleared first).
  void take_outbox(Outbox& out);
  bool has_output() const;
  // Some acquire attempt or renewal round has requests out and answers due
  // (the runtime's busy_poll polls for them instead of sleeping).
  bool awaiting_answers() const;

  // ---- inspection ---------------------------------------------------------
  const NodeConfig& config() const;
  // The configuration this member's voter votes under, and its promise.
  const CfgState& cfg() const;
  const NodeStats& stats() const;
  NodeStatus status() const;
  // status() as a PONG answering `nonce`: what `batonctl status` shows,
  // including why this member is quarantined (time left at `now`, answers).
  Pong pong(Instant now, std::uint64_t nonce) const;
  std::optional<LeaseInfo> lease(AcquireId id) const;
  // The acquire's phase in words ("backoff standing=__n"), for people.
  std::string describe(AcquireId id) const;
  // Called at every phase change of this member's acquires (scenario traces,
  // debugging); not needed by the protocol. Empty: no tracing.
  void set_tracer(std::function<void(const Transition&)> tracer);
  const Voter& voter() const;
  const Acquirer& acquirer() const;
  const Recovery& recovery() const;
  const Reconfigurer& reconfigurer() const;
  // Whether client `m` holds a lease, waits, or has a request parked at this
  // member's voter (issue 21): the runtime keeps such a client's replay
  // window (codec::ClientWindows), so no replay can extend its hold.
  bool client_pinned(MemberId m) const;
  // The voters of `resource` (placement), sorted.
  std::vector<MemberId> voters_of(const ResourceName& resource) const;

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::core
