// SPDX-License-Identifier: Apache-2.0
// Cluster: start/stop, acquire (blocking and callback forms), and the
// runtime hooks that turn core events into callbacks and lease handles.
#include <sodium.h>
#include <sys/socket.h>

#include <cstdio>
#include <future>
#include <random>

#include "api/cluster_impl.hpp"
#include "api/config_internal.hpp"
#include "api/stats_internal.hpp"
#include "core/acquirer.hpp"
#include "core/assert.hpp"
#include "core/drift.hpp"
#include "core/limits.hpp"
#include "runtime/state_dir.hpp"

namespace baton {

namespace {

const Error stopped_error{Errc::stopped, "the cluster is stopping or stopped"};
const Error on_loop_error{Errc::invalid_argument,
                          "a blocking call on the loop thread would deadlock: use the callback form"};

// The core's errors keep their own text; these give the async outcomes a
// static description.
Error acquire_error(Errc code) {
  switch (code) {
    case Errc::busy: return {code, "acquire: the resource is held by another lease"};
    case Errc::unavailable: return {code, "acquire: no majority of voters answered in time"};
    case Errc::overloaded: return {code, "acquire: a limit was reached (in-flight acquires, tables)"};
    case Errc::cancelled: return {code, "acquire: cancelled"};
    case Errc::stopped: return stopped_error;
    default: return {code, "acquire: failed"};
  }
}

// Issue 21: a configuration record as the public API shows it.
VoterConfig to_public(const core::CfgRecord& r) {
  VoterConfig v;
  v.epoch = r.id.epoch;
  v.ballot = r.id.ballot;
  for (core::MemberId m : r.old_voters) v.voters.push_back(m.value);
  for (core::MemberId m : r.new_voters) v.new_voters.push_back(m.value);
  return v;
}

ReconfigureResult to_public(const core::ReconfigResult& r) {
  static_assert(static_cast<int>(core::ReconfigOutcome::timed_out) == static_cast<int>(ReconfigureOutcome::timed_out));
  static_assert(static_cast<int>(core::ReconfigOutcome::superseded) == static_cast<int>(ReconfigureOutcome::superseded));
  return ReconfigureResult{.outcome = static_cast<ReconfigureOutcome>(r.outcome),
                           .config = to_public(r.record),
                           .ballot = r.ballot,
                           .detail = r.detail};
}

std::uint64_t os_seed() {
  std::random_device rd;  // getrandom(2): the core itself never reads entropy
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

// Logs `text` through the hook, or on stderr without one: for what must not
// go unnoticed even by an application that set no hook.
void log_loud(const LogHook& log, LogLevel level, std::string_view text) {
  if (log) {
    log(level, text);
  } else {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
  }
}

// Says how this life starts, and loudly what an operator must do when the
// member recovers from peers (a whole cluster doing that never votes).
void log_start(const Config& config, const runtime::StartPlan& plan, const core::NodeConfig& node,
               const LogHook& log) {
  const std::string who = "baton: member " + std::to_string(config.self);
  const std::string dir = config.state_dir ? "'" + *config.state_dir + "'" : std::string();
  const core::Duration wait =
      core::drift::quarantine_end(core::Instant{}, max(node.ttl_max, node.prior_ttl_max),
                                  std::max(node.rho_ppm, node.prior_rho_ppm)) -
      core::Instant{};
  const std::string quarantine = "quarantined for " + std::to_string(wait.count_ms()) + " ms";
  switch (plan.recovery) {
    case core::RecoveryMode::first_start:
      if (!log) return;
      if (config.state_dir) {
        log(LogLevel::info, who + " starting: first start (bootstrap); state directory " + dir +
                                (plan.created_dir ? " created and" : "") +
                                " initialized with floor 0, so every later start recovers from it. Remove "
                                "bootstrap from this member's configuration now: should the directory be wiped, "
                                "bootstrap would start it fresh again and it could grant old tokens");
      } else {
        log(LogLevel::info, who + " starting: first start (bootstrap, no state directory)");
      }
      return;
    case core::RecoveryMode::reservation:
      if (!log) return;
      if (plan.bootstrap_ignored)
        log(LogLevel::warn, who + ": bootstrap ignored: state directory " + dir +
                                " already holds state; the state decides. Remove bootstrap from this member's "
                                "configuration");
      log(LogLevel::info, who + " starting: recovering from the persisted floor " +
                              std::to_string(plan.recovered_reservation.value) + " in " + dir + "; " + quarantine);
      return;
    case core::RecoveryMode::peers:
      if (config.state_dir) {
        log_loud(log, LogLevel::warn,
                 who + ": state directory " + dir +
                     " has no state: recovering the floor from peers; " + quarantine +
                     ", then until enough recovered peers answered. If this is the cluster's first start, pass "
                     "--bootstrap / Config::bootstrap");
      } else {
        log_loud(log, LogLevel::warn,
                 who + " has no state directory and no bootstrap: recovering the floor from peers; " + quarantine +
                     ", then until enough recovered peers answered (members starting together this way wait for "
                     "each other forever, and every acquire fails unavailable). If this is the cluster's first "
                     "start, set Config::bootstrap (batonctl --bootstrap) on every member; to restart without "
                     "peers, give members a Config::state_dir");
      }
      return;
  }
}

// What members and clients set alike: the cluster's key and id, the
// runtime's limits, and every member's address (a member binds its own
// instead: `self`; a client, 0, binds none of them).
Result<void> set_transport(const Config& config, std::uint32_t self, runtime::DriverConfig& d) {
  d.cluster_id = config.cluster_id;
  if (config.cluster_key) {
    codec::ClusterKey k;
    k.bytes = *config.cluster_key;
    d.key = k;
  }
  for (const Member& m : config.members) {
    auto addr = runtime::parse_address(m.host, m.port);
    if (!addr) return addr.error();
    if (m.id == self) {
      d.bind_to = *addr;
    } else {
      d.peers.push_back({core::MemberId{m.id}, *addr});
    }
  }
  d.seed = os_seed();
  d.calls_queued = config.limits.calls_queued;
  d.send_buffers = config.limits.send_buffers;
  d.receive_batch = config.limits.receive_batch;
  d.clients_max = config.limits.clients;
  d.busy_poll = core::Duration::ns(config.busy_poll.count());
  return {};
}

// A client (Config::client): a fresh random id and incarnation per start (so
// lease ids never repeat across restarts), no state, an ephemeral port.
Result<runtime::DriverConfig> client_driver_config(const Config& config, LogHook& log) {
  runtime::DriverConfig d;
  d.node = detail::to_node_config(config);
  if (sodium_init() < 0) return Error{Errc::io_error, "client: no random source (sodium_init failed)"};
  std::uint32_t id_bits = 0;
  do {
    id_bits = randombytes_random() & core::member_id_max;
  } while (id_bits == 0);
  std::uint64_t inc = 0;
  while (inc == 0) randombytes_buf(&inc, sizeof inc);
  d.node.self = core::client_id(id_bits);
  d.node.incarnation = core::Incarnation{inc};
  d.node.recovery = core::RecoveryMode::first_start;
  d.node.persist = false;
  if (auto r = set_transport(config, /*self=*/0, d); !r) return r.error();
  // Any local address, ephemeral port, of the members' family.
  auto any = runtime::parse_address(d.peers.front().addr.ss_family == AF_INET6 ? "::" : "0.0.0.0", 0);
  if (!any) return any.error();
  d.bind_to = *any;
  if (log)
    log(LogLevel::info, "baton: client " + std::to_string(d.node.self.value) + " starting (" +
                            std::to_string(config.members.size()) + " members)");
  return d;
}

// Builds the runtime's configuration: addresses, key, start plan.
Result<runtime::DriverConfig> driver_config(const Config& config, LogHook& log) {
  if (config.client) return client_driver_config(config, log);
  runtime::DriverConfig d;
  d.node = detail::to_node_config(config);
  auto plan = runtime::plan_start({.state_dir = config.state_dir,
                                   .bootstrap = config.bootstrap,
                                   .incarnation = config.incarnation,
                                   .realtime_ns = std::nullopt,  // plan_start reads the wall clock
                                   .has_peers = config.members.size() > 1,
                                   .ttl_max = d.node.ttl_max,
                                   .rho_ppm = d.node.rho_ppm});
  if (!plan) return plan.error();
  d.node.recovery = plan->recovery;
  d.node.persist = plan->persist;
  d.node.recovered_reservation = plan->recovered_reservation;
  d.node.incarnation = plan->incarnation;
  d.node.prior_ttl_max = plan->prior_ttl_max;
  d.node.prior_rho_ppm = plan->prior_rho_ppm;
  d.node.recovered_cfg = plan->cfg;
  if (auto r = set_transport(config, config.self, d); !r) return r.error();
  d.state_dir = config.state_dir;
  d.state_lock = std::move(plan->lock);
  log_start(config, *plan, d.node, log);
  return d;
}

Result<std::unique_ptr<Cluster>> start_cluster(Config config, uv_loop_t* embedder_loop,
                                               const std::function<std::unique_ptr<Cluster>(std::shared_ptr<Cluster::Impl>)>& wrap) {
  if (auto v = config.validate(); !v) return v.error();
  auto impl = std::make_shared<Cluster::Impl>();
  impl->self = config.self;
  impl->busy_poll = config.busy_poll;
  impl->renew_waiters_max = config.limits.renew_waiters_per_lease;
  impl->log_hook = config.log;
  if (!config.cluster_key) {
    // Loud on purpose, even without a log hook: anyone who can send UDP to
    // this port can forge votes.
    constexpr std::string_view warning =
        "baton: WARNING: no cluster key: datagrams are NOT authenticated; anyone who can reach the "
        "members' UDP ports can forge grants and releases. Set Config::cluster_key.";
    log_loud(impl->log_hook, LogLevel::warn, warning);
  }
  auto dc = driver_config(config, impl->log_hook);
  if (!dc) return dc.error();
  impl->node_config = dc->node;
  impl->self = dc->node.self.value;  // a client's: drawn by driver_config

  uv_loop_t* loop = embedder_loop;
  if (loop == nullptr) {
    auto t = runtime::LoopThread::create();
    if (!t) return t.error();
    impl->thread = std::move(*t);
    loop = impl->thread->loop();
  } else {
    impl->embedded = true;
    impl->loop_thread = std::this_thread::get_id();
  }
  auto d = runtime::Driver::create(loop, std::move(*dc), impl.get());
  if (!d) {
    // Own thread: run the loop here until the failed handles are closed.
    if (impl->thread) impl->thread->join();
    return d.error();
  }
  impl->driver = *d;
  impl->loop_driver = *d;
  impl->port = (*d)->local_port();
  if (impl->thread) {
    impl->thread->start();
    impl->loop_thread = impl->thread->thread_id();
  }
  return wrap(std::move(impl));
}

}  // namespace

// ---- Cluster -----------------------------------------------------------

Cluster::Cluster(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Cluster::~Cluster() { stop(); }

Result<std::unique_ptr<Cluster>> Cluster::start(Config config) {
  return start_cluster(std::move(config), nullptr,
                       [](std::shared_ptr<Impl> i) { return std::unique_ptr<Cluster>(new Cluster(std::move(i))); });
}

Result<std::unique_ptr<Cluster>> Cluster::start_on_loop(Config config, void* uv_loop) {
  if (uv_loop == nullptr) return Error{Errc::invalid_argument, "start_on_loop: null loop"};
  return start_cluster(std::move(config), static_cast<uv_loop_t*>(uv_loop),
                       [](std::shared_ptr<Impl> i) { return std::unique_ptr<Cluster>(new Cluster(std::move(i))); });
}

void Cluster::stop() { impl_->stop(); }

Result<void> Cluster::acquire(std::string_view resource, const AcquireOptions& opts, AcquireCallback done) {
  return impl_->acquire(resource, opts, std::move(done));
}

Result<Lease> Cluster::acquire(std::string_view resource, const AcquireOptions& opts) {
  if (impl_->on_loop_thread()) return on_loop_error;
  // The promise is shared with the callback so that it outlives set_value.
  auto promise = std::make_shared<std::promise<Result<Lease>>>();
  std::future<Result<Lease>> outcome = promise->get_future();
  auto r = impl_->acquire(resource, opts, [promise](Result<Lease> res) { promise->set_value(std::move(res)); });
  if (!r) return r.error();
  return detail::await_outcome(outcome, impl_->busy_poll);
}

Result<Lease> Cluster::try_acquire(std::string_view resource, std::chrono::nanoseconds ttl) {
  AcquireOptions opts;
  opts.ttl = ttl;
  opts.wait = std::chrono::nanoseconds{0};
  return acquire(resource, opts);
}

Result<void> Cluster::reconfigure(std::vector<std::uint32_t> new_voters, ReconfigureCallback done) {
  return impl_->reconfigure(std::move(new_voters), std::move(done));
}

Result<ReconfigureResult> Cluster::reconfigure(std::vector<std::uint32_t> new_voters) {
  if (impl_->on_loop_thread()) return on_loop_error;
  auto promise = std::make_shared<std::promise<Result<ReconfigureResult>>>();
  std::future<Result<ReconfigureResult>> outcome = promise->get_future();
  auto r = impl_->reconfigure(std::move(new_voters),
                              [promise](Result<ReconfigureResult> res) { promise->set_value(std::move(res)); });
  if (!r) return r.error();
  return outcome.get();  // a change lasts about ttl_max: no busy polling (Config::busy_poll)
}

Stats Cluster::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mutex);
  return impl_->stats;
}

std::uint16_t Cluster::local_port() const noexcept { return impl_->port; }
std::uint32_t Cluster::self() const noexcept { return impl_->self; }
bool Cluster::is_client() const noexcept { return core::is_client(core::MemberId{impl_->self}); }

// ---- Impl: calls ---------------------------------------------------------

Result<void> Cluster::Impl::post(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mutex);
  if (driver == nullptr) return stopped_error;
  return driver->post(std::move(task));
}

