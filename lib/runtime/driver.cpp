// SPDX-License-Identifier: Apache-2.0
#include "runtime/driver.hpp"

#include <algorithm>
#include <string>
#include <variant>

#include "core/assert.hpp"
#include "core/fingerprint.hpp"
#include "core/reconfigure.hpp"
#include "runtime/clock.hpp"
#include "runtime/state_dir.hpp"

namespace baton::runtime {

namespace {
// Output rounds per batch: events may call back into the Node (a release
// from a callback) and produce more output. Anything left runs next batch.
constexpr int flush_rounds_max = 16;
// Deadline rounds per batch, for deadlines that fall due while handling others.
constexpr int deadline_rounds_max = 4;
// A failed floor write is retried this often (the core waits for it).
constexpr core::Duration persist_retry = core::Duration::ms(100);
// At shutdown, how long the RELEASEs in flight may take to leave the socket
// before the handles close anyway (closing cancels unsent datagrams).
constexpr core::Duration shutdown_drain_max = core::Duration::ms(200);
// A member under another voting configuration is logged at once, then at
// most this often while its datagrams keep coming (with the count since).
constexpr core::Duration mismatch_log_interval = core::Duration::s(10);
// INCARNATION_BEHIND to one member at most this often: a member behind our
// memory of it sends a datagram per request, renewal or floor query, and one
// hint per round trip or so is enough (one suffices when it arrives); this
// bounds what a stream of replayed old datagrams can make us send (10/s per
// member, to the member's configured address only).
constexpr core::Duration incarnation_hint_interval = core::Duration::ms(100);
// ... and its log line at most this often.
constexpr core::Duration incarnation_hint_log_interval = core::Duration::s(10);

const Error stopped_error{Errc::stopped, "the cluster is stopping or stopped"};

// Marks a batch (run_batch, shutdown, after_call's own flush) for its length.
class BatchScope {
 public:
  explicit BatchScope(int& depth) : depth_(depth) { ++depth_; }
  ~BatchScope() { --depth_; }
  BatchScope(const BatchScope&) = delete;
  BatchScope& operator=(const BatchScope&) = delete;

 private:
  int& depth_;
};

// "members 1,2,3; 3 voters per resource (replicas 5)": what the fingerprint
// covers (the ids and the effective R), and the R that was configured.
std::string voting_configuration_text(const core::NodeConfig& c) {
  std::vector<core::MemberId> ids = c.members;
  std::sort(ids.begin(), ids.end());
  std::string out = "members ";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i].value);
  return out + "; " + std::to_string(core::voter_count(c)) + " voters per resource (replicas " +
         std::to_string(c.replicas) + ")";
}
}  // namespace

Driver::Driver(uv_loop_t* loop, DriverConfig config, DriverHooks* hooks)
    : loop_(loop),
      config_(std::move(config)),
      hooks_(hooks),
      fingerprint_(core::voting_fingerprint(config_.node)),
      packer_(config_.cluster_id, config_.node.self, config_.node.incarnation, fingerprint_, config_.key),
      receiver_(config_.cluster_id, config_.key, config_.node.members, config_.node.self, fingerprint_,
                core::client_mode(config_.node) ? 0 : config_.clients_max),
      clients_(std::max<std::size_t>(config_.clients_max, 1)),
      client_pinned_([this](core::MemberId m) { return node_->client_pinned(m); }),
      transport_(config_.send_buffers, config_.receive_batch, [this] { received_ = true; }),
      timer_([this] { run_batch(); }),
      mailbox_(config_.calls_queued, [this] { run_batch(); }) {
  std::sort(config_.peers.begin(), config_.peers.end(),
            [](const PeerAddress& a, const PeerAddress& b) { return a.id < b.id; });
}

Driver::~Driver() {
  // Handles are freed with the Driver: only after their close callbacks.
  BATON_ASSERT(open_handles_ == 0);
}

