// SPDX-License-Identifier: Apache-2.0
// Cluster: this process's membership in a Baton cluster, and the calls that
// take leases.
//
// Threading. Baton runs on a libuv loop: its own thread (start()), or the
// application's loop (start_on_loop()). Every call below may be made from any
// thread; it is posted to the loop through a bounded queue (full: overloaded).
// Callbacks run on the loop thread, one at a time: keep them short, and never
// call a blocking form from inside one (it returns invalid_argument instead of
// deadlocking).
//
// The libuv rule: a call that fails synchronously (returns an error) never
// runs its callback; a call that returns ok runs its callback exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "baton/config.hpp"
#include "baton/export.hpp"
#include "baton/lease.hpp"
#include "baton/result.hpp"
#include "baton/stats.hpp"
#include "baton/voters.hpp"

namespace baton {

struct AcquireOptions {
  std::chrono::nanoseconds ttl = std::chrono::seconds{10};  // in [ttl_min, ttl_max]
  // How long to keep trying while the resource is held by someone else (the
  // voters hand the lease over or send FREE on release, no polling). Zero:
  // one attempt.
  std::chrono::nanoseconds wait = std::chrono::nanoseconds{0};
  bool auto_renew = false;                   // renew until released or lost
  std::function<void(LostReason)> on_lost;   // set before the grant: no loss goes unseen
};

using AcquireCallback = std::function<void(Result<Lease>)>;
using ReconfigureCallback = std::function<void(Result<ReconfigureResult>)>;

class BATON_EXPORT Cluster {
 public:
  // Starts this member on a loop thread Baton owns. Errors: invalid_config
  // (Config::validate failed: fix the config), io_error (socket bind, state
  // directory: check the address, port and directory permissions).
  static Result<std::unique_ptr<Cluster>> start(Config config);

  // Starts this member on the application's libuv loop; `uv_loop` is a
  // uv_loop_t*. Must be called on the thread that runs that loop. Baton adds
  // its handles to the loop; after stop() they close during the loop's next
  // iterations, so keep running the loop until uv_run returns before closing
  // it. Errors: as start(), and invalid_argument (null loop).
  static Result<std::unique_ptr<Cluster>> start_on_loop(Config config, void* uv_loop);

  ~Cluster();  // stop()
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Releases held leases (best effort), fails pending acquires and renewals
  // with `stopped`, closes the socket and timers and, on Baton's own thread,
  // joins it. Idempotent. Call it from a non-loop thread (own-thread mode) or
  // from the loop's thread (embedder mode), never from inside a callback in
  // own-thread mode.
  void stop();

  // Takes a lease on `resource` (1..128 bytes), waiting up to `opts.wait`
  // while it is held elsewhere. Blocks the calling thread.
  // Errors:
  //   invalid_argument  bad name or ttl, or called on the loop thread. Fix the call.
  //   busy              held by another member when the wait ran out. Retry later, or wait longer.
  //   unavailable       no majority of voters answered (partition, members down,
  //                     voters still recovering). Retry with backoff; check the cluster.
  //   overloaded        a queue or the in-flight limit is full. Back off and retry.
  //   stopped           the cluster is stopping. Do not retry.
  Result<Lease> acquire(std::string_view resource, const AcquireOptions& opts);
  // The same, without blocking: on ok, `done` runs exactly once on the loop
  // thread with the lease or one of the errors above (except invalid_argument
  // for the loop thread, which does not apply). On error `done` never runs.
  Result<void> acquire(std::string_view resource, const AcquireOptions& opts, AcquireCallback done);

  // acquire() with wait = 0: one attempt; busy if held elsewhere.
  Result<Lease> try_acquire(std::string_view resource, std::chrono::nanoseconds ttl);

  // Moves the cluster's voters to `new_voters` (member ids, any order), driven
  // by this member, while leases are held, acquired, renewed and released
  // (docs/operations.md "Changing the members"). Every guarantee holds
  // throughout. A change takes about ttl_max*(1+rho)/(1-rho) plus a few round
  // trips (the old voters' leases must end first). Blocks the calling thread.
  // Returns ok with the run's outcome once it ends: check
  // ReconfigureResult::committed(); superseded and timed_out are outcomes, not
  // errors (the next reconfigure, from any member, finishes a half-done change).
  // Errors (nothing changed):
  //   invalid_argument  the list is empty, names an id twice or an id that is not
  //                     among Config::members (the text names it); this process
  //                     is a client, or has no state directory; the cluster has
  //                     more members than replicas (scale mode: not supported);
  //                     or called on the loop thread. Fix the call or the setup.
  //   busy              a change driven by this member is under way (this call's
  //                     callback form, batonctl reconfigure, or a repair the
  //                     member started itself): wait for it, then call again.
  //   overloaded, stopped  as for acquire.
  Result<ReconfigureResult> reconfigure(std::vector<std::uint32_t> new_voters);
  // The same, without blocking: on ok, `done` runs exactly once on the loop
  // thread with the outcome, or with busy (a change this member drives for
  // batonctl or a repair is under way; found on the loop), or stopped. One
  // call at a time per Cluster: a second while the first has not called back
  // fails at once with busy. On error `done` never runs.
  Result<void> reconfigure(std::vector<std::uint32_t> new_voters, ReconfigureCallback done);

  // A snapshot taken after the loop's latest batch. Any thread; never blocks on the loop.
  Stats stats() const;
  // The UDP port this member is bound to (its Member::port).
  std::uint16_t local_port() const noexcept;
  // This member's id; a client's drawn id (above member_id_max).
  std::uint32_t self() const noexcept;
  // Whether this process is a client (Config::client): no member slot.
  bool is_client() const noexcept;

  struct Impl;  // implementation detail (lib/api)

 private:
  explicit Cluster(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace baton