Result<void> Cluster::Impl::post_reserved(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mutex);
  if (driver == nullptr) return stopped_error;
  return driver->post_reserved(std::move(task));
}

Result<void> Cluster::Impl::acquire(std::string_view resource, const AcquireOptions& opts, AcquireCallback done) {
  // Synchronous checks: a failure here means `done` never runs.
  if (!done) return Error{Errc::invalid_argument, "acquire: no callback"};
  const core::Duration ttl = core::Duration::ns(opts.ttl.count());
  if (auto ok = core::check_acquire(node_config, resource, ttl); !ok) return ok;
  if (opts.wait.count() < 0)
    return Error::with_text(Errc::invalid_argument,
                            "wait: " + core::to_text(core::Duration::ns(opts.wait.count())) + "; must not be negative");
  // Latency statistics only, so not the core's clock reading: the public
  // clock, read here because the time spent queued for the loop counts too.
  const BootClock::time_point called_at = BootClock::now();
  runtime::AcquireCall call{.resource = core::ResourceName(resource),
                            .ttl = ttl,
                            .wait = core::Duration::ns(opts.wait.count()),
                            .auto_renew = opts.auto_renew};
  return post([this, call = std::move(call), on_lost = opts.on_lost, done = std::move(done), called_at]() mutable {
    if (stopping) {
      done(stopped_error);
      return;
    }
    // The Driver reads the acquirer's t0 (and says why that is safe).
    auto id = loop_driver->acquire(std::move(call));
    if (!id) {
      done(id.error());
      return;
    }
    pending.emplace(*id, Pending{std::move(done), called_at, std::move(on_lost)});
  });
}

