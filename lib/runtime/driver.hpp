// SPDX-License-Identifier: Apache-2.0
// Driver: one member's runtime. It owns the core Node, the codec's Packer and
// Receiver, and the libuv handles (UDP socket, deadline timer, mailbox async,
// a check handle), and runs the per-wakeup batch (STYLE.md 12):
//
//   drain received datagrams -> Node -> take_outbox -> pack -> send
//   -> hand events to the API -> persist the floor if asked -> re-arm timer
//
// With busy_poll set, the loop does not sleep while requests of its own
// await answers, nor for busy_poll after the last answer came: an idle
// handle keeps its poll at timeout 0 until busy_poll passed since the last
// send with answers due, or since those answers came.
//
// Everything here runs on the loop thread except post()/post_reserved().
//
// Lifetime. Every handle is closed by shutdown() (or by a failed create());
// the Driver must outlive their close callbacks, after which `on_closed` runs.
// The owner either runs the loop to completion and then destroys the Driver
// (own thread), or lets the on_closed callback destroy it (embedder's loop).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "baton/log.hpp"
#include "baton/result.hpp"
#include "codec/codec.hpp"
#include "core/node.hpp"
#include "runtime/client_book.hpp"
#include "runtime/config_change.hpp"
#include "runtime/deadline_timer.hpp"
#include "runtime/mailbox.hpp"
#include "runtime/state_dir.hpp"
#include "runtime/udp_transport.hpp"

namespace baton::runtime {

struct PeerAddress {
  core::MemberId id;     // a member other than self
  sockaddr_storage addr; // its UDP address
};

struct DriverConfig {
  core::NodeConfig node;                 // complete, with recovery, persist and incarnation set
  std::uint64_t cluster_id = 0;          // stamped on and required of every datagram
  std::optional<codec::ClusterKey> key;  // unset: no authentication
  sockaddr_storage bind_to{};            // this member's address
  std::vector<PeerAddress> peers;        // every other member (a client: every member)
  std::optional<std::string> state_dir;  // where floor reservations go (node.persist)
  StateDirLock state_lock;               // state_dir's lock, held as long as the Driver lives
  std::uint64_t seed = 0;                // the core's PRNG seed (from the OS)
  std::size_t calls_queued = 4096;       // mailbox capacity
  std::size_t send_buffers = 1024;       // send slots
  std::size_t receive_batch = 1024;      // receive slots
  core::Duration busy_poll{};            // poll for due answers this long after a send; 0: sleep
  // A member: clients whose replay windows (per client life) and addresses
  // are kept, least recently heard evicted first (issue 21). Unused by a client.
  std::size_t clients_max = 4096;
};

// Cumulative counters of the runtime itself (drops go to Node::count_drop).
struct DriverCounters {
  std::uint64_t datagrams_received = 0;  // authenticated, decoded, handed to the core
  std::uint64_t datagrams_sent = 0;      // handed to the socket
  std::uint64_t send_failures = 0;       // not sent (no slot, socket error, unencodable)
  std::uint64_t persist_failures = 0;    // floor reservation writes that failed
  std::uint64_t observer_pings = 0;      // observer (status) PINGs answered, never handed to the core
  std::uint64_t incarnation_hints_sent = 0;  // INCARNATION_BEHIND sent to members behind our memory of them
  std::uint64_t new_lives = 0;           // lives started in-process on a peer's INCARNATION_BEHIND
  std::uint64_t clients_unknown = 0;     // answers to a client whose address was evicted (not sent)
  std::uint64_t clients_evicted = 0;     // client lives whose replay window was evicted for room
};

// An acquire as the layer above asks for it: no time in it. The Driver
// reads its clock when it hands the call to the Node.
struct AcquireCall {
  core::ResourceName resource;  // already checked (core::check_acquire)
  core::Duration ttl;           // already checked
  core::Duration wait;          // >= 0; zero: one try, no waiting
  bool auto_renew = false;      // renew by itself until release or loss
};

// What the layer above (lib/api) provides. All calls on the loop thread.
// The hooks change the Node only through the Driver's API calls below.
class DriverHooks {
 public:
  virtual ~DriverHooks() = default;
  // One event of the core (acquired, lost, ...). May call the Driver.
  virtual void on_event(const core::Event& e) = 0;
  // After every batch: publish a stats snapshot.
  virtual void on_batch_end(const core::Node& node, const DriverCounters& counters) = 0;
  // Shutdown, before the final flush: release leases (Driver::release), fail
  // pending calls.
  virtual void on_shutdown() = 0;
  // This life ends in-process and a new one starts (core::NewLife, issue 19
  // part 3): end everything the old life had for the application. Each held
  // lease turns invalid and its on_lost runs before its RELEASE is queued
  // (Driver::release, which still reaches the old life's Node here: loss
  // ordering); each pending acquire fails. The Driver then sends the old
  // life's last datagrams and replaces its Node.
  virtual void on_new_life(const core::NewLife& life) = 0;
  virtual void log(LogLevel level, std::string_view text) = 0;
  // The run Driver::reconfigure started ended (issue 21 step 4), or died with
  // its life (outcome timed_out). Runs for batonctl and repairs do not come here.
  virtual void on_reconfigured(const core::ReconfigResult& /*result*/) {}
};

class Driver {
 public:
  // Initializes the handles on `loop` and binds the socket. On error the
  // handles already initialized are closing and the Driver deletes itself
  // once they are closed: the caller must run `loop` until uv_run returns.
  static Result<Driver*> create(uv_loop_t* loop, DriverConfig config, DriverHooks* hooks);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Any thread. Errors: overloaded, stopped (see Mailbox).
  Result<void> post(Mailbox::Task task) { return mailbox_.post(std::move(task)); }
  Result<void> post_reserved(Mailbox::Task task) { return mailbox_.post_reserved(std::move(task)); }

