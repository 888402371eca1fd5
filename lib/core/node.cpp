// SPDX-License-Identifier: Apache-2.0
#include "core/node.hpp"

#include <algorithm>
#include <deque>

#include "core/acquirer.hpp"
#include "core/assert.hpp"
#include "core/placement.hpp"
#include "core/reconfigure.hpp"
#include "core/recovery.hpp"
#include "core/voter.hpp"

namespace baton::core {

namespace {
// Self-delivered messages per input: a request to self produces one answer,
// which produces at most a release; far fewer than this in any real call.
constexpr std::size_t local_deliveries_max = 1u << 20;

// The driver's timing (core/reconfigure.hpp): phase 2 waits ttl_max plus the
// margin (docs/protocol.md "Changing the voters"); unanswered messages go
// again every ten shortest attempt timeouts; a run gives up after twice the
// wait and a hundred re-sends.
ReconfigTiming reconfig_timing(const NodeConfig& c) {
  const Duration wait = max(c.ttl_max, c.prior_ttl_max) + c.margin;
  const Duration resend = c.attempt_timeout_min * 10;
  return ReconfigTiming{.wait = wait, .margin = c.margin, .resend = resend, .give_up = wait * 2 + resend * 100};
}
}  // namespace

struct Node::Impl final : Sink {
  Impl(const NodeConfig& c, std::uint64_t seed, Instant now)
      : config(c),
        rng(seed),
        last_now(now),
        voter(config, c.recovered_cfg.value_or(CfgState{initial_record(c.members), 0}),
              c.recovery == RecoveryMode::reservation ? c.recovered_reservation : Token{}, false,
              seed ^ 0x6e616d6568617368ULL),
        acquirer(config, rng),
        recovery(config, now, rng, voter.cfg().record, voter.cfg().promised),
        driver(c.self, reconfig_timing(c)) {
    std::sort(config.members.begin(), config.members.end());
    // A1: a member's acquirer starts from its voter's record.
    acquirer.learn(voter.cfg().record, *this);
    acquirer.observe(voter.table().floor());  // a persisted join floor
    outbox.messages.reserve(std::min<std::size_t>(config.limits.outbox_messages, 1024));
  }

  // ---- Sink ----
  void send(MemberId to, Message m) override {
    if (to == config.self) {
      local.push_back(std::move(m));
      return;
    }
    if (outbox.messages.size() >= config.limits.outbox_messages) {
      ++stats_.outbox_overflow;
      ++stats_.drops[static_cast<std::size_t>(DropReason::overflow)];
      return;
    }
    outbox.messages.push_back(Outgoing{.to = to, .msg = std::move(m)});
  }
  void emit(Event e) override { outbox.events.push_back(std::move(e)); }
  void persist(Token reservation) override { outbox.persist = reservation; }
  void persist_config(const CfgState& state) override {
    outbox.persist_config = state;
    // A1: a member's acquirer also learns from its own voter's acceptances.
    acquirer.learn(state.record, *this);
  }
  NodeStats& stats() override { return stats_; }
  void observe_token(Token t) override { acquirer.observe(t); }
  void transition(const Transition& t) override {
    if (tracer) tracer(t);
  }

  // ---- steps ----
  void advance(Instant now) {
    // Time never goes backwards: the runtime guards its clock, the simulator
    // its virtual clocks; a regression here is a programmer error.
    BATON_ASSERT(now >= last_now);
    last_now = now;
    recovery.on_deadline(now, *this);
    sync_recovery();
    voter.expire(now, *this);
  }

  void sync_recovery() {
    // The fence's promise is written before its CONFIG_READ leaves (the
    // outbox persists first), with the record learned so far (recovery.hpp (d)).
    if (recovery.fence_ballot() > voter.cfg().promised) {
      voter.recover_cfg(recovery.record(), recovery.fence_ballot(), recovery.start_promise(), *this);
    }
    if (recovery.floor_known() && !floor_applied) {
      // A member that lost its state votes under the newest record its
      // peers hold and refuses the ballots they promised (recovery.hpp (c)).
      if (config.recovery == RecoveryMode::peers) {
        voter.recover_cfg(recovery.record(), std::max(recovery.promised(), recovery.fence_ballot()),
                          recovery.start_promise(), *this);
      }
      voter.raise_floor(recovery.floor());
      acquirer.observe(recovery.floor());
      floor_applied = true;
    }
    // While quarantined the remaining time is known; after it, a voter still
    // waiting for peer answers cannot say when it will be ready.
    voter.set_ready(recovery.ready(), recovery.quarantine_over() ? Instant::max() : recovery.quarantine_end());
  }