Result<Driver*> Driver::create(uv_loop_t* loop, DriverConfig config, DriverHooks* hooks) {
  // The Node's clock origin: a fresh reading. Any reading works here; the
  // core only compares later readings with it.
  const core::Instant now = boot_now();
  auto* d = new Driver(loop, std::move(config), hooks);
  Result<void> r = d->start(now);
  if (!r) {
    d->closing_ = true;
    d->on_closed_ = [d] { delete d; };
    if (d->handles_.empty()) {
      delete d;
    } else {
      d->close_handles();
    }
    return r.error();
  }
  return d;
}

Result<void> Driver::start(core::Instant now) {
  auto node = core::Node::create(config_.node, config_.seed, now);
  if (!node) return node.error();
  node_ = std::move(*node);
  // Every member must print the same fingerprint; a member that does not
  // refuses the others' votes, and they its (report_mismatch).
  hooks_->log(LogLevel::info, std::string(core::client_mode(config_.node) ? "baton: client " : "baton: member ") +
                                  std::to_string(config_.node.self.value) +
                                  " voting configuration fingerprint " + core::fingerprint_hex(fingerprint_) + " (" +
                                  voting_configuration_text(config_.node) + ")");
  if (uv_check_init(loop_, &check_) != 0) return Error{Errc::io_error, "check: uv_check_init failed"};
  check_.data = this;
  handles_.push_back(reinterpret_cast<uv_handle_t*>(&check_));
  if (auto r = timer_.start(loop_); !r) return r;
  handles_.push_back(timer_.handle());
  if (auto r = mailbox_.start(loop_); !r) return r;
  handles_.push_back(mailbox_.handle());
  auto r = transport_.start(loop_, config_.bind_to);
  if (transport_.handle()->loop == loop_) handles_.push_back(transport_.handle());  // initialized, even if bind failed
  if (!r) return r;
  uv_check_start(&check_, &Driver::on_check);
  // The check handle must not keep the loop alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
  if (uv_idle_init(loop_, &idle_) != 0) return Error{Errc::io_error, "idle: uv_idle_init failed"};
  idle_.data = this;
  handles_.push_back(reinterpret_cast<uv_handle_t*>(&idle_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&idle_));
  open_handles_ = static_cast<int>(handles_.size());
  run_batch();  // first flush: a restarted voter's floor queries, the first deadline
  started_ = true;
  return {};
}

void Driver::on_check(uv_check_t* check) {
  auto* self = static_cast<Driver*>(check->data);
  if (self->received_) self->run_batch();
}

void Driver::on_idle(uv_idle_t* idle) {
  auto* self = static_cast<Driver*>(idle->data);
  self->update_busy_poll(boot_now(), false);
}

void Driver::update_busy_poll(core::Instant now, bool sent) {
  if (config_.busy_poll <= core::Duration{}) return;
  // Poll while this member's own requests or renewals await answers (from its
  // last send), and for busy_poll after the last of them came: the caller
  // that was waiting usually calls again within microseconds (release, the
  // next acquire), and a polling loop takes that call without being woken.
  // A member that only votes never polls.
  const bool awaiting = node_->awaiting_answers();
  if ((awaiting && sent) || (awaited_ && !awaiting)) poll_until_ = now + config_.busy_poll;
  awaited_ = awaiting;
  // Shutting down: stop polling (the drain may take a while).
  const bool want = !closing_ && now < poll_until_;
  if (want == polling_) return;
  polling_ = want;
  if (want) {
    uv_idle_start(&idle_, &Driver::on_idle);
  } else {
    uv_idle_stop(&idle_);
  }
}

void Driver::run_batch() {
  if (closing_) {
    // Shutting down: only the drain timer matters here (the mailbox may
    // call too, right after the shutdown task). Past the drain deadline,
    // stop waiting for sends in flight.
    if (handles_closing_) return;
    const core::Instant now = boot_now();
    if (now >= drain_deadline_) {
      close_handles();
    } else {
      timer_.arm(drain_deadline_);
    }
    return;
  }
  const BatchScope batch(batch_depth_);
  const std::uint64_t sent_before = counters_.datagrams_sent;
  receive_all();
  // Deadlines: a reading taken now, after the datagrams; a late reading
  // only makes expiries fire later than they could, and the core's holds and
  // validities carry their own safety margins for that.
  const core::Instant now = boot_now();
  for (int i = 0; i < deadline_rounds_max && node_->next_deadline() <= now; ++i) node_->on_deadline(now);
  finish_batch(now, sent_before);
}

