// SPDX-License-Identifier: Apache-2.0
// Lease::State: what a Lease handle shares with the loop thread.
//
// Atomics hold what any thread reads (validity end, phase); the on_lost
// callback sits under a mutex because the user may set it from any thread
// while the loop takes it; `renew_done` is touched only on the loop thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "baton/cluster.hpp"
#include "baton/lease.hpp"
#include "core/ids.hpp"

namespace baton {

struct BATON_NO_EXPORT Lease::State {
  enum class Phase : std::uint8_t {
    held,      // granted; valid until validity_end
    released,  // the holder released it (release() or the destructor)
    lost,      // the core reported a loss; lost_reason says why
    stopped,   // the cluster stopped while it was held
  };

  std::weak_ptr<Cluster::Impl> cluster;  // to post release/renew; expired after the Cluster is gone
  core::AcquireId id;                    // the core's handle of this lease
  std::string resource;                  // the resource name
  std::uint64_t token = 0;               // fencing token, fixed for the lease's life
  std::atomic<std::int64_t> validity_end_ns{0};  // BootClock ns; moves later on renewal
  std::atomic<Phase> phase{Phase::held};
  std::atomic<LostReason> lost_reason{LostReason::expired};  // meaningful when phase == lost
  std::atomic<std::size_t> renews_waiting{0};  // renew callbacks queued or waiting (bounded)

  std::mutex mutex;                            // guards on_lost
  std::function<void(LostReason)> on_lost;     // run once on loss, on the loop thread

  // Loop thread only: renew callbacks waiting for the round's outcome.
  std::vector<std::function<void(Result<void>)>> renew_done;
};

namespace detail {
// Lets lib/api build Lease handles (the constructor is private).
struct LeaseAccess {
  static Lease make(std::shared_ptr<Lease::State> s) { return Lease(std::move(s)); }
};
}  // namespace detail

}  // namespace baton