  void dispatch(Instant now, MemberId from, const Message& m) {
    std::visit([&](const auto& msg) { handle(now, from, msg); }, m);
  }

  void handle(Instant now, MemberId from, const Request& r) { voter.on_request(now, from, r, *this); }
  void handle(Instant now, MemberId from, const Renew& r) { voter.on_renew(now, from, r, *this); }
  void handle(Instant now, MemberId from, const Release& r) { voter.on_release(now, from, r, *this); }
  void handle(Instant now, MemberId from, const Grant& g) {
    observe_token(g.token);
    acquirer.on_grant(now, from, g, *this);
  }
  void handle(Instant now, MemberId from, const Deny& d) {
    observe_token(d.fence);
    acquirer.on_deny(now, from, d, *this);
    if (d.reason == DenyReason::behind) heard_behind(now, d.promised);
  }
  void handle(Instant now, MemberId from, const RenewAck& a) {
    acquirer.on_renew_ack(now, from, a, *this);
    if (!a.ok && a.reason == DenyReason::behind) heard_behind(now, a.promised);
  }
  // A voter refuses the newest record we know because it promised a higher
  // ballot (shared/MEMBERSHIP.md, the second repair): a driver read it with
  // that ballot and then died, or lost to a lower-ballot driver that
  // committed without hearing it. No driver with that ballot will ever
  // propose, so the voter stays `behind`, a dead voter, until someone
  // proposes with a higher ballot. A member that keeps hearing such refusals
  // of the record for two shortest attempt timeouts (a live driver's phase R
  // follows its phase 0 within a round trip or two), from whichever voters
  // and promises (several voters may hold different stray promises),
  // re-proposes the newest record it knows above the highest of them: a
  // driver run to the same voters (or to finish a half-done change).
  // Clients never drive.
  void heard_behind(Instant now, std::uint64_t promised) {
    if (client_mode(config) || config.members.size() > config.replicas || !config.persist || amnesiac()) return;
    const CfgRecord& known = newest_known();
    if (promised <= known.id.ballot) return;  // it lacks the record: the retry carries it
    if (stray_for != known.id) {
      stray_for = known.id;
      stray_promise = promised;
      stray_since = now;
      return;
    }
    stray_promise = std::max(stray_promise, promised);
    if (now - stray_since < config.attempt_timeout_min * 2 || driver.active()) return;
    stray_since = now;  // the next repair waits as long again
    repair(now, stray_promise);
  }
  // A driver run that re-proposes the newest record known (to its own
  // voters, or finishing its change) with a ballot above `promised`.
  void repair(Instant now, std::uint64_t promised) {
    const CfgRecord known = newest_known();
    if (start_run(now, known.joint() ? known.new_voters : known.old_voters, promised)) {
      ++stats_.config_repairs;
      run_requested = false;
    }
  }
  // Starts a driver run from the newest record known to `target`, with this
  // member's smallest ballot above `above`, its voter's promise, every
  // promise heard and the record's ballot; false if none is left.
  bool start_run(Instant now, std::vector<MemberId> target, std::uint64_t above) {
    const CfgRecord known = newest_known();
    const std::optional<std::uint64_t> ballot =
        next_ballot(std::max({above, voter.cfg().promised, driver.highest_promise(), known.id.ballot}), config.self);
    if (!ballot) return false;
    driver.start(now, known, std::move(target), *ballot, *this);
    return true;
  }
  // The newest record this member knows: its voter's, or one its acquirer heard of (A1).
  const CfgRecord& newest_known() const {
    const CfgRecord& mine = voter.cfg().record;
    const CfgRecord& heard = acquirer.cfg();
    return mine.id < heard.id ? heard : mine;
  }
  void handle(Instant now, MemberId from, const Free& f) { acquirer.on_free(now, from, f, *this); }
  void handle(Instant /*now*/, MemberId from, const FloorQuery& q) {
    // Only a member whose own floor is known may answer (DESIGN "Peer recovery").
    if (recovery.floor_known()) {
      const CfgState& cfg = voter.cfg();
      send(from, FloorReply{.nonce = q.nonce, .ready = true,
                            .floor = std::max({voter.max_token(), voter.reservation(), cfg.join_floor}),
                            .record = cfg.record, .promised = cfg.promised});
    } else {
      send(from, FloorReply{.nonce = q.nonce, .ready = false, .floor = {}});
    }
  }
  void handle(Instant now, MemberId from, const FloorReply& r) {
    if (r.ready) observe_token(r.floor);
    const bool usable = r.record && validate_record(*r.record) && adoptable(*r.record, config.members, config.replicas);
    if (usable) acquirer.learn(*r.record, *this);
    recovery.on_floor_reply(now, from, r, usable ? &*r.record : nullptr);
    recovery.send_due(now, *this);
    sync_recovery();
  }
  // A member learning its state from its peers has forgotten its record and
  // promise: it takes no part in a change until it has them back (a driver
  // would count its answers in a quorum that must meet every earlier one).
  bool amnesiac() const { return config.recovery == RecoveryMode::peers && !recovery.floor_known(); }
  void handle(Instant now, MemberId from, const Ping& p) { send(from, make_pong(now, p.nonce)); }
  void handle(Instant /*now*/, MemberId /*from*/, const Pong& /*p*/) {}
  // Configuration messages (issue 21). A client votes on nothing: it only
  // learns records (A1) from the answers.
  void handle(Instant /*now*/, MemberId from, const ConfigRead& r) {
    if (!amnesiac()) voter.on_config_read(from, r, *this);
  }
  void handle(Instant /*now*/, MemberId from, const ConfigPropose& p) {
    if (!amnesiac()) voter.on_config_propose(from, p, *this);
  }
  void handle(Instant /*now*/, MemberId from, const ConfigQuery& q) { voter.on_config_query(from, q, *this); }
  void handle(Instant now, MemberId from, const ConfigReadReply& r) {
    const bool usable = validate_record(r.record) && adoptable(r.record, config.members, config.replicas);
    if (usable) acquirer.learn(r.record, *this);
    driver.on_read_reply(now, from, r, usable, *this);
    if (recovery.fence_ballot() != 0 && !recovery.floor_known()) {
      recovery.on_read_reply(now, from, r, usable ? &r.record : nullptr);
      recovery.send_due(now, *this);
      sync_recovery();
    }
  }
  void handle(Instant now, MemberId from, const ConfigAck& a) { driver.on_ack(now, from, a, *this); }
  void handle(Instant /*now*/, MemberId /*from*/, const ConfigReply& r) { learn(r.record); }
  void learn(const CfgRecord& r) {
    if (validate_record(r)) acquirer.learn(r, *this);
  }
  // ---- Remote reconfiguration (issue 21 step 4): an observer's request and
  // a member's answer to it, both handled by the runtime (runtime/
  // config_change.hpp), never by the core: accepts() refuses them from
  // anyone, so these are never reached.
  static bool remote_control(const Message& m) {
    return std::holds_alternative<ConfigChange>(m) || std::holds_alternative<ConfigChangeReply>(m);
  }
  void handle(Instant /*now*/, MemberId /*from*/, const ConfigChange& /*c*/) { BATON_ASSERT(false); }
  void handle(Instant /*now*/, MemberId /*from*/, const ConfigChangeReply& /*r*/) { BATON_ASSERT(false); }
  // ---- end of remote reconfiguration