void Driver::finish_batch(core::Instant now, std::uint64_t sent_before) {
  flush_outputs();
  rearm();
  update_busy_poll(now, counters_.datagrams_sent != sent_before);
  counters_.clients_evicted = receiver_.client_evictions();
  hooks_->on_batch_end(*node_, counters_);
}

// ---- API calls ---------------------------------------------------------------

void Driver::after_call() {
  // Inside a batch (a mailbox task: the mailbox runs the batch right after
  // its tasks; a hook: it runs inside one) the batch's own flush sends this
  // call's output with everything else.
  if (batch_depth_ > 0 || mailbox_.running()) return;
  const BatchScope batch(batch_depth_);
  finish_batch(boot_now(), counters_.datagrams_sent);
}

Result<core::AcquireId> Driver::acquire(AcquireCall call) {
  if (closing_) return stopped_error;
  BATON_ASSERT(call.wait >= core::Duration::zero());
  // Acquirer t0: the core takes this reading as t0 and the REQUESTs leave
  // after it (in this batch's flush, or after_call's), so t0 precedes the
  // first send. An earlier t0 is the safe direction: validity, measured
  // from t0, ends earlier.
  const core::Instant now = boot_now();
  auto id = node_->acquire(now, core::AcquireArgs{.resource = std::move(call.resource),
                                                  .ttl = call.ttl,
                                                  .wait_until = now + call.wait,
                                                  .auto_renew = call.auto_renew});
  after_call();
  return id;
}

Result<void> Driver::release(core::AcquireId id) {
  if (closing_) return stopped_error;
  // The holder stopped using the lease before it asked (Lease::release turns
  // valid() false first). This reading only times this member's own waiters
  // for the other voters' FREEs: a late one makes them wait a little longer,
  // which costs liveness, never safety.
  auto r = node_->release(boot_now(), id);
  after_call();
  return r;
}

Result<void> Driver::renew(core::AcquireId id) {
  if (closing_) return stopped_error;
  // Holder t_r: the core takes this reading as the round's start and the
  // RENEWs leave after it; an earlier t_r is the safe direction (the
  // renewed validity, measured from it, ends earlier).
  auto r = node_->renew(boot_now(), id);
  after_call();
  return r;
}

Result<void> Driver::set_auto_renew(core::AcquireId id, bool on) {
  if (closing_) return stopped_error;
  // Any reading will do: the core schedules renewal rounds from the lease's
  // own valid_from and validity end, not from this call's time.
  auto r = node_->set_auto_renew(boot_now(), id, on);
  after_call();
  return r;
}

// ---- Remote and API reconfiguration (issue 21 step 4) ---------------------------

Result<void> Driver::reconfigure(std::vector<core::MemberId> voters) {
  if (closing_) return stopped_error;
  // The driver's clock: phase 2's wait is measured from receipts read
  // later, on the core's own timeline; this reading only starts the run.
  auto r = node_->reconfigure(boot_now(), std::move(voters));
  if (r) changes_.begin_api();
  after_call();
  return r;
}

void Driver::answer_config_change(const sockaddr_storage& to, const core::ConfigChange& req) {
  const core::Instant now = boot_now();  // only starts the run, as in reconfigure()
  const core::Message reply[] = {changes_.answer(
      req, node_->cfg().record, node_->reconfigurer().describe(),
      [&](std::vector<core::MemberId> voters) { return node_->reconfigure(now, std::move(voters)); })};
  // Polls (running, done) are not logged: batonctl re-sends every ~150 ms.
  const auto& answer = std::get<core::ConfigChangeReply>(reply[0]);
  if (answer.state == core::ChangeState::started || answer.state == core::ChangeState::refused) {
    hooks_->log(LogLevel::info, std::string("baton: reconfiguration asked by an observer (batonctl): ") +
                                    (answer.state == core::ChangeState::started ? "started" : "refused: ") +
                                    (answer.state == core::ChangeState::started ? "" : answer.detail));
  }
  if (packer_.pack_direct(reply, direct_)) transport_.send(to, direct_);
}