Result<void> Cluster::Impl::reconfigure(std::vector<std::uint32_t> voters, ReconfigureCallback done) {
  // Synchronous checks: a failure here means `done` never runs, and nothing changed.
  if (!done) return Error{Errc::invalid_argument, "reconfigure: no callback"};
  std::vector<core::MemberId> ids;
  ids.reserve(voters.size());
  for (std::uint32_t v : voters) ids.push_back(core::MemberId(v));
  if (auto ok = core::check_reconfigure(node_config, ids); !ok) return ok.error();
  bool idle = false;
  if (!reconfigure_pending.compare_exchange_strong(idle, true)) {
    return Error{Errc::busy,
                 "reconfigure: this Cluster's previous reconfigure has not called back yet; call again after it did"};
  }
  auto posted = post([this, ids = std::move(ids), done = std::move(done)]() mutable {
    reconfigure_done = std::move(done);
    if (stopping) return finish_reconfigure(stopped_error);
    // busy here: a run this member drives for batonctl, or a repair.
    if (auto started = loop_driver->reconfigure(std::move(ids)); !started) finish_reconfigure(started.error());
  });
  if (!posted) reconfigure_pending.store(false);
  return posted;
}

void Cluster::Impl::finish_reconfigure(Result<ReconfigureResult> r) {
  if (!reconfigure_done) return;
  ReconfigureCallback done = std::move(reconfigure_done);
  reconfigure_done = nullptr;
  reconfigure_pending.store(false);  // before the callback: it may call reconfigure again
  done(std::move(r));
}

