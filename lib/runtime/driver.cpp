#include "runtime/driver.hpp"

#include <algorithm>
#include <string>
#include <variant>

#include "core/assert.hpp"
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
}  // namespace

Driver::Driver(uv_loop_t* loop, DriverConfig config, DriverHooks* hooks)
    : loop_(loop),
      config_(std::move(config)),
      hooks_(hooks),
      packer_(config_.cluster_id, config_.node.self, config_.node.incarnation, config_.key),
      receiver_(config_.cluster_id, config_.key, config_.node.members, config_.node.self),
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
  const std::uint64_t sent_before = counters_.datagrams_sent;
  receive_all();
  // Deadlines: a reading taken now, after the datagrams; a late reading
  // only makes expiries fire later than they could, and the core's holds and
  // validities carry their own safety margins for that.
  const core::Instant now = boot_now();
  for (int i = 0; i < deadline_rounds_max && node_->next_deadline() <= now; ++i) node_->on_deadline(now);
  flush_outputs();
  rearm();
  update_busy_poll(now, counters_.datagrams_sent != sent_before);
  hooks_->on_batch_end(*node_, counters_);
}

void Driver::receive_all() {
  received_ = false;
  transport_.take_received(inbox_);
  for (RecvSlot* slot : inbox_) {
    const std::optional<core::DropReason> drop =
        receiver_.receive({slot->bytes.data(), slot->len}, decoded_, codec::Observers::accept);
    const sockaddr_storage from = slot->from;
    transport_.recycle(slot);
    if (drop) {
      // Verify, then parse, then act: a datagram that fails any check never
      // reaches the core; it is only counted.
      node_->count_drop(*drop);
      continue;
    }
    if (decoded_.header.sender == codec::observer_id) {
      // An observer's PING (only PINGs get this far, see Receiver): answered
      // here from a snapshot, never handed to the core, so it cannot change
      // any protocol state.
      answer_observer(from, decoded_);
      continue;
    }
    ++counters_.datagrams_received;
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
    if (!node_->has_output() && !persist_pending_) {
      if (ran) continue;  // they may have queued more (a failed acquire's callback retrying)
      break;
    }
    node_->take_outbox(outbox_);
    datagrams_.clear();
    packer_.pack(outbox_.messages, datagrams_);
    if (packer_.dropped() != packer_dropped_) {
      counters_.send_failures += packer_.dropped() - packer_dropped_;
      packer_dropped_ = packer_.dropped();
      hooks_->log(LogLevel::error, "runtime: a message could not be encoded and was not sent");
    }
    for (const codec::Datagram& d : datagrams_) send_datagram(d.to, d.bytes);
    if (outbox_.persist) persist_pending_ = *outbox_.persist;
    for (const core::Event& e : outbox_.events) hooks_->on_event(e);
    const bool had_persist = persist_pending_.has_value();
    try_persist(boot_now());
    if (had_persist && persist_pending_) break;  // the write failed: retry on the timer
  }
  if (started_) mailbox_.end_batch();
  const TransportCounters c = transport_.take_counters();
  counters_.datagrams_sent += c.sent;
  counters_.send_failures += c.send_failures;
}

void Driver::send_datagram(core::MemberId to, const std::vector<std::uint8_t>& bytes) {
  auto it = std::lower_bound(config_.peers.begin(), config_.peers.end(), to,
                             [](const PeerAddress& p, core::MemberId id) { return p.id < id; });
  // The core addresses only members, never itself (self-delivery is in-process).
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
  const core::Message reply[] = {node_->pong(boot_now(), p.nonce)};
  // The header carries this member's incarnation (status shows it).
  if (packer_.pack_direct(reply, direct_)) transport_.send(to, direct_);
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
  if (persist_pending_) next = core::min(next, now + persist_retry);
  if (node_->has_output()) next = now;  // output left by the flush bound: come back at once
  timer_.arm(next);
}

void Driver::shutdown(std::function<void()> on_closed) {
  BATON_ASSERT(!closing_);
  // Calls posted before the stop still run, so each gets its callback.
  for (Mailbox::Task& t : mailbox_.close_queue()) t();
  hooks_->on_shutdown(*node_);
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