void Driver::route_reconfigured(const core::ReconfigResult& r) {
  if (!r.requested) return;  // a repair the member started itself: nobody waits
  hooks_->log(r.outcome == core::ReconfigOutcome::committed ? LogLevel::info : LogLevel::warn,
              std::string("baton: reconfiguration ") + core::to_string(r.outcome) + ": " +
                  core::to_string(r.record) + (r.detail.empty() ? "" : " (" + r.detail + ")"));
  if (changes_.finish(r)) hooks_->on_reconfigured(r);
}

// ---- end of reconfiguration ------------------------------------------------------

void Driver::receive_all() {
  received_ = false;
  transport_.take_received(inbox_);
  for (RecvSlot* slot : inbox_) {
    const std::optional<core::DropReason> drop =
        receiver_.receive({slot->bytes.data(), slot->len}, decoded_, codec::Observers::accept, client_pinned_);
    const sockaddr_storage from = slot->from;
    transport_.recycle(slot);
    if (drop) {
      // Verify, then parse, then act: a datagram that fails any check never
      // reaches the core; it is only counted.
      node_->count_drop(*drop);
      // Authenticated and from a member (the Receiver checks both first), so
      // with a cluster key nobody without it can make this log; the log is
      // rate-limited per member either way.
      // A client under another configuration is only counted: the mismatch
      // table and its log are bounded by the members (issue 21).
      if (*drop == core::DropReason::config_mismatch && !core::is_client(decoded_.header.sender)) {
        report_mismatch(decoded_.header);
      }
      // An older life of a member (authenticated, from a member: the
      // Receiver checked both first). Still dropped; the hint lets a member
      // restarted with a lower incarnation move above our memory of it.
      if (receiver_.behind()) send_incarnation_hint(*receiver_.behind());
      continue;
    }
    if (decoded_.header.sender == codec::observer_id) {
      // An observer's PING (only PINGs get this far, see Receiver): answered
      // here from a snapshot, never handed to the core, so it cannot change
      // any protocol state.
      if (const auto* change = std::get_if<core::ConfigChange>(&decoded_.messages.front())) {
        answer_config_change(from, *change);  // its run's output goes out with this batch
      } else {
        answer_observer(from, decoded_);
      }
      continue;
    }
    ++counters_.datagrams_received;
    // A client's (only acquirer messages and PINGs get this far, new to its
    // replay window): answer it where it is now.
    if (core::is_client(decoded_.header.sender)) clients_.heard(decoded_.header.sender, from, client_pinned_);
    // Voter side: read fresh per datagram, after receipt. A reading later
    // than the true arrival starts a hold later, which is the safe direction
    // (an earlier hold start would end the hold too early).
    node_->on_messages(boot_now(), decoded_.header.sender, decoded_.messages);
  }
  inbox_.clear();
  const TransportCounters c = transport_.take_counters();
  for (std::uint64_t i = 0; i < c.oversized; ++i) node_->count_drop(core::DropReason::oversized);
  for (std::uint64_t i = 0; i < c.overflow; ++i) node_->count_drop(core::DropReason::overflow);
  counters_.datagrams_sent += c.sent;
  counters_.send_failures += c.send_failures;
}

