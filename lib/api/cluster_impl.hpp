// SPDX-License-Identifier: Apache-2.0
// Cluster::Impl: the public API's state and the runtime hooks.
//
// Two kinds of state, kept apart:
//  - shared with other threads: the driver pointer (null once stopping) under
//    `mutex`, the stats snapshot under `stats_mutex`, immutable settings;
//  - loop-thread only: pending acquires, held leases, the latency histogram.
// Calls from any thread become tasks posted through the Driver's mailbox and
// touch loop-thread state only when they run there.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "api/lease_state.hpp"
#include "baton/cluster.hpp"
#include "baton/lease.hpp"
#include "core/config.hpp"
#include "core/time.hpp"
#include "runtime/driver.hpp"
#include "runtime/loop_thread.hpp"

namespace baton {

namespace detail {
// A blocking call's wait: polls `outcome` for up to `busy_poll` (Config),
// yielding between polls, then sleeps until it is ready. Polling saves the
// wake-up of this thread when the answer comes within the window.
template <typename T>
T await_outcome(std::future<T>& outcome, std::chrono::nanoseconds busy_poll) {
  if (busy_poll > std::chrono::nanoseconds{0}) {
    const auto until = BootClock::now() + busy_poll;
    while (outcome.wait_for(std::chrono::nanoseconds{0}) != std::future_status::ready && BootClock::now() < until) {
      std::this_thread::yield();  // lets a thread that shares this core run (the loop, on small hosts)
    }
  }
  return outcome.get();
}
}  // namespace detail

struct BATON_NO_EXPORT Cluster::Impl final : runtime::DriverHooks, std::enable_shared_from_this<Cluster::Impl> {
  // ---- immutable after start --------------------------------------------
  std::uint32_t self = 0;                 // this member's id
  core::NodeConfig node_config;           // the core's configuration: core::check_acquire on the caller's thread
  std::size_t renew_waiters_max = 16;     // Limits::renew_waiters_per_lease
  std::chrono::nanoseconds busy_poll{0};  // Config::busy_poll: blocking calls poll this long first
  LogHook log_hook;                       // null: quiet
  bool embedded = false;                  // on the application's loop
  std::thread::id loop_thread;            // the thread that runs the loop
  std::uint16_t port = 0;                 // bound UDP port
  std::unique_ptr<runtime::LoopThread> thread;  // own-thread mode only

  // ---- any thread -------------------------------------------------------
  mutable std::mutex mutex;               // guards driver
  runtime::Driver* driver = nullptr;      // null once stop() began: posts fail with stopped
  mutable std::mutex stats_mutex;         // guards stats
  Stats stats;                            // snapshot after the latest batch
  // A reconfigure call is posted or waits for its outcome: a second one
  // fails at once with busy (set by the caller's thread, cleared on the loop).
  std::atomic<bool> reconfigure_pending{false};

  // ---- loop thread only --------------------------------------------------
  struct Pending {
    AcquireCallback done;                       // runs exactly once
    BootClock::time_point called_at;            // the acquire call, for the latency histogram
    std::function<void(LostReason)> on_lost;    // handed to the lease on grant
  };
  runtime::Driver* loop_driver = nullptr;       // valid on the loop until shutdown ends
  bool stopping = false;                        // on_shutdown ran: fail new tasks with stopped
  std::map<core::AcquireId, Pending> pending;   // acquires waiting for an outcome
  std::map<core::AcquireId, std::shared_ptr<Lease::State>> leases;  // held here
  LatencyHistogram latency;                     // acquire call -> grant
  ReconfigureCallback reconfigure_done;         // the pending reconfigure's callback; empty: none
  core::CfgId voting_id{0, 0};                  // the record Stats::voting shows

  bool on_loop_thread() const { return std::this_thread::get_id() == loop_thread; }
  // Any thread. Errors: overloaded, stopped.
  Result<void> post(std::function<void()> task);
  Result<void> post_reserved(std::function<void()> task);

  Result<void> acquire(std::string_view resource, const AcquireOptions& opts, AcquireCallback done);
  Result<void> reconfigure(std::vector<std::uint32_t> voters, ReconfigureCallback done);
  void stop();

  // Lease operations (any thread), used by lib/api/lease.cpp.
  void release(const std::shared_ptr<Lease::State>& s);
  Result<void> renew(const std::shared_ptr<Lease::State>& s, std::function<void(Result<void>)> done);
  Result<void> set_auto_renew(const std::shared_ptr<Lease::State>& s, bool on);
  Result<void> post_lost_callback(const std::shared_ptr<Lease::State>& s);

  // runtime::DriverHooks (loop thread)
  void on_event(const core::Event& e) override;
  void on_batch_end(const core::Node& node, const runtime::DriverCounters& counters) override;
  void on_shutdown() override;
  void on_new_life(const core::NewLife& life) override;
  void log(LogLevel level, std::string_view text) override;
  void on_reconfigured(const core::ReconfigResult& result) override;

 private:
  void on_acquired(const core::Event& e);
  void on_acquire_failed(const core::Event& e);
  void on_lost(const core::Event& e);
  static void finish_renews(Lease::State& s, Result<void> r);
  // Runs the pending reconfigure's callback with `r` (loop thread).
  void finish_reconfigure(Result<ReconfigureResult> r);
};

}  // namespace baton
