// SPDX-License-Identifier: Apache-2.0
// ChangeDesk: who waits for this member's reconfiguration run (issue 21
// step 4). A member drives at most one run at a time (core::Node::
// reconfigure says busy otherwise); the run was started either by the
// application (Cluster::reconfigure) or by an observer's CONFIG_CHANGE
// (batonctl reconfigure), and its outcome (core::Outbox::reconfigured with
// `requested`) goes back to that one. Runs the member starts itself (a
// stray-promise repair, `requested` false) reach nobody.
//
// Remote requests are idempotent by nonce: a CONFIG_CHANGE whose nonce is the
// current run's answers `running`, the last finished remote run's answers
// `done` with its outcome (one finished result is kept, no more); a new nonce
// starts a run only if it was not refused before (a duplicate the network
// delayed past its refusal must not start what the asker was told was
// refused; the last eight refused nonces are kept), nothing runs here, and
// the member's voter holds a
// record of the epoch the request expects. That last check makes a replayed
// old request harmless once the configuration moved on (observer datagrams
// have no replay window: codec::Receiver): every change bumps the epoch.
//
// Pure bookkeeping: no I/O, no clock; the Driver feeds it (loop thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "baton/result.hpp"
#include "core/membership.hpp"
#include "core/message.hpp"

namespace baton::runtime {

class ChangeDesk {
 public:
  enum class Owner : std::uint8_t { none, api, remote };

  // Starts a run: Node::reconfigure(now, voters) (the Driver reads the clock).
  using Start = std::function<Result<void>(std::vector<core::MemberId>)>;

  Owner owner() const { return owner_; }
  // The application started a run (Node::reconfigure returned ok).
  void begin_api() { owner_ = Owner::api; }

  // The answer to an observer's CONFIG_CHANGE. `current`: the record this
  // member's voter holds; `progress`: what a run under way waits for (for
  // people); `start` starts a run.
  core::ConfigChangeReply answer(const core::ConfigChange& req, const core::CfgRecord& current,
                                 const std::string& progress, const Start& start);

  // A run this member was asked for ended (`requested`). True: it is the
  // application's, hand it to the caller; false: kept for the remote asker
  // (or nobody waits: dropped).
  bool finish(const core::ReconfigResult& r);

  // The Node was replaced (a new life): its run is gone, half done perhaps.
  // Returns the result to hand to the application if it waited (nullopt
  // otherwise); a remote asker finds it as `done` on its next poll.
  std::optional<core::ReconfigResult> abandon(const core::CfgRecord& current);

 private:
  static core::ConfigChangeReply reply(const core::ConfigChange& req, core::ChangeState state,
                                       const core::CfgRecord& record, std::string detail);

  // Whether `nonce` is among the last refused_max refused; remember one.
  bool was_refused(std::uint64_t nonce) const;
  void note_refused(std::uint64_t nonce);

  Owner owner_ = Owner::none;
  std::uint64_t nonce_ = 0;                   // the remote run's nonce (running or finished); 0: none yet
  std::optional<core::ReconfigResult> done_;  // the last finished remote run's outcome
  // The nonces of the last refused requests: a duplicate of one (the network
  // delayed it past the refusal) never starts a run the asker was told was
  // refused. Oldest overwritten first.
  static constexpr std::size_t refused_max = 8;
  std::array<std::uint64_t, refused_max> refused_{};
  std::size_t refused_next_ = 0;
};

// `text` cut to at most limits::config_change_detail_max bytes (whole UTF-8
// characters), for CONFIG_CHANGE_REPLY.
std::string bounded_detail(std::string text);

}  // namespace baton::runtime