void Driver::flush_outputs() {
  // Not in start(): its first flush runs on the thread that starts the
  // cluster, which must never be taken for the loop thread (Mailbox).
  if (started_) mailbox_.begin_batch();
  for (int round = 0; round < flush_rounds_max; ++round) {
    // Calls the previous round's callbacks made on this thread (Mailbox).
    const bool ran = mailbox_.run_queued();
    if (!node_->has_output() && !persist_pending_ && !cfg_pending_) {
      if (ran) continue;  // they may have queued more (a failed acquire's callback retrying)
      break;
    }
    node_->take_outbox(outbox_);
    // V1 (issue 21): the configuration this member adopted is written
    // before any datagram that may act on it leaves, and before the
    // application hears of this outbox's events; until it is written, no
    // datagram leaves (they are lost, as in a crash before the write). If the
    // write fails the events still go out: what the core decided in-process
    // (its own voter's answers to its own acquirer) stands, which step 2's
    // records, all of one voter set, allow; docs/membership.md lists it for
    // step 3.
    if (outbox_.persist_config) cfg_pending_ = *outbox_.persist_config;
    const bool cfg_written = try_persist_config();
    if (!cfg_written) outbox_.messages.clear();
    // Events first: a lost lease turns invalid for the application (and its
    // on_lost runs) before the RELEASE that lets a voter hand it on leaves
    // (issue 19, loss ordering). Calls the callbacks make run next round.
    for (const core::Event& e : outbox_.events) hooks_->on_event(e);
    if (outbox_.reconfigured) route_reconfigured(*outbox_.reconfigured);
    datagrams_.clear();
    packer_.pack(outbox_.messages, datagrams_);
    if (packer_.dropped() != packer_dropped_) {
      counters_.send_failures += packer_.dropped() - packer_dropped_;
      packer_dropped_ = packer_.dropped();
      hooks_->log(LogLevel::error, "runtime: a message could not be encoded and was not sent");
    }
    for (const codec::Datagram& d : datagrams_) send_datagram(d.to, d.bytes);
    if (outbox_.persist) persist_pending_ = *outbox_.persist;
    // After this life's events and messages: a new Node, whose first output
    // the next round flushes. (A parked reservation dies with the old life:
    // the new one reads what is on disk.)
    if (outbox_.new_life) {
      const core::NewLife life = *outbox_.new_life;
      if (start_new_life(life)) continue;
    }
    const bool had_persist = persist_pending_.has_value();
    try_persist(boot_now());
    if (had_persist && persist_pending_) break;  // the write failed: retry on the timer
    if (!cfg_written) break;                     // likewise (rearm: persist_retry)
  }
  if (started_) mailbox_.end_batch();
  const TransportCounters c = transport_.take_counters();
  counters_.datagrams_sent += c.sent;
  counters_.send_failures += c.send_failures;
}

void Driver::send_datagram(core::MemberId to, const std::vector<std::uint8_t>& bytes) {
  if (core::is_client(to)) {
    // A voter answering a client. Evicted since (more than clients_max
    // clients heard after it): not sent; the client retries as after a loss.
    if (const sockaddr_storage* addr = clients_.find(to)) {
      transport_.send(*addr, bytes);
    } else {
      ++counters_.clients_unknown;
      ++counters_.send_failures;
    }
    return;
  }
  auto it = std::lower_bound(config_.peers.begin(), config_.peers.end(), to,
                             [](const PeerAddress& p, core::MemberId id) { return p.id < id; });
  // Otherwise the core addresses only members, never itself (self-delivery is in-process).
  BATON_ASSERT(it != config_.peers.end());
  BATON_ASSERT(it->id == to);
  transport_.send(it->addr, bytes);
}

void Driver::answer_observer(const sockaddr_storage& to, const codec::Decoded& ping) {
  ++counters_.observer_pings;
  // One PONG per datagram, for its first PING: an observer asks one at a
  // time, and a reply never outgrows the question by more than a PONG.
  const auto& p = std::get<core::Ping>(ping.messages.front());
  // The quarantine's time left is counted on the core's clock.
  core::Pong pong = node_->pong(boot_now(), p.nonce);
  // Who runs another voting configuration, as this member sees it (status
  // shows it per member). Lowest ids first if more than fit.
  const auto& mm = receiver_.mismatches();
  pong.mismatches.assign(mm.begin(), mm.begin() + static_cast<std::ptrdiff_t>(
                                                      std::min(mm.size(), core::limits::pong_mismatches_max)));
  const core::Message reply[] = {std::move(pong)};
  // The header carries this member's incarnation (status shows it).
  if (packer_.pack_direct(reply, direct_)) transport_.send(to, direct_);
}

