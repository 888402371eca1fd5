// SPDX-License-Identifier: Apache-2.0
// Lease: the RAII handle of a held lease, and BootClock, the clock its
// validity is measured on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "baton/export.hpp"
#include "baton/lost_reason.hpp"  // IWYU pragma: export
#include "baton/result.hpp"

namespace baton {

// CLOCK_BOOTTIME as a std::chrono clock: monotonic and, unlike
// std::chrono::steady_clock (CLOCK_MONOTONIC), it keeps counting while the
// machine is suspended. Lease validity is measured on it, so a machine that
// slept sees its lease expired (DESIGN "Details that matter").
struct BATON_EXPORT BootClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<BootClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept;
};

class Cluster;
namespace detail {
struct LeaseAccess;
}  // namespace detail

// A held lease. Move-only. The destructor releases it (best effort: the
// voters also drop it when its ttl runs out). An empty Lease (default
// constructed or moved from) holds nothing.
//
// Thread safety: const members may be called from any thread concurrently;
// release/renew/set_auto_renew/on_lost may be called from any thread but not
// concurrently on one Lease object.
class BATON_EXPORT Lease {
 public:
  Lease() noexcept;
  Lease(Lease&&) noexcept;
  Lease& operator=(Lease&&) noexcept;  // releases the lease held before
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  // False for an empty handle.
  explicit operator bool() const noexcept;

  const std::string& resource() const;   // the resource name ("" if empty)
  // The fencing token: pass it with every write to the protected resource,
  // which rejects tokens below the highest it saw (FenceGuard). 0 if empty.
  std::uint64_t token() const noexcept;
  // Believe the lease valid strictly before this instant on BootClock. Moves
  // later with every successful renewal.
  BootClock::time_point validity_end() const noexcept;
  // validity_end() - BootClock::now(); zero or negative once over.
  std::chrono::nanoseconds time_left() const noexcept;
  // Computed now, against BootClock, not a cached flag: false once
  // validity_end() has passed, after release(), after the cluster stopped,
  // and after any loss.
  bool valid() const noexcept;
  // Set once the lease was lost; the reason.
  std::optional<LostReason> lost_reason() const noexcept;

  // Stops using the lease (valid() turns false at once) and tells the voters.
  // Errors: not_held (empty, already released, or lost: nothing to do). The
  // result may be dropped without a cast (`lease.release();`): there is
  // nothing to do about a failed release.
  DiscardableResult release();

  // Runs one renewal round and waits for it. Errors: not_held (released,
  // empty), lost (the lease was lost: stop using it), unknown_outcome (no
  // majority answered in time: the lease may or may not have been extended;
  // rely on validity_end(), which did not move, and retry or give up),
  // overloaded (too many calls queued: retry later), stopped (cluster stopped),
  // invalid_argument (called on the loop thread, where waiting would deadlock:
  // use the callback form).
  Result<void> renew();
  // The same, without waiting. On success exactly one call of `done` follows,
  // on the loop thread, with ok or one of the errors above. On error `done`
  // never runs. Errors returned here: not_held, overloaded, stopped.
  Result<void> renew(std::function<void(Result<void>)> done);

  // Turns automatic renewal on or off (renewal starts a third into the
  // validity window; on_lost(renew_failing) if it cannot reach a majority).
  // Errors: not_held, overloaded, stopped.
  Result<void> set_auto_renew(bool on);

  // Sets the callback run once, on the loop thread, when the lease is lost.
  // Replaces a previous one. If the lease was already lost it runs soon after
  // this call (posted to the loop). Never runs after release() or stop().
  void on_lost(std::function<void(LostReason)> callback);

  struct State;  // implementation detail (lib/api)

 private:
  friend struct detail::LeaseAccess;
  explicit Lease(std::shared_ptr<State> state) noexcept;
  std::shared_ptr<State> state_;
};

}  // namespace baton