void Cluster::Impl::on_reconfigured(const core::ReconfigResult& result) { finish_reconfigure(to_public(result)); }

void Cluster::Impl::stop() {
  runtime::Driver* d = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    d = driver;
    driver = nullptr;  // later posts fail with stopped
  }
  if (d == nullptr) return;
  if (embedded) {
    // The embedder's loop thread: close now; the Driver frees itself after
    // the loop has run the close callbacks.
    BATON_ASSERT(on_loop_thread());
    d->shutdown([d] { delete d; });
    return;
  }
  // Waiting for our own loop from inside it would never end.
  BATON_ASSERT(!on_loop_thread());
  auto r = d->post_reserved([d] { d->shutdown([] {}); });
  BATON_ASSERT(r.ok());  // only shutdown closes the mailbox
  thread->join();        // returns once every handle is closed; asserts uv_loop_close == 0
  delete d;
}

// ---- Impl: runtime hooks (loop thread) -------------------------------------

void Cluster::Impl::on_event(const core::Event& e) {
  switch (e.kind) {
    case core::EventKind::acquired: return on_acquired(e);
    case core::EventKind::acquire_failed: return on_acquire_failed(e);
    case core::EventKind::renewed: {
      auto it = leases.find(e.id);
      if (it == leases.end()) return;
      it->second->validity_end_ns.store(e.validity_end.ns(), std::memory_order_release);
      return finish_renews(*it->second, {});
    }
    case core::EventKind::renew_failed: {
      auto it = leases.find(e.id);
      if (it == leases.end()) return;
      return finish_renews(*it->second, Error{e.error, e.error == Errc::unknown_outcome
                                                           ? "renew: no majority acknowledged in time"
                                                           : "renew: failed"});
    }
    case core::EventKind::lost: return on_lost(e);
  }
}

