// SPDX-License-Identifier: Apache-2.0
// The member's state directory: the persisted floor reservation, the
// incarnation counter, the longest ttl_max and largest rho the member ever
// voted under (DESIGN "Restart"), the lock that keeps a second process out,
// and the start plan derived from them.
//
// Each value is one small text file holding a decimal number and a newline.
// Writes are durable and atomic: write a temporary file, fsync it, rename it
// over the old one, fsync the directory. A crash leaves either the old or the
// new value, never a torn one. Reads reject anything that is not exactly such
// a number (a corrupted file stops the start instead of guessing a floor).
//
// Which directory holds state: one with a `floor` file. A member that may
// start fresh is told so (bootstrap); without that, a directory without a
// floor means the member lost its state (a wiped disk, a new directory), and
// it recovers the floor from its peers (Guarantee 2: a fresh floor 0 would
// grant old tokens again).
//
// Plain POSIX, no libuv: a reservation is written once per block of 2^32
// tokens, so the loop thread does it synchronously.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "baton/result.hpp"
#include "core/config.hpp"
#include "core/ids.hpp"
#include "core/membership.hpp"
#include "core/time.hpp"

namespace baton::runtime {

inline constexpr const char* floor_file_name = "floor";
inline constexpr const char* incarnation_file_name = "incarnation";
inline constexpr const char* ttl_max_file_name = "ttl_max_ns";  // longest ttl_max voted under, ns
inline constexpr const char* rho_file_name = "rho_ppm";         // largest rho voted under, ppm
inline constexpr const char* lock_file_name = "lock";           // flock'ed for the life; holds the pid
// The configuration record and promise (issue 21; docs/operations.md "State
// directory"). Absent: the initial configuration (1, 0, the members), the
// only one before online reconfiguration, and promise 0.
inline constexpr const char* config_file_name = "config";

// The value stored in `dir`/`name`, or nullopt when the file does not exist.
// Errors: io_error naming the file (unreadable, or not a decimal number).
Result<std::optional<std::uint64_t>> read_value(const std::string& dir, const char* name);

// Durably replaces `dir`/`name` with `value`. Errors: io_error naming the file.
Result<void> write_value(const std::string& dir, const char* name, std::uint64_t value);

// The configuration file's text for `state`, and back (nullopt: not exactly
// such a text, or not a valid record with promised >= its ballot).
std::string format_config(const core::CfgState& state);
std::optional<core::CfgState> parse_config(std::string_view text);
// Durably replaces `dir`/config. Errors: io_error naming the file.
Result<void> write_config(const std::string& dir, const core::CfgState& state);
// The stored configuration, or nullopt when there is none. Errors: io_error
// naming the file (unreadable or corrupted).
Result<std::optional<core::CfgState>> read_config(const std::string& dir);

// An exclusive lock on a state directory (flock on `dir`/lock), held until
// destroyed. Two processes on one directory would overwrite each other's
// reservations, a higher one with a lower one.
class StateDirLock {
 public:
  StateDirLock() = default;
  ~StateDirLock();
  StateDirLock(StateDirLock&& other) noexcept;
  StateDirLock& operator=(StateDirLock&& other) noexcept;
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  // Locks the existing directory `dir` and writes this process's id into the
  // lock file. Never waits. Errors: io_error naming `dir`: locked by another
  // process (with its pid, when it wrote one), or the lock file cannot be
  // opened. On error nothing is held.
  static Result<StateDirLock> acquire(const std::string& dir);
  bool held() const { return fd_ >= 0; }

 private:
  explicit StateDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// What the state directory held (nullopt: file absent).
struct StoredState {
  std::optional<std::uint64_t> floor;        // the floor reservation
  std::optional<std::uint64_t> incarnation;  // the last life's incarnation
  std::optional<std::uint64_t> ttl_max_ns;   // longest ttl_max voted under
  std::optional<std::uint64_t> rho_ppm;      // largest rho voted under
  std::optional<core::CfgState> cfg{};       // the configuration record and promise
};

// How this life of the member starts.
struct StartPlan {
  core::RecoveryMode recovery = core::RecoveryMode::first_start;
  bool persist = false;                  // write floor reservations to the state directory
  core::Token recovered_reservation{};   // recovery == reservation: the floor read back
  core::Incarnation incarnation{};       // this life's incarnation, non-zero
  core::Duration prior_ttl_max{};        // longest ttl_max an earlier life voted under (0: unknown)
  std::uint32_t prior_rho_ppm = 0;       // largest rho an earlier life voted under (0: unknown)
  std::optional<core::CfgState> cfg;     // the stored configuration (none: the initial one)
  bool bootstrap_ignored = false;        // bootstrap asked, but the directory held state: the state decides
  bool write_initial_floor = false;      // bootstrap with a state directory: write floor 0 before voting
  core::Duration ttl_max_to_store{};     // state directory: max(stored, this life's ttl_max)
  std::uint32_t rho_ppm_to_store = 0;    // state directory: max(stored, this life's rho)
  bool created_dir = false;              // plan_start created the directory (bootstrap)
  StateDirLock lock;                     // plan_start: the directory's lock, to hold for this life
};

struct StartInputs {
  std::optional<std::string> state_dir;      // the member's state directory, if any
  bool bootstrap = false;                    // the cluster's first start: start fresh where there is no state
  std::optional<std::uint64_t> incarnation;  // explicit incarnation (batonctl --incarnation)
  std::optional<std::uint64_t> realtime_ns;  // wall clock now, ns since the epoch; unset: plan_start reads it
  bool has_peers = true;                     // other members exist (peer recovery is possible)
  core::Duration ttl_max{};                  // this life's ttl_max
  std::uint32_t rho_ppm = 0;                 // this life's rho
};

// Pure decision from what the state directory held:
//  - state dir with a floor: recovery from the reservation (persist on);
//    bootstrap is ignored (bootstrap_ignored): the state decides;
//  - state dir without a floor, bootstrap: first start (persist on), and the
//    floor file is written at once (write_initial_floor), so that every later
//    start recovers from a reservation, with or without bootstrap;
//  - state dir without a floor, no bootstrap: the member lost its state:
//    peer recovery (persist on: it writes reservations once it votes);
//  - no state dir: peer recovery, unless `bootstrap` (first start, no persist).
// With a state dir, prior_* are the stored largest ttl_max and rho, and
// *_to_store the max of those and this life's.
// Incarnation: explicit if given; else max(stored + 1, realtime_ns) with a
// state dir (strictly increasing even if the wall clock steps back), else
// realtime_ns (unique across restarts).
StartPlan decide_start(const StartInputs& in, const StoredState& stored);

// With a state directory: creates it if missing and `bootstrap` (mode 0700),
// locks it (before reading or writing anything else there), reads it,
// decides, and before returning durably writes what the plan says: the
// initial floor, the largest ttl_max and rho, and the new incarnation counter
// (unless explicit). Without one: decides. Errors, each naming the directory
// or file; no lock is held after an error, and a refused start (missing,
// locked, corrupted, no peers) wrote nothing:
//   io_error: the directory is missing (without bootstrap), not a directory,
//     locked by another process, unreadable or unwritable, or a file in it
//     is corrupted (never guess a floor);
//   invalid_config: it holds no state and there are no peers to recover the
//     floor from (a single member without bootstrap).
Result<StartPlan> plan_start(const StartInputs& in);

}  // namespace baton::runtime