  void handle(Instant /*now*/, MemberId from, const IncarnationBehind& b) {
    // Decided here, acted on by the runtime (it owns the Node's life). Of
    // several hints before the runtime acts, the highest wins: one new life
    // above all of them.
    const std::optional<Incarnation> next = next_life(config.incarnation, b.seen);
    if (!next) {
      ++stats_.stale_incarnation_hints;
      return;
    }
    if (outbox.new_life && outbox.new_life->incarnation >= *next) return;
    outbox.new_life = NewLife{.incarnation = *next, .seen = b.seen, .hinted_by = from};
  }

  void drain_local(Instant now) {
    std::size_t n = 0;
    while (!local.empty()) {
      Message m = std::move(local.front());
      local.pop_front();
      dispatch(now, config.self, m);
      BATON_ASSERT(++n < local_deliveries_max);
    }
    if (auto r = driver.take_result()) {
      // The run's newest record is one the acquirer may not know yet.
      acquirer.learn(r->record, *this);
      r->requested = run_requested;
      run_requested = false;
      outbox.reconfigured = std::move(*r);
    }
    // A voter refused our committed record for a stray promise: re-propose
    // it above that promise at once (heard_behind would, later).
    if (!driver.active()) {
      if (auto p = driver.take_stray_promise()) repair(now, *p);
    }
    // Every input ends here: copy the counters kept below the Node.
    stats_.evictions = voter.table().evictions();
  }

