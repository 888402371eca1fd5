// SPDX-License-Identifier: Apache-2.0
// Lease handles: reads of the shared state from any thread, and the calls
// that post release/renew/auto-renew to the loop.
#include <future>

#include "api/cluster_impl.hpp"
#include "runtime/clock.hpp"

namespace baton {

namespace {
const Error not_held_error{Errc::not_held, "the lease is not held (empty, released, lost or stopped)"};
const Error stopped_error{Errc::stopped, "the cluster is stopping or stopped"};
const std::string empty_name;
}  // namespace

// The public clock's one definition: the runtime's clock (CLOCK_BOOTTIME),
// on which the core's Instants, and so every validity end, are measured.
// Every clock read in lib/api goes through here.
BootClock::time_point BootClock::now() noexcept {
  return time_point(duration(runtime::boot_now().ns()));
}

Lease::Lease() noexcept = default;
Lease::Lease(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}
Lease::Lease(Lease&&) noexcept = default;
Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
  }
  return *this;
}
Lease::~Lease() { release(); }

Lease::operator bool() const noexcept { return state_ != nullptr; }

const std::string& Lease::resource() const { return state_ ? state_->resource : empty_name; }
std::uint64_t Lease::token() const noexcept { return state_ ? state_->token : 0; }

BootClock::time_point Lease::validity_end() const noexcept {
  if (!state_) return BootClock::time_point{};
  return BootClock::time_point(BootClock::duration(state_->validity_end_ns.load(std::memory_order_acquire)));
}

std::chrono::nanoseconds Lease::time_left() const noexcept {
  if (!state_) return std::chrono::nanoseconds{0};
  return validity_end() - BootClock::now();
}

bool Lease::valid() const noexcept {
  if (!state_) return false;
  // Every loss ends the lease at once, renew_failing included: the core
  // releases a lost lease at its voters, so another member may hold it next
  // even before the old validity end.
  const bool usable = state_->phase.load(std::memory_order_acquire) == State::Phase::held;
  // Holder side: a fresh reading, compared with the validity end. A reading
  // taken a little early could only say "valid" for a moment longer than
  // true; `margin`, subtracted from every validity end, covers that gap
  // between this check and the caller's use of the resource.
  return usable && BootClock::now() < validity_end();
}

std::optional<LostReason> Lease::lost_reason() const noexcept {
  if (!state_ || state_->phase.load() != State::Phase::lost) return std::nullopt;
  return state_->lost_reason.load();
}

DiscardableResult Lease::release() {
  if (!state_) return not_held_error;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    auto expected = State::Phase::held;
    // The holder stops using the lease first (valid() is false from here),
    // then the voters are told (DESIGN "Release").
    if (!state_->phase.compare_exchange_strong(expected, State::Phase::released)) return not_held_error;
    state_->on_lost = nullptr;  // never runs after release
  }
  if (auto c = state_->cluster.lock()) c->release(state_);
  return {};
}

Result<void> Lease::renew(std::function<void(Result<void>)> done) {
  if (!state_) return not_held_error;
  if (!done) return Error{Errc::invalid_argument, "renew: no callback"};
  auto c = state_->cluster.lock();
  if (!c) return stopped_error;
  return c->renew(state_, std::move(done));
}

Result<void> Lease::renew() {
  if (!state_) return not_held_error;
  auto c = state_->cluster.lock();
  if (!c) return stopped_error;
  if (c->on_loop_thread())
    return Error{Errc::invalid_argument, "a blocking call on the loop thread would deadlock: use the callback form"};
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto outcome = promise->get_future();
  auto r = c->renew(state_, [promise](Result<void> res) { promise->set_value(res); });
  if (!r) return r;
  return detail::await_outcome(outcome, c->busy_poll);
}

Result<void> Lease::set_auto_renew(bool on) {
  if (!state_) return not_held_error;
  auto c = state_->cluster.lock();
  if (!c) return stopped_error;
  return c->set_auto_renew(state_, on);
}

void Lease::on_lost(std::function<void(LostReason)> callback) {
  if (!state_) return;
  bool already_lost = false;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    const State::Phase phase = state_->phase.load();
    if (phase == State::Phase::released || phase == State::Phase::stopped) return;
    state_->on_lost = std::move(callback);
    already_lost = phase == State::Phase::lost;
  }
  // The loop already reported the loss (and found no callback): run this one
  // there, as every other callback.
  if (already_lost) {
    if (auto c = state_->cluster.lock()) (void)c->post_lost_callback(state_);
  }
}

// ---- Impl: lease operations -----------------------------------------------

void Cluster::Impl::release(const std::shared_ptr<Lease::State>& s) {
  // Reserved: one release per lease, bounded by the in-flight limit, and it
  // must not be refused (an auto-renewed lease would otherwise live forever).
  (void)post_reserved([this, s] {
    auto it = leases.find(s->id);
    // The same lease, not one of a later life that reuses its AcquireId.
    if (stopping || it == leases.end() || it->second != s) return;
    leases.erase(it);
    (void)loop_driver->release(s->id);
    finish_renews(*s, not_held_error);
  });
}

Result<void> Cluster::Impl::renew(const std::shared_ptr<Lease::State>& s, std::function<void(Result<void>)> done) {
  switch (s->phase.load()) {
    case Lease::State::Phase::held: break;
    case Lease::State::Phase::lost: return Error{Errc::lost, "renew: the lease was lost"};
    case Lease::State::Phase::stopped: return stopped_error;
    case Lease::State::Phase::released: return not_held_error;
  }
  if (s->renews_waiting.fetch_add(1) >= renew_waiters_max) {
    s->renews_waiting.fetch_sub(1);
    return Error{Errc::overloaded, "renew: too many renew calls waiting on this lease"};
  }
  auto r = post([this, s, done = std::move(done)]() mutable {
    if (stopping) {
      s->renews_waiting.fetch_sub(1);
      return done(stopped_error);
    }
    if (auto it = leases.find(s->id); it == leases.end() || it->second != s) {
      s->renews_waiting.fetch_sub(1);
      return done(s->phase.load() == Lease::State::Phase::lost ? Result<void>(Errc::lost, "renew: the lease was lost")
                                                                : Result<void>(not_held_error));
    }
    // The Driver reads the round's start t_r (and says why that is safe).
    if (auto started = loop_driver->renew(s->id); !started) {
      s->renews_waiting.fetch_sub(1);
      return done(started);
    }
    s->renew_done.push_back(std::move(done));
  });
  if (!r) s->renews_waiting.fetch_sub(1);
  return r;
}

Result<void> Cluster::Impl::set_auto_renew(const std::shared_ptr<Lease::State>& s, bool on) {
  if (s->phase.load() != Lease::State::Phase::held) return not_held_error;
  return post([this, s, on] {
    if (auto it = leases.find(s->id); stopping || it == leases.end() || it->second != s) return;
    (void)loop_driver->set_auto_renew(s->id, on);
  });
}

Result<void> Cluster::Impl::post_lost_callback(const std::shared_ptr<Lease::State>& s) {
  return post([s] {
    std::function<void(LostReason)> cb;
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      cb = std::move(s->on_lost);
      s->on_lost = nullptr;
    }
    if (cb) cb(s->lost_reason.load());
  });
}

}  // namespace baton
