// The member's state directory: the persisted floor reservation and the
// incarnation counter (DESIGN "Restart"), and the start plan derived from them.
//
// Each value is one small text file holding a decimal number and a newline.
// Writes are durable and atomic: write a temporary file, fsync it, rename it
// over the old one, fsync the directory. A crash leaves either the old or the
// new value, never a torn one. Reads reject anything that is not exactly such
// a number (a corrupted file stops the start instead of guessing a floor).
//
// Plain POSIX, no libuv: a reservation is written once per block of 2^32
// tokens, so the loop thread does it synchronously.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "baton/result.hpp"
#include "core/config.hpp"
#include "core/ids.hpp"

namespace baton::runtime {

inline constexpr const char* floor_file_name = "floor";
inline constexpr const char* incarnation_file_name = "incarnation";

// The value stored in `dir`/`name`, or nullopt when the file does not exist.
// Errors: io_error (unreadable, or not a decimal number).
Result<std::optional<std::uint64_t>> read_value(const std::string& dir, const char* name);

// Durably replaces `dir`/`name` with `value`. Errors: io_error.
Result<void> write_value(const std::string& dir, const char* name, std::uint64_t value);

// How this life of the member starts.
struct StartPlan {
  core::RecoveryMode recovery = core::RecoveryMode::first_start;
  bool persist = false;                  // write floor reservations to the state directory
  core::Token recovered_reservation{};   // recovery == reservation: the floor read back
  core::Incarnation incarnation{};       // this life's incarnation, non-zero
};

struct StartInputs {
  std::optional<std::string> state_dir;      // the member's state directory, if any
  bool bootstrap = false;                    // no state dir: start as a first start, not by peers
  std::optional<std::uint64_t> incarnation;  // explicit incarnation (batonctl --incarnation)
  std::uint64_t realtime_ns = 0;             // wall clock now, ns since the epoch
};

// Pure decision from what the state directory held (`stored_floor`,
// `stored_incarnation`: nullopt when absent):
//  - state dir with a floor: recovery from the reservation (persist on);
//  - state dir without a floor: first start (persist on) -- a voter that
//    persists writes a reservation before it stores any token, so no floor
//    file means it never stored one;
//  - no state dir: peer recovery, unless `bootstrap` (first start, no persist).
// Incarnation: explicit if given; else max(stored + 1, realtime_ns) with a
// state dir (strictly increasing even if the wall clock steps back), else
// realtime_ns (unique across restarts).
StartPlan decide_start(const StartInputs& in, std::optional<std::uint64_t> stored_floor,
                       std::optional<std::uint64_t> stored_incarnation);

// Reads the state directory, decides, and persists the new incarnation
// counter (when there is a state directory and no explicit incarnation).
// Errors: io_error (directory missing or unwritable, corrupted files).
Result<StartPlan> plan_start(const StartInputs& in);

}  // namespace baton::runtime