  NodeStatus status() const {
    const FenceTable& t = voter.table();
    const bool from_peers = config.recovery == RecoveryMode::peers;
    return NodeStatus{.quarantined = !recovery.ready(),
                      .floor_recovered = recovery.floor_known(),
                      .live_leases = t.live(),
                      .waiters = t.waiters(),
                      .fence_entries = t.entries(),
                      .in_flight = acquirer.in_flight(),
                      .floor = t.floor(),
                      .recovery = config.recovery,
                      .quarantine_end = recovery.quarantine_end(),
                      .floor_answers = from_peers ? static_cast<std::uint32_t>(recovery.answers()) : 0,
                      .floor_answers_needed = from_peers ? static_cast<std::uint32_t>(recovery.answers_needed()) : 0};
  }

  Pong make_pong(Instant now, std::uint64_t nonce) const {
    const NodeStatus st = status();
    static constexpr StartKind kinds[] = {StartKind::first_start, StartKind::reservation, StartKind::peers};
    static_assert(static_cast<int>(RecoveryMode::first_start) == 0 && static_cast<int>(RecoveryMode::peers) == 2);
    Pong pong{.nonce = nonce, .quarantined = st.quarantined, .live_leases = st.live_leases, .waiters = st.waiters,
              .floor = st.floor, .drops = {}, .mismatches = {}, .start = kinds[static_cast<std::size_t>(st.recovery)],
              .quarantine_left = recovery.quarantine_over() ? Duration::zero() : max(st.quarantine_end - now, Duration::zero()),
              .floor_answers = st.floor_answers, .floor_answers_needed = st.floor_answers_needed,
              .cfg = voter.cfg().record.id};
    pong.drops.assign(stats_.drops.begin(), stats_.drops.end());
    return pong;
  }

  bool is_member(MemberId m) const { return std::binary_search(config.members.begin(), config.members.end(), m); }

  // Who may send what (docs/protocol.md "Clients"). Members may send any
  // message to a member. A client may send a voter only what an acquirer
  // sends (REQUEST, RENEW, RELEASE) and PING: never a vote, a floor or a
  // hint. A client takes only the answers an acquirer takes, from members:
  // it votes on nothing, so a REQUEST reaching it (a misdirected or forged
  // datagram) must not find a voter to grant it. Our own id from outside is
  // a reflection or a forgery: messages to self are delivered in-process.
  bool accepts(MemberId from, const Message& m) const {
    if (from == config.self) return false;
    if (remote_control(m)) return false;
    if (client_mode(config)) {
      return is_member(from) && (std::holds_alternative<Grant>(m) || std::holds_alternative<Deny>(m) ||
                                 std::holds_alternative<RenewAck>(m) || std::holds_alternative<Free>(m) ||
                                 std::holds_alternative<Pong>(m) || std::holds_alternative<Ping>(m) ||
                                 std::holds_alternative<ConfigReply>(m));
    }
    if (is_member(from)) return true;
    const bool voter_bound = std::holds_alternative<Request>(m) || std::holds_alternative<Renew>(m) ||
                             std::holds_alternative<Release>(m);
    if (!is_client(from)) return false;
    // A client may ask which configuration a member votes under (it
    // bootstraps with it); it never reads or proposes one.
    if (std::holds_alternative<Ping>(m) || std::holds_alternative<ConfigQuery>(m)) return true;
    // A client speaks only for its own leases (the codec also checks their
    // incarnation against the datagram's: Receiver).
    return voter_bound && std::visit(
        [&](const auto& msg) {
          if constexpr (requires { msg.lease; }) return msg.lease.owner == from;
          return false;
        },
        m);
  }