  // ---- API calls (loop thread) -------------------------------------------
  // The only inputs from the layer above. Each reads the clock at the point
  // of use, calls the Node, and leaves the flush and re-arm to the batch it
  // runs in (a posted task, a hook), so that a batch's calls share one flush
  // as datagrams and deadlines do; called outside any batch, it flushes and
  // re-arms at once. Errors: the Node's (acquire: invalid_argument,
  // overloaded; the others: not_held ...), and stopped once shutdown()
  // finished its final flush.
  Result<core::AcquireId> acquire(AcquireCall call);
  Result<void> release(core::AcquireId id);
  Result<void> renew(core::AcquireId id);
  Result<void> set_auto_renew(core::AcquireId id, bool on);
  // Starts moving the voters to `voters` (core::Node::reconfigure); the
  // outcome comes back through DriverHooks::on_reconfigured. Errors: the
  // Node's (invalid_argument naming the value, busy), stopped.
  Result<void> reconfigure(std::vector<core::MemberId> voters);

  // Loop thread. A read-only view of the Node (stats, status, leases).
  const core::Node& node() const { return *node_; }
  std::uint16_t local_port() const { return transport_.local_port(); }
  // Runs tasks still queued, lets the hooks release and fail what is
  // pending, flushes, waits (bounded) for the datagrams in flight to leave,
  // then closes every handle; `on_closed` runs after the last close callback
  // (it may delete the Driver).
  void shutdown(std::function<void()> on_closed);

 private:
  Driver(uv_loop_t* loop, DriverConfig config, DriverHooks* hooks);
  Result<void> start(core::Instant now);
  void run_batch();
  // The end of every batch: flush, re-arm, busy-poll, stats.
  void finish_batch(core::Instant now, std::uint64_t sent_before);
  // After an API call: nothing inside a batch (it flushes later), else finish_batch.
  void after_call();
  void receive_all();
  void flush_outputs();
  void send_datagram(core::MemberId to, const std::vector<std::uint8_t>& bytes);
  void answer_observer(const sockaddr_storage& to, const codec::Decoded& ping);
  // An observer's CONFIG_CHANGE (batonctl reconfigure): answered at once,
  // from changes_ (issue 21 step 4).
  void answer_config_change(const sockaddr_storage& to, const core::ConfigChange& req);
  // A run's outcome from the outbox: to the application or to changes_.
  void route_reconfigured(const core::ReconfigResult& r);
  // A datagram dropped as config_mismatch: logs it, at most once per
  // mismatch_log_interval per sender.
  void report_mismatch(const codec::Header& h);
  // A member's datagram was dropped for an older incarnation: tell it the
  // newest one seen here, at most once per incarnation_hint_interval per member.
  void send_incarnation_hint(const codec::Receiver::Behind& b);
  // Ends this life and starts a Node at life.incarnation (persisted first
  // with a state directory). False, with the old life kept, if that failed.
  bool start_new_life(const core::NewLife& life);
  // Writes cfg_pending_ (issue 21, V1): true if nothing is left to write.
  bool try_persist_config();
  void try_persist(core::Instant now);
  void rearm();
  void close_handles();
  static void on_check(uv_check_t* check);
  // busy_poll: starts or stops the idle handle after a batch that did (or did not) send.
  void update_busy_poll(core::Instant now, bool sent);
  static void on_idle(uv_idle_t* idle);
  static void on_handle_closed(uv_handle_t* h);

