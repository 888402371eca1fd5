// SPDX-License-Identifier: Apache-2.0
// config.hpp: validate() rejects every bad field with invalid_config, naming
// the field, and accepts the defaults.
#include "core/config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace baton::core {
namespace {

NodeConfig valid() {
  NodeConfig c;
  c.members = {MemberId{1}, MemberId{2}, MemberId{3}};
  c.self = MemberId{1};
  c.incarnation = Incarnation{1};
  return c;
}

TEST(Config, DefaultsAreValid) {
  const auto r = validate(valid());
  EXPECT_TRUE(r.ok()) << r.what();
  NodeConfig one;
  one.members = {MemberId{7}};
  one.self = MemberId{7};
  one.incarnation = Incarnation{3};
  EXPECT_TRUE(validate(one).ok());
}

struct Case {
  const char* name;
  std::function<void(NodeConfig&)> change;
  bool ok;
  const char* field;  // prefix of the error text when !ok
};

TEST(Config, ValidateTable) {
  // stretch_down(10 ms, 0.01) = floor(10e6·99/101) = 9,801,980 ns: margin·2 may
  // be at most that, so 4,900,990 ns is the largest margin accepted.
  const Case cases[] = {
      {.name = "empty members", .change = [](NodeConfig& c) { c.members.clear(); }, .ok = false, .field = "members"},
      {.name = "too many members",
       .change =
           [](NodeConfig& c) {
             c.members.clear();
             for (std::uint32_t i = 1; i <= 65; ++i) c.members.push_back(MemberId{i});
           },
       .ok = false, .field = "members"},
      {.name = "64 members", .change =
           [](NodeConfig& c) {
             c.members.clear();
             for (std::uint32_t i = 1; i <= 64; ++i) c.members.push_back(MemberId{i});
           },
       .ok = true, .field = ""},
      {.name = "duplicate member", .change = [](NodeConfig& c) { c.members.push_back(MemberId{2}); }, .ok = false,
       .field = "members"},
      {.name = "member id 0", .change = [](NodeConfig& c) { c.members.push_back(MemberId{0}); }, .ok = false,
       .field = "members"},
      {.name = "self missing", .change = [](NodeConfig& c) { c.self = MemberId{4}; }, .ok = false, .field = "self"},
      {.name = "self 0", .change = [](NodeConfig& c) { c.self = MemberId{0}; }, .ok = false, .field = "self"},
      {.name = "incarnation 0", .change = [](NodeConfig& c) { c.incarnation = Incarnation{0}; }, .ok = false,
       .field = "incarnation"},
      {.name = "rho 0", .change = [](NodeConfig& c) { c.rho_ppm = 0; }, .ok = false, .field = "rho"},
      {.name = "rho above 0.1", .change = [](NodeConfig& c) { c.rho_ppm = 100'001; }, .ok = false, .field = "rho"},
      {.name = "rho exactly 0.1",
       .change =
           [](NodeConfig& c) {
             c.rho_ppm = 100'000;
             c.margin = Duration::ms(1);  // 10 ms·9/11 = 8.18 ms: margin·2 fits
           },
       .ok = true, .field = ""},
      {.name = "rho 1 ppm", .change = [](NodeConfig& c) { c.rho_ppm = 1; }, .ok = true, .field = ""},
      {.name = "ttl_min below 1 ms", .change = [](NodeConfig& c) { c.ttl_min = Duration::us(999); }, .ok = false,
       .field = "ttl_min"},
      {.name = "ttl_max above 1 hour", .change = [](NodeConfig& c) { c.ttl_max = Duration::s(3600) + Duration::ns(1); },
       .ok = false, .field = "ttl_max"},
      {.name = "ttl_max exactly 1 hour", .change = [](NodeConfig& c) { c.ttl_max = Duration::s(3600); }, .ok = true,
       .field = ""},
      {.name = "ttl_min above ttl_max",
       .change =
           [](NodeConfig& c) {
             c.ttl_min = Duration::s(2);
             c.ttl_max = Duration::s(1);
           },
       .ok = false, .field = "ttl_min"},
      {.name = "ttl_min equal ttl_max", .change = [](NodeConfig& c) { c.ttl_min = c.ttl_max = Duration::s(1); },
       .ok = true, .field = ""},
      {.name = "margin 0", .change = [](NodeConfig& c) { c.margin = Duration::zero(); }, .ok = false, .field = "margin"},
      {.name = "margin negative", .change = [](NodeConfig& c) { c.margin = Duration::ns(-1); }, .ok = false,
       .field = "margin"},
      {.name = "margin largest accepted", .change = [](NodeConfig& c) { c.margin = Duration::ns(4'900'990); },
       .ok = true, .field = ""},
      {.name = "margin one ns too large", .change = [](NodeConfig& c) { c.margin = Duration::ns(4'900'991); },
       .ok = false, .field = "margin"},
      {.name = "margin equal ttl_min", .change = [](NodeConfig& c) { c.margin = c.ttl_min; }, .ok = false,
       .field = "margin"},
      {.name = "replicas 0", .change = [](NodeConfig& c) { c.replicas = 0; }, .ok = false, .field = "replicas"},
      {.name = "replicas even", .change = [](NodeConfig& c) { c.replicas = 4; }, .ok = false, .field = "replicas"},
      {.name = "replicas 3", .change = [](NodeConfig& c) { c.replicas = 3; }, .ok = true, .field = ""},
      {.name = "reservation_block small", .change = [](NodeConfig& c) { c.reservation_block = 1023; }, .ok = false,
       .field = "reservation_block"},
      {.name = "reservation without persist", .change = [](NodeConfig& c) { c.recovery = RecoveryMode::reservation; },
       .ok = false, .field = "recovery"},
      {.name = "reservation with persist",
       .change =
           [](NodeConfig& c) {
             c.recovery = RecoveryMode::reservation;
             c.persist = true;
           },
       .ok = true, .field = ""},
      {.name = "peers with one member",
       .change =
           [](NodeConfig& c) {
             c.members = {MemberId{1}};
             c.recovery = RecoveryMode::peers;
           },
       .ok = false, .field = "recovery"},
      {.name = "peers with three members", .change = [](NodeConfig& c) { c.recovery = RecoveryMode::peers; },
       .ok = true, .field = ""},
      {.name = "rtt_initial 0", .change = [](NodeConfig& c) { c.rtt_initial = Duration::zero(); }, .ok = false,
       .field = "rtt_initial"},
      {.name = "attempt_timeout_min 0", .change = [](NodeConfig& c) { c.attempt_timeout_min = Duration::zero(); },
       .ok = false, .field = "attempt_timeout_min"},
      {.name = "attempt_timeout_min above max",
       .change = [](NodeConfig& c) { c.attempt_timeout_min = c.attempt_timeout_max + Duration::ns(1); }, .ok = false,
       .field = "attempt_timeout_min"},
      {.name = "leases_per_voter 0", .change = [](NodeConfig& c) { c.limits.leases_per_voter = 0; }, .ok = false,
       .field = "limits"},
      {.name = "waiters_per_resource 0", .change = [](NodeConfig& c) { c.limits.waiters_per_resource = 0; },
       .ok = false, .field = "limits"},
      {.name = "waiters_per_voter 0", .change = [](NodeConfig& c) { c.limits.waiters_per_voter = 0; }, .ok = false,
       .field = "limits"},
      {.name = "acquires_in_flight 0", .change = [](NodeConfig& c) { c.limits.acquires_in_flight = 0; }, .ok = false,
       .field = "limits"},
      {.name = "outbox_messages 0", .change = [](NodeConfig& c) { c.limits.outbox_messages = 0; }, .ok = false,
       .field = "limits"},
      {.name = "pending_persist 0", .change = [](NodeConfig& c) { c.limits.pending_persist = 0; }, .ok = false,
       .field = "limits"},
      {.name = "idle_fences 0", .change = [](NodeConfig& c) { c.limits.idle_fences = 0; }, .ok = false,
       .field = "limits"},
      {.name = "outbox below two per member", .change = [](NodeConfig& c) { c.limits.outbox_messages = 5; },
       .ok = false, .field = "limits"},
      {.name = "outbox exactly two per member", .change = [](NodeConfig& c) { c.limits.outbox_messages = 6; },
       .ok = true, .field = ""},
      {.name = "limits of 1", .change =
           [](NodeConfig& c) {
             c.limits.leases_per_voter = c.limits.waiters_per_resource = c.limits.waiters_per_voter = 1;
             c.limits.acquires_in_flight = c.limits.pending_persist = 1;
             c.limits.idle_fences = 1;
           },
       .ok = true, .field = ""},
  };
  for (const Case& c : cases) {
    NodeConfig cfg = valid();
    c.change(cfg);
    const auto r = validate(cfg);
    EXPECT_EQ(r.ok(), c.ok) << c.name << ": " << r.what();
    if (!c.ok) {
      EXPECT_EQ(r.code(), Errc::invalid_config) << c.name;
      EXPECT_EQ(r.what().substr(0, std::string(c.field).size() + 1), std::string(c.field) + ":")
          << c.name << ": " << r.what();
    }
  }
}

TEST(Config, VoterCount) {
  struct Row {
    std::uint32_t members;
    std::uint32_t replicas;
    std::size_t voters;
  };
  const Row rows[] = {{.members = 1, .replicas = 5, .voters = 1}, {.members = 3, .replicas = 5, .voters = 3},
                      {.members = 5, .replicas = 5, .voters = 5}, {.members = 7, .replicas = 5, .voters = 5},
                      {.members = 9, .replicas = 3, .voters = 3}};
  for (const Row& r : rows) {
    NodeConfig c;
    for (std::uint32_t i = 1; i <= r.members; ++i) c.members.push_back(MemberId{i});
    c.replicas = r.replicas;
    EXPECT_EQ(voter_count(c), r.voters) << r.members << "/" << r.replicas;
  }
}

}  // namespace
}  // namespace baton::core