void Driver::report_mismatch(const codec::Header& h) {
  const auto& mm = receiver_.mismatches();
  const auto seen = std::find_if(mm.begin(), mm.end(), [&](const core::ConfigMismatch& m) { return m.sender == h.sender; });
  BATON_ASSERT(seen != mm.end());  // the Receiver noted it before dropping
  auto it = std::lower_bound(mismatch_logs_.begin(), mismatch_logs_.end(), h.sender,
                             [](const MismatchLog& l, core::MemberId s) { return l.sender < s; });
  if (it == mismatch_logs_.end() || it->sender != h.sender) {
    it = mismatch_logs_.insert(it, MismatchLog{.sender = h.sender, .next_log = core::Instant{}, .logged = 0});
  }
  // Rate limiting only: any reading will do.
  const core::Instant now = boot_now();
  if (now < it->next_log) return;
  it->next_log = now + mismatch_log_interval;
  const std::uint64_t since = seen->datagrams - it->logged;
  it->logged = seen->datagrams;
  hooks_->log(LogLevel::error,
              "baton: member " + std::to_string(h.sender.value) + " runs a different voting configuration: fingerprint " +
                  core::fingerprint_hex(h.config_fingerprint) + ", ours " + core::fingerprint_hex(fingerprint_) + " (" +
                  voting_configuration_text(config_.node) + "); refused " + std::to_string(since) +
                  " datagram(s) from it (" + std::to_string(seen->datagrams) +
                  " in all): it cannot vote here, nor this member for it. Every member must have the same member "
                  "ids (--members) and replicas: stop every member, make the lists equal, start them again");
}

void Driver::send_incarnation_hint(const codec::Receiver::Behind& b) {
  auto it = std::lower_bound(hint_logs_.begin(), hint_logs_.end(), b.sender,
                             [](const HintLog& l, core::MemberId s) { return l.to < s; });
  if (it == hint_logs_.end() || it->to != b.sender) {
    it = hint_logs_.insert(it, HintLog{.to = b.sender, .next_hint = core::Instant{}, .next_log = core::Instant{}});
  }
  // Rate limiting only: any reading will do.
  const core::Instant now = boot_now();
  if (now < it->next_hint) return;
  it->next_hint = now + incarnation_hint_interval;
  const core::Outgoing hint{.to = b.sender, .msg = core::IncarnationBehind{.seen = b.seen}};
  hint_datagrams_.clear();
  packer_.pack({&hint, 1}, hint_datagrams_);
  for (const codec::Datagram& d : hint_datagrams_) send_datagram(d.to, d.bytes);
  ++counters_.incarnation_hints_sent;
  ++it->hints;
  if (now < it->next_log) return;
  it->next_log = now + incarnation_hint_log_interval;
  hooks_->log(LogLevel::warn,
              "baton: member " + std::to_string(b.sender.value) + " sends datagrams of an incarnation older than " +
                  std::to_string(b.seen.value) +
                  ", the newest seen from it here; they are dropped (replayed). Told it so (" +
                  std::to_string(it->hints) +
                  " hint(s) so far): if it restarted with a lower incarnation (wall clock stepped back), it "
                  "starts a new life above it; if not, these were delayed or replayed datagrams");
}

