// SPDX-License-Identifier: Apache-2.0
// What the member subcommands share: the two clocks of the torture history,
// SIGTERM/SIGINT handling, and starting a member (or a client) with logging
// and a drop monitor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "baton/baton.hpp"
#include "flags.hpp"

namespace batonctl {

// CLOCK_MONOTONIC through a raw system call: shared by every process on the
// machine and out of reach of a preloaded clock shim (shared/HISTORY.md).
std::int64_t true_now_ns();
// The clock Baton measures lease deadlines on (BootClock, CLOCK_BOOTTIME).
std::int64_t local_now_ns();

// Blocks SIGTERM and SIGINT in every thread and starts a thread that waits
// for them. Call first in main, before any other thread exists.
void install_stop_signals();
// Set once SIGTERM or SIGINT arrived.
bool stop_requested();
// Sleeps up to `d`, returning early (true) when a stop was requested.
bool sleep_or_stop(std::chrono::nanoseconds d);

// Writes "batonctl[<id>] <level>: <text>" to stderr (one write per line);
// id 0 (a client before its id is drawn) reads "batonctl[client]".
void log_line(std::uint32_t id, std::string_view level, std::string_view text);

// A running member, or a client (Config::client): the Cluster plus a thread
// that logs every rise of the drop counters (a wrong --key-file shows up as
// bad_auth drops here).
class Member {
 public:
  // Starts the member or client. On error prints the reason and returns null.
  static std::unique_ptr<Member> start(baton::Config config, bool verbose);
  ~Member();
  baton::Cluster& cluster() { return *cluster_; }
  // The member's id; a client's drawn id (above baton::member_id_max).
  std::uint32_t id() const { return id_; }

 private:
  Member() = default;
  void monitor();

  std::uint32_t id_ = 0;
  std::unique_ptr<baton::Cluster> cluster_;
  std::atomic<bool> done_{false};
  std::unique_ptr<std::thread> monitor_;
};

}  // namespace batonctl