  NodeConfig config;      // members sorted
  Rng rng;
  NodeStats stats_;
  Outbox outbox;
  std::deque<Message> local;  // messages to self, delivered before the call returns
  Instant last_now;
  Voter voter;
  Acquirer acquirer;
  Recovery recovery;
  Reconfigurer driver;  // this member's reconfiguration runs (Node::reconfigure)
  CfgId stray_for{0, 0};            // heard_behind: voters refuse this record (our newest) ...
  std::uint64_t stray_promise = 0;  // ... for promises up to this ...
  Instant stray_since;              // ... since then
  bool floor_applied = false;
  bool run_requested = false;  // the driver's run is the one Node::reconfigure started
  std::function<void(const Transition&)> tracer;  // set_tracer(); empty: none
};

Result<std::unique_ptr<Node>> Node::create(const NodeConfig& config, std::uint64_t seed, Instant now) {
  if (auto ok = validate(config); !ok) return ok.error();
  auto impl = std::make_unique<Impl>(config, seed, now);
  impl->recovery.start(now, *impl);
  impl->sync_recovery();
  impl->drain_local(now);
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() = default;

void Node::on_message(Instant now, MemberId from, const Message& m) { on_messages(now, from, std::span(&m, 1)); }

void Node::on_messages(Instant now, MemberId from, std::span<const Message> msgs) {
  bool advanced = false;
  for (const Message& m : msgs) {
    if (!impl_->accepts(from, m)) {
      count_drop(DropReason::stranger);
      continue;
    }
    if (!advanced) impl_->advance(now);
    advanced = true;
    impl_->dispatch(now, from, m);
    impl_->drain_local(now);
  }
}

void Node::on_deadline(Instant now) {
  impl_->advance(now);
  impl_->acquirer.on_deadline(now, *impl_);
  impl_->driver.on_deadline(now, *impl_);
  impl_->drain_local(now);
}

void Node::on_persisted(Instant now, Token reservation) {
  impl_->advance(now);
  impl_->voter.on_persisted(now, reservation, *impl_);
  impl_->drain_local(now);
}

CfgAccept Node::propose_config(Instant now, const CfgRecord& r) {
  BATON_ASSERT(validate_record(r).ok());
  impl_->advance(now);
  CfgAccept verdict = CfgAccept::not_newer;
  if (client_mode(impl_->config)) {
    if (impl_->acquirer.learn(r, *impl_)) verdict = CfgAccept::accepted;
  } else {
    verdict = impl_->voter.adopt(r, *impl_);
  }
  impl_->drain_local(now);
  return verdict;
}

const CfgState& Node::cfg() const { return impl_->voter.cfg(); }

Result<void> check_reconfigure(const NodeConfig& c, std::vector<MemberId>& voters) {
  const auto bad = [](std::string what) { return Error::with_text(Errc::invalid_argument, "reconfigure: " + std::move(what)); };
  if (client_mode(c)) return bad("a client cannot drive a reconfiguration; ask a member");
  if (!c.persist) {
    return bad("this member has no state directory: changing the voters needs one on every member (a diskless "
               "member forgets the ballots it promised)");
  }
  if (voters.empty()) return bad("the new voter list is empty");
  std::sort(voters.begin(), voters.end());
  if (auto dup = std::adjacent_find(voters.begin(), voters.end()); dup != voters.end()) {
    return bad("voter " + std::to_string(dup->value) + " is listed twice");
  }
  for (MemberId v : voters) {
    if (std::find(c.members.begin(), c.members.end(), v) == c.members.end()) {
      return bad("voter " + std::to_string(v.value) + " is not among the " + std::to_string(c.members.size()) +
                 " members (add its address to every member's list first)");
    }
  }
  if (c.members.size() > c.replicas) {
    return bad("this cluster has more members (" + std::to_string(c.members.size()) + ") than replicas (" +
               std::to_string(c.replicas) + "): changing the voters in scale mode is not supported yet");
  }
  return {};
}

Result<void> Node::reconfigure(Instant now, std::vector<MemberId> voters) {
  const auto bad = [](std::string what) { return Error::with_text(Errc::invalid_argument, "reconfigure: " + std::move(what)); };
  if (auto ok = check_reconfigure(impl_->config, voters); !ok) return ok;
  if (impl_->driver.active()) {
    return Error::with_text(Errc::busy, "reconfigure: a reconfiguration driven by this member is under way: " +
                                            impl_->driver.describe());
  }
  if (impl_->amnesiac()) {
    // Its own voter's answers would count in the run's quorums.
    return Error::with_text(Errc::unavailable,
                            "reconfigure: this member lost its state and is still learning it from its peers (" +
                                std::to_string(impl_->recovery.answers()) + " of " +
                                std::to_string(impl_->recovery.answers_needed()) +
                                " answers): ask another member, or again once it votes");
  }
  impl_->advance(now);
  if (!impl_->start_run(now, std::move(voters), 0)) {
    return bad("no ballot is left above " + std::to_string(impl_->voter.cfg().promised));
  }
  impl_->run_requested = true;
  impl_->drain_local(now);
  return {};
}

void Node::count_drop(DropReason why) {
  const auto i = static_cast<std::size_t>(why);
  if (i < impl_->stats_.drops.size()) ++impl_->stats_.drops[i];
}

Result<AcquireId> Node::acquire(Instant now, const AcquireArgs& args) {
  // The arguments' one check (core/config.hpp), before anything changes:
  // a refused call does not even advance time.
  if (auto ok = check_acquire(impl_->config, args.resource.view(), args.ttl); !ok) return ok.error();
  impl_->advance(now);
  auto r = impl_->acquirer.acquire(now, args, voters_of(args.resource), *impl_);
  impl_->drain_local(now);
  return r;
}

Result<void> Node::release(Instant now, AcquireId id) {
  impl_->advance(now);
  auto r = impl_->acquirer.release(now, id, *impl_);
  impl_->drain_local(now);
  return r;
}

Result<void> Node::renew(Instant now, AcquireId id) {
  impl_->advance(now);
  auto r = impl_->acquirer.renew(now, id, *impl_);
  impl_->drain_local(now);
  return r;
}

Result<void> Node::set_auto_renew(Instant now, AcquireId id, bool on) {
  impl_->advance(now);
  auto r = impl_->acquirer.set_auto_renew(now, id, on);
  impl_->drain_local(now);
  return r;
}

Instant Node::next_deadline() const {
  return min(min(min(impl_->voter.next_deadline(), impl_->acquirer.next_deadline()), impl_->recovery.next_deadline()),
             impl_->driver.next_deadline());
}

void Node::take_outbox(Outbox& out) {
  out.clear();
  std::swap(out, impl_->outbox);
}

bool Node::has_output() const { return !impl_->outbox.empty(); }

const NodeConfig& Node::config() const { return impl_->config; }
const NodeStats& Node::stats() const { return impl_->stats_; }

NodeStatus Node::status() const { return impl_->status(); }

Pong Node::pong(Instant now, std::uint64_t nonce) const { return impl_->make_pong(now, nonce); }

std::optional<LeaseInfo> Node::lease(AcquireId id) const { return impl_->acquirer.lease(id); }
std::string Node::describe(AcquireId id) const { return impl_->acquirer.describe(id); }
void Node::set_tracer(std::function<void(const Transition&)> tracer) { impl_->tracer = std::move(tracer); }
const Voter& Node::voter() const { return impl_->voter; }
const Acquirer& Node::acquirer() const { return impl_->acquirer; }
bool Node::awaiting_answers() const { return impl_->acquirer.awaiting_answers(); }
const Recovery& Node::recovery() const { return impl_->recovery; }
const Reconfigurer& Node::reconfigurer() const { return impl_->driver; }

bool Node::client_pinned(MemberId m) const { return impl_->voter.client_pinned(m); }

std::vector<MemberId> Node::voters_of(const ResourceName& resource) const {
  return place(resource.view(), impl_->config.members, impl_->config.replicas);
}

}  // namespace baton::core