  uv_loop_t* loop_;
  DriverConfig config_;
  DriverHooks* hooks_;
  std::uint64_t fingerprint_;  // core::voting_fingerprint(config_.node), computed once (before packer_, receiver_)
  std::unique_ptr<core::Node> node_;
  codec::Packer packer_;
  codec::Receiver receiver_;
  ClientBook clients_;  // where clients are answered (a member's; empty at a client)
  // The Receiver keeps the replay windows of clients that hold or wait here.
  std::function<bool(core::MemberId)> client_pinned_;
  UdpTransport transport_;
  DeadlineTimer timer_;
  Mailbox mailbox_;
  bool started_ = false;  // start() is done: every later batch runs on the loop thread
  int batch_depth_ = 0;   // > 0 inside run_batch() or shutdown(): their flush covers API calls
  uv_check_t check_{};                 // runs the batch after each poll that received datagrams
  uv_idle_t idle_{};                   // active: the loop polls without sleeping (busy_poll)
  bool polling_ = false;               // idle_ is active
  core::Instant poll_until_{};         // busy_poll window: last send or last answer + busy_poll
  bool awaited_ = false;               // answers were due at the last update_busy_poll
  std::vector<uv_handle_t*> handles_;  // initialized handles, closed by close_handles()
  int open_handles_ = 0;               // handles whose close callback has not run yet
  bool closing_ = false;               // shutdown() or failed start: no more batches
  bool handles_closing_ = false;       // close_handles() ran
  core::Instant drain_deadline_ = core::Instant::max();  // shutdown: close handles by then at the latest
  bool received_ = false;              // datagrams queued since the last batch
  std::function<void()> on_closed_;    // after the last close callback
  std::optional<core::CfgState> cfg_pending_;  // adopted, not yet written: nothing is sent meanwhile
  std::optional<core::Token> persist_pending_;  // reservation still to write durably
  std::uint64_t packer_dropped_ = 0;   // packer_.dropped() already counted
  core::Outbox outbox_;                // reused across batches
  std::vector<codec::Datagram> datagrams_;  // reused across batches
  std::vector<RecvSlot*> inbox_;            // reused across batches
  codec::Decoded decoded_;                  // reused across datagrams
  std::vector<std::uint8_t> direct_;        // reused: an observer's PONG
  DriverCounters counters_;
  ChangeDesk changes_;  // who waits for this member's reconfiguration run (issue 21 step 4)
  // Per member whose datagrams carried another voting configuration: when
  // its next log line may be written, and its drops logged so far.
  struct MismatchLog {
    core::MemberId sender;
    core::Instant next_log;
    std::uint64_t logged = 0;  // its config_mismatch drops already in a log line
  };
  std::vector<MismatchLog> mismatch_logs_;  // by sender; at most one per member
  // Per member whose older-incarnation datagrams arrived: when the next
  // INCARNATION_BEHIND, and the next log line about it, may go.
  struct HintLog {
    core::MemberId to;
    core::Instant next_hint;
    core::Instant next_log;
    std::uint64_t hints = 0;  // hints sent to it so far
  };
  std::vector<HintLog> hint_logs_;             // by member; at most one per member
  std::vector<codec::Datagram> hint_datagrams_;  // reused: one hint
};

}  // namespace baton::runtime