bool Driver::start_new_life(const core::NewLife& life) {
  const core::Incarnation old_incarnation = config_.node.incarnation;
  BATON_ASSERT(life.incarnation > old_incarnation);  // core::next_life
  core::NodeConfig next = config_.node;
  next.incarnation = life.incarnation;
  std::string recovery = "floor recovery from peers";
  if (config_.state_dir) {
    // A persisted counter only grows, so this should not happen; if it does,
    // the new incarnation is durable before any datagram carries it.
    if (auto w = write_value(*config_.state_dir, incarnation_file_name, life.incarnation.value); !w) {
      hooks_->log(LogLevel::error, "baton: cannot persist incarnation " + std::to_string(life.incarnation.value) +
                                       " for a new life (" + std::string(w.what()) +
                                       "); staying in this one, the next hint retries");
      return false;
    }
    // As a restart would: the floor that is on disk.
    auto floor = read_value(*config_.state_dir, floor_file_name);
    if (!floor) {
      hooks_->log(LogLevel::error, "baton: cannot read the floor for a new life (" +
                                       std::string(floor.what()) + "); staying in this one");
      return false;
    }
    // No floor file: this life learned its floor from its peers and stored
    // no token yet (a reservation is written before the first); the next
    // one must learn it again. A first start (floor 0) would grant tokens
    // the peers already granted (Guarantee 2; found by a review).
    next.recovery = *floor ? core::RecoveryMode::reservation : core::RecoveryMode::peers;
    next.recovered_reservation = core::Token{floor->value_or(0)};
    // And the configuration that is on disk (issue 21).
    auto cfg = read_config(*config_.state_dir);
    if (!cfg) {
      hooks_->log(LogLevel::error, "baton: cannot read the configuration for a new life (" +
                                       std::string(cfg.what()) + "); staying in this one");
      return false;
    }
    next.recovered_cfg = *cfg;
    recovery = *floor ? "the persisted floor" : "floor recovery from peers (no reservation was written yet)";
  } else {
    // The old life's voter may have granted: a new life without persistence
    // recovers as any restart without state does (quarantine, then peers).
    next.recovery = core::RecoveryMode::peers;
    next.recovered_reservation = core::Token{};
  }
  // The Node's clock origin: a fresh reading, as at start.
  const core::Instant now = boot_now();
  auto node = core::Node::create(next, config_.seed ^ (life.incarnation.value * 0x9e3779b97f4a7c15ULL), now);
  // The same configuration passed validation at start; only the incarnation differs.
  BATON_ASSERT(node.ok());
  const std::uint64_t ended = node_->status().in_flight;
  // End the old life for the application (leases lost before their RELEASEs
  // are queued), then send its last datagrams under its own incarnation:
  // peers that still accept it drop those holds now; the others run out.
  hooks_->on_new_life(life);  // its Driver::release calls still reach the old life's node_
  node_->take_outbox(outbox_);
  for (const core::Event& e : outbox_.events) hooks_->on_event(e);
  // A reconfiguration run dies with the old life (issue 21 step 4).
  if (outbox_.reconfigured) route_reconfigured(*outbox_.reconfigured);
  if (auto r = changes_.abandon(node_->cfg().record)) hooks_->on_reconfigured(*r);
  // Its last datagrams answer only RELEASEs, which adopt no configuration.
  BATON_ASSERT(!outbox_.persist_config);
  datagrams_.clear();
  packer_.pack(outbox_.messages, datagrams_);
  for (const codec::Datagram& d : datagrams_) send_datagram(d.to, d.bytes);
  outbox_.clear();
  counters_.send_failures += packer_.dropped() - packer_dropped_;
  // The new life: its Node, and a packer whose datagrams carry the new
  // incarnation from seq 1. The Receiver stays: what it knows of the other
  // members' lives is still true.
  node_ = std::move(*node);
  packer_ = codec::Packer(config_.cluster_id, config_.node.self, life.incarnation, fingerprint_, config_.key);
  packer_dropped_ = 0;
  persist_pending_.reset();
  cfg_pending_.reset();  // never acted on: nothing was sent while it was pending
  awaited_ = false;
  config_.node = next;
  ++counters_.new_lives;
  hooks_->log(LogLevel::error,
              "baton: member " + std::to_string(config_.node.self.value) +
                  " STARTED A NEW LIFE in-process: incarnation " + std::to_string(old_incarnation.value) + " -> " +
                  std::to_string(life.incarnation.value) + ", because member " +
                  std::to_string(life.hinted_by.value) + " has seen incarnation " + std::to_string(life.seen.value) +
                  " from it and drops every datagram of a lower one. Was the wall clock stepped back across a "
                  "restart? (A state directory keeps incarnations increasing.) " +
                  std::to_string(ended) +
                  " lease(s) and pending acquire(s) of the old life ended (leases lost: reason restarted). "
                  "Voting resumes after the restart quarantine, with " + recovery);
  return true;
}

