// SPDX-License-Identifier: Apache-2.0
#include "runtime/config_change.hpp"

#include <algorithm>
#include <utility>

#include "core/limits.hpp"

namespace baton::runtime {

std::string bounded_detail(std::string text) {
  constexpr std::size_t max = core::limits::config_change_detail_max;
  if (text.size() <= max) return text;
  std::size_t cut = max;
  // Back off continuation bytes (10xxxxxx) so no character is cut in half.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

core::ConfigChangeReply ChangeDesk::reply(const core::ConfigChange& req, core::ChangeState state,
                                          const core::CfgRecord& record, std::string detail) {
  return core::ConfigChangeReply{.nonce = req.nonce,
                                 .state = state,
                                 .outcome = core::ReconfigOutcome{},
                                 .record = record,
                                 .ballot = 0,
                                 .detail = bounded_detail(std::move(detail))};
}

core::ConfigChangeReply ChangeDesk::answer(const core::ConfigChange& req, const core::CfgRecord& current,
                                           const std::string& progress, const Start& start) {
  // A poll of the run this nonce started: its state, never a second run.
  if (req.nonce == nonce_) {
    if (owner_ == Owner::remote) return reply(req, core::ChangeState::running, current, progress);
    if (done_) {
      auto r = reply(req, core::ChangeState::done, done_->record, done_->detail);
      r.outcome = done_->outcome;
      r.ballot = done_->ballot;
      return r;
    }
  }
  if (was_refused(req.nonce)) {
    return reply(req, core::ChangeState::refused, current,
                 "this request was refused before; a refused request is never started (ask again)");
  }
  if (owner_ != Owner::none) {
    note_refused(req.nonce);
    return reply(req, core::ChangeState::refused, current,
                 std::string("busy: a reconfiguration ") +
                     (owner_ == Owner::api ? "the application started" : "another batonctl started") +
                     " is under way here: " + progress);
  }
  // The epoch only: every change that did anything moved it (a joint record
  // is epoch + 1), while a re-proposal of the same record under a newer
  // ballot (phase R of another run, a repair) does not, and must not make a
  // request that raced it fail for nothing.
  if (req.expect.epoch != current.id.epoch) {
    note_refused(req.nonce);
    return reply(req, core::ChangeState::refused, current,
                 "the configuration moved on: this member votes under " + core::to_string(current) +
                     ", the request expected " + core::to_string(req.expect) + "; ask again");
  }
  // Bad voters, a client, no state directory, scale mode, a repair under way:
  // the core's text names the value at fault.
  if (auto r = start(req.voters); !r) {
    note_refused(req.nonce);
    return reply(req, core::ChangeState::refused, current, std::string(r.what()));
  }
  owner_ = Owner::remote;
  nonce_ = req.nonce;
  done_.reset();
  return reply(req, core::ChangeState::started, current, "started");
}

bool ChangeDesk::was_refused(std::uint64_t nonce) const {
  return nonce != 0 && std::find(refused_.begin(), refused_.end(), nonce) != refused_.end();
}

void ChangeDesk::note_refused(std::uint64_t nonce) {
  refused_[refused_next_] = nonce;
  refused_next_ = (refused_next_ + 1) % refused_max;
}

bool ChangeDesk::finish(const core::ReconfigResult& r) {
  const Owner was = std::exchange(owner_, Owner::none);
  if (was == Owner::remote) done_ = r;
  return was == Owner::api;
}

std::optional<core::ReconfigResult> ChangeDesk::abandon(const core::CfgRecord& current) {
  if (owner_ == Owner::none) return std::nullopt;
  core::ReconfigResult r{.outcome = core::ReconfigOutcome::timed_out,
                         .record = current,
                         .ballot = 0,
                         .detail = "this member started a new life mid-change (a peer had seen a newer incarnation); "
                                   "the change may be half done: the next reconfigure finishes it",
                         .requested = true};
  if (finish(r)) return r;
  return std::nullopt;
}

}  // namespace baton::runtime
