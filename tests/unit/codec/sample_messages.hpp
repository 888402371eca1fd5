// SPDX-License-Identifier: Apache-2.0
// One message of every type with non-trivial field values (every field set,
// none at its default), shared by the codec tests and the fuzz corpus
// generator. Round-trip tests compare decode(encode(sample)) with the sample.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/limits.hpp"
#include "core/message.hpp"

namespace baton::codec::testing {

// An M with only the fields `set` assigns (the rest value-initialized).
// Partial designated initializers would do, but g++ -Wextra flags them for
// members without default member initializers (LeaseId, Token, ...).
template <typename M, typename F>
core::Message make(F&& set) {
  M m{};
  set(m);
  return m;
}

inline core::LeaseId sample_lease() {
  return core::LeaseId{core::MemberId(3), core::Incarnation(0x1122334455667788ULL), 0x0102030405060708ULL};
}

// A name that is not valid UTF-8 and contains a zero byte: names are bytes.
inline core::ResourceName binary_name() { return core::ResourceName(std::string("seat:\0\xff\x80" "14A", 10)); }

// A configuration record (issue 21): simple, with a join floor.
inline core::CfgRecord sample_record() {
  return core::CfgRecord{.id = {2, 5}, .old_voters = {core::MemberId(1), core::MemberId(2), core::MemberId(4)},
                         .new_voters = {}, .floor = core::Token(99)};
}

// The largest record: joint, 64 voters in each set.
inline core::CfgRecord largest_record() {
  core::CfgRecord r{.id = {core::limits::token_max, core::limits::token_max}, .old_voters = {}, .new_voters = {},
                    .floor = {}};
  for (std::uint32_t i = 0; i < core::limits::members_max; ++i) {
    r.old_voters.push_back(core::MemberId(core::member_id_max - 2 * static_cast<std::uint32_t>(core::limits::members_max) + i));
    r.new_voters.push_back(core::MemberId(core::member_id_max - static_cast<std::uint32_t>(core::limits::members_max) + i));
  }
  return r;
}

// Samples ordered as core::Message's alternatives: samples()[i].index() == i.
inline std::vector<core::Message> samples() {
  const core::Token token(core::limits::token_max);  // the largest a datagram may carry
  return {
      core::Request{.resource = core::ResourceName("seat:14A"), .lease = sample_lease(),
                    .ttl = core::Duration::ms(1500), .token = token, .cfg = sample_record().id,
                    .record = std::nullopt},
      core::Grant{.resource = binary_name(), .lease = sample_lease(), .token = token},
      core::Deny{.resource = core::ResourceName("db/row/42"), .lease = sample_lease(), .token = token,
                 .reason = core::DenyReason::held, .holder = core::MemberId(0xfffffffeU),
                 .time_left = core::Duration::us(123456), .fence = core::Token(77), .unqueued = true},
      core::Renew{.resource = core::ResourceName("r"), .lease = sample_lease(), .token = token,
                  .ttl = core::Duration::s(30), .round = 0xabcdef01U, .cfg = {3, 1}, .record = std::nullopt,
                  .believed = true},
      core::RenewAck{.resource = core::ResourceName("seat:14B"), .lease = sample_lease(), .token = token,
                     .round = 9, .ok = false, .reason = core::DenyReason::not_current,
                     .fence = core::Token(core::limits::token_max)},
      // (Names of the largest size: largest_samples(); all samples fit one datagram.)
      core::Release{.resource = core::ResourceName(std::string(32, 'x')),
                    .lease = sample_lease(), .token = token},
      core::Free{.resource = core::ResourceName("seat:14A"), .fence = core::Token(1234567), .waiters = 3},
      core::FloorQuery{.nonce = 0x5555aaaa5555aaaaULL},
      core::FloorReply{.nonce = 42, .ready = true, .floor = core::Token(1ULL << 40)},
      core::Ping{.nonce = UINT64_MAX},
      core::Pong{.nonce = 7, .quarantined = true, .live_leases = 100000, .waiters = 31,
                 .floor = core::Token(4242), .drops = {1, 2, 3, 4, 5, 6, 7, 8, 9},
                 .mismatches = {{.sender = core::MemberId(3), .fingerprint = 0x9abcdef012345678ULL, .datagrams = 12},
                                {.sender = core::MemberId(0xffffffffU), .fingerprint = UINT64_MAX,
                                 .datagrams = UINT64_MAX}}},
      core::IncarnationBehind{.seen = core::Incarnation(0x8877665544332211ULL)},
      core::ConfigRead{.ballot = 0x1234},
      core::ConfigReadReply{.ballot = 7, .ok = true, .record = sample_record(), .promised = 7},
      core::ConfigPropose{.record = sample_record()},
      core::ConfigAck{.proposed = {2, 5}, .ok = false, .cfg = {3, 1}, .max_stored = core::Token(core::limits::token_max),
                      .promised = 9, .ttl_max = core::Duration::s(60)},
      core::ConfigQuery{.nonce = 42},
      core::ConfigReply{.nonce = UINT64_MAX, .record = sample_record()},
      // Issue 21 step 4: remote reconfiguration.
      core::ConfigChange{.nonce = 0x0badc0ffee0ddf00ULL, .expect = {3, 1},
                         .voters = {core::MemberId(2), core::MemberId(3), core::MemberId(core::member_id_max)}},
      core::ConfigChangeReply{.nonce = 0x0badc0ffee0ddf00ULL, .state = core::ChangeState::done,
                              .outcome = core::ReconfigOutcome::timed_out, .record = sample_record(),
                              .ballot = (3ULL << 31) + 1, .detail = "joint (4, 6442450945) acks 1/3 of [1,2,3]"},
  };
}

// As many samples as fit one datagram, in order: every type except those
// that carry a configuration record or a voter list (CONFIG_READ_REPLY,
// CONFIG_PROPOSE, CONFIG_REPLY, CONFIG_CHANGE, CONFIG_CHANGE_REPLY; each
// round-trips alone, and at its largest, elsewhere).
inline std::vector<core::Message> one_datagram_samples() {
  std::vector<core::Message> out = samples();
  std::erase_if(out, [](const core::Message& m) {
    return std::holds_alternative<core::ConfigReadReply>(m) || std::holds_alternative<core::ConfigPropose>(m) ||
           std::holds_alternative<core::ConfigReply>(m) || std::holds_alternative<core::ConfigChange>(m) ||
           std::holds_alternative<core::ConfigChangeReply>(m);
  });
  return out;
}

// The largest message of each type: maximal names and counter lists.
inline std::vector<core::Message> largest_samples() {
  std::vector<core::Message> out = samples();
  const core::ResourceName longest(std::string(core::limits::resource_name_bytes_max, '\xee'));
  for (auto& m : out) {
    std::visit(
        [&](auto& alt) {
          if constexpr (requires { alt.resource; }) alt.resource = longest;
          if constexpr (requires { alt.cfg; alt.record; }) {
            alt.record = largest_record();
            alt.cfg = alt.record->id;
          } else if constexpr (requires { alt.cfg; alt.drops; }) {
            alt.cfg = core::CfgId{UINT64_MAX, UINT64_MAX};  // PONG
          } else if constexpr (requires { alt.record; }) {
            alt.record = largest_record();  // DENY, RENEW_ACK and the CONFIG_* records
            if constexpr (requires { alt.promised; }) alt.promised = UINT64_MAX;
          }
          if constexpr (requires { alt.promised; alt.reason; }) {
            alt.reason = core::DenyReason::behind;
            if constexpr (requires { alt.ok; }) alt.ok = false;
            if constexpr (requires { alt.unqueued; }) alt.unqueued = false;
            alt.record = largest_record();
            alt.promised = UINT64_MAX;
          }
          if constexpr (requires { alt.expect; }) {  // CONFIG_CHANGE: 64 voters
            alt.voters = largest_record().new_voters;
          }
          if constexpr (requires { alt.detail; }) {  // CONFIG_CHANGE_REPLY: the longest detail
            alt.detail.assign(core::limits::config_change_detail_max, 'd');
          }
          if constexpr (requires { alt.mismatches; }) {
            alt.drops.assign(core::drop_reason_count, UINT64_MAX);
            alt.mismatches.clear();
            for (std::uint32_t i = 0; i < core::limits::pong_mismatches_max; ++i) {
              alt.mismatches.push_back({.sender = core::MemberId(i + 1), .fingerprint = UINT64_MAX - i,
                                        .datagrams = UINT64_MAX});
            }
          }
        },
        m);
  }
  return out;
}

}  // namespace baton::codec::testing