void Cluster::Impl::on_acquired(const core::Event& e) {
  auto it = pending.find(e.id);
  if (it == pending.end()) {
    // Nobody waits for it any more (the cluster is stopping): give it back.
    (void)loop_driver->release(e.id);
    return;
  }
  Pending p = std::move(it->second);
  pending.erase(it);
  auto s = std::make_shared<Lease::State>();
  s->cluster = weak_from_this();
  s->id = e.id;
  s->resource = e.resource.str();
  s->token = e.token.value;
  s->validity_end_ns.store(e.validity_end.ns(), std::memory_order_release);
  s->on_lost = std::move(p.on_lost);
  leases.emplace(e.id, s);
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(BootClock::now() - p.called_at);
  latency.record(static_cast<std::uint64_t>(took.count() > 0 ? took.count() : 0));
  p.done(detail::LeaseAccess::make(std::move(s)));
}

void Cluster::Impl::on_acquire_failed(const core::Event& e) {
  auto it = pending.find(e.id);
  if (it == pending.end()) return;
  Pending p = std::move(it->second);
  pending.erase(it);
  p.done(acquire_error(e.error));
}

void Cluster::Impl::on_lost(const core::Event& e) {
  auto it = leases.find(e.id);
  if (it == leases.end()) return;
  std::shared_ptr<Lease::State> s = std::move(it->second);
  leases.erase(it);
  const LostReason reason = e.lost_reason;  // the public type itself (baton/lost_reason.hpp)
  std::function<void(LostReason)> cb;
  {
    // Phase and callback change together: Lease::on_lost decides under the
    // same mutex whether to store its callback or to post it.
    std::lock_guard<std::mutex> lock(s->mutex);
    auto expected = Lease::State::Phase::held;
    if (!s->phase.compare_exchange_strong(expected, Lease::State::Phase::lost)) return;  // released meanwhile
    s->lost_reason.store(reason);
    cb = std::move(s->on_lost);
    s->on_lost = nullptr;
  }
  finish_renews(*s, Error{Errc::lost, "renew: the lease was lost"});
  if (cb) cb(reason);
}