bool Driver::try_persist_config() {
  if (!cfg_pending_) return true;
  if (!config_.state_dir) {
    // Online reconfiguration needs a state directory on every voter
    // (docs/operations.md): without one, a restart forgets this record.
    hooks_->log(LogLevel::warn, "baton: adopted configuration " + core::to_string(cfg_pending_->record) +
                                    " without a state directory: a restart forgets it");
    cfg_pending_.reset();
    return true;
  }
  if (auto w = write_config(*config_.state_dir, *cfg_pending_); !w) {
    ++counters_.persist_failures;
    counters_.send_failures += outbox_.messages.size();
    hooks_->log(LogLevel::error, "runtime: cannot persist configuration " + core::to_string(cfg_pending_->record) +
                                     " (" + std::string(w.what()) + "); sending nothing until it is written");
    return false;
  }
  cfg_pending_.reset();
  return true;
}

void Driver::try_persist(core::Instant now) {
  if (!persist_pending_) return;
  // The core asks only when it was configured to persist, which needs a directory.
  BATON_ASSERT(config_.state_dir.has_value());
  const core::Token value = *persist_pending_;
  if (auto w = write_value(*config_.state_dir, floor_file_name, value.value); !w) {
    ++counters_.persist_failures;
    hooks_->log(LogLevel::error, "runtime: cannot persist the floor reservation (" + std::string(w.what()) +
                                     "); retrying (grants above it wait)");
    return;
  }
  persist_pending_.reset();
  node_->on_persisted(now, value);
}

void Driver::rearm() {
  const core::Instant now = boot_now();
  core::Instant next = node_->next_deadline();
  if (persist_pending_ || cfg_pending_) next = core::min(next, now + persist_retry);
  if (node_->has_output()) next = now;  // output left by the flush bound: come back at once
  timer_.arm(next);
}

void Driver::shutdown(std::function<void()> on_closed) {
  BATON_ASSERT(!closing_);
  const BatchScope batch(batch_depth_);
  // Calls posted before the stop still run, so each gets its callback.
  for (Mailbox::Task& t : mailbox_.close_queue()) t();
  hooks_->on_shutdown();
  flush_outputs();  // RELEASEs: libuv writes at once when the socket is writable
  hooks_->on_batch_end(*node_, counters_);
  closing_ = true;
  on_closed_ = std::move(on_closed);
  transport_.stop_receiving();
  // Datagrams go out at once (uv_udp_try_send) unless the socket would
  // block; those are queued for a later loop iteration, and closing now
  // would cancel them. Wait for the queue to drain, or for the drain timer,
  // whichever comes first.
  if (transport_.sends_in_flight() == 0) {
    close_handles();
    return;
  }
  transport_.set_on_drained([this] {
    if (!handles_closing_) close_handles();
  });
  const core::Instant now = boot_now();
  drain_deadline_ = now + shutdown_drain_max;
  timer_.arm(drain_deadline_);
}

void Driver::close_handles() {
  BATON_ASSERT(!handles_closing_);
  handles_closing_ = true;
  open_handles_ = static_cast<int>(handles_.size());
  for (uv_handle_t* h : handles_) {
    h->data = this;
    uv_close(h, &Driver::on_handle_closed);
  }
}

void Driver::on_handle_closed(uv_handle_t* h) {
  auto* self = static_cast<Driver*>(h->data);
  BATON_ASSERT(self->open_handles_ > 0);
  if (--self->open_handles_ == 0 && self->on_closed_) {
    auto done = std::move(self->on_closed_);
    done();  // may delete self
  }
}

}  // namespace baton::runtime