void Cluster::Impl::finish_renews(Lease::State& s, Result<void> r) {
  std::vector<std::function<void(Result<void>)>> done;
  done.swap(s.renew_done);
  s.renews_waiting.fetch_sub(done.size());
  for (auto& d : done) d(r);
}

void Cluster::Impl::on_batch_end(const core::Node& node, const runtime::DriverCounters& counters) {
  Stats s = detail::make_stats(node.stats(), node.status(), node.config().incarnation.value, counters,
                               {.held_leases = leases.size(), .pending_acquires = pending.size(),
                                .acquire_latency = latency});
  // Issue 21: the record this member votes under (a client's: the newest it
  // heard of), rebuilt only when it changed.
  const core::CfgRecord& record = core::client_mode(node.config()) ? node.acquirer().cfg() : node.cfg().record;
  std::lock_guard<std::mutex> lock(stats_mutex);
  VoterConfig voting = std::move(stats.voting);
  stats = std::move(s);
  if (record.id != voting_id) {
    voting = to_public(record);
    voting_id = record.id;
  }
  stats.voting = std::move(voting);
}

void Cluster::Impl::on_shutdown() {
  stopping = true;
  finish_reconfigure(stopped_error);  // the run, if any, dies with the member; the next one finishes it
  for (auto& [id, p] : pending) {
    (void)loop_driver->release(id);  // cancels the attempt; partial grants are released
    p.done(stopped_error);
  }
  pending.clear();
  for (auto& [id, s] : leases) {
    auto expected = Lease::State::Phase::held;
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      s->phase.compare_exchange_strong(expected, Lease::State::Phase::stopped);
      s->on_lost = nullptr;
    }
    (void)loop_driver->release(id);  // best effort: the RELEASEs go out in the final flush
    finish_renews(*s, stopped_error);
  }
  leases.clear();
}

void Cluster::Impl::on_new_life(const core::NewLife& /*life*/) {
  // Releases here still reach the old life's Node (DriverHooks). Callbacks may call in again (an acquire to retry): those calls are posted
  // and run on the new life's Node, after this.
  std::map<core::AcquireId, std::shared_ptr<Lease::State>> ended;
  ended.swap(leases);
  for (auto& [id, s] : ended) {
    std::function<void(LostReason)> cb;
    {
      // As in on_lost: invalid first (valid() is false from here) ...
      std::lock_guard<std::mutex> lock(s->mutex);
      auto expected = Lease::State::Phase::held;
      if (s->phase.compare_exchange_strong(expected, Lease::State::Phase::lost)) {
        s->lost_reason.store(LostReason::restarted);
        cb = std::move(s->on_lost);
        s->on_lost = nullptr;
      }
    }
    finish_renews(*s, Error{Errc::lost, "renew: the lease was lost (this member started a new life)"});
    if (cb) cb(LostReason::restarted);
    // ... then the RELEASE, queued on the old life's Node (loss ordering).
    (void)loop_driver->release(id);
  }
  std::map<core::AcquireId, Pending> failed;
  failed.swap(pending);
  for (auto& [id, p] : failed) {
    (void)loop_driver->release(id);  // cancels the attempt; its grants are released
    p.done(Error{Errc::unavailable,
                 "acquire: this member started a new life (a peer had seen a newer incarnation of it); call again"});
  }
}

void Cluster::Impl::log(LogLevel level, std::string_view text) {
  if (log_hook) log_hook(level, text);
}

}  // namespace baton
