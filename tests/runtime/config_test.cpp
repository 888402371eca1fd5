// SPDX-License-Identifier: Apache-2.0
// Config::validate: every rejection names the field and changes nothing.
#include "baton/config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

namespace baton {
namespace {

Config good() {
  Config c;
  c.members = {{1, "127.0.0.1", 7001}, {2, "127.0.0.1", 7002}, {3, "::1", 7003}};
  c.self = 1;
  c.bootstrap = true;
  return c;
}

TEST(Config, DefaultsWithMembersAreValid) { EXPECT_TRUE(good().validate().ok()); }

TEST(Config, BusyPollBoundsAreAccepted) {
  for (auto d : {std::chrono::nanoseconds{0}, std::chrono::nanoseconds{200'000}, busy_poll_max}) {
    Config c = good();
    c.busy_poll = d;
    EXPECT_TRUE(c.validate().ok()) << d.count();
  }
}

// A state directory's first start is a bootstrap too (issue 19): both together are valid.
TEST(Config, BootstrapWithStateDirIsValid) {
  Config c = good();
  c.state_dir = "/tmp/baton-state-1";
  c.bootstrap = true;
  EXPECT_TRUE(c.validate().ok()) << c.validate().what();
}

TEST(Config, RejectionsNameTheField) {
  struct Case {
    const char* field;
    std::function<void(Config&)> edit;
  };
  const Case cases[] = {
      {"members", [](Config& c) { c.members.clear(); }},
      {"members", [](Config& c) { c.members[1].id = 0; }},
      {"members", [](Config& c) { c.members[1].id = 1; }},  // duplicate id
      {"members", [](Config& c) { c.members[1].port = 0; }},
      {"members", [](Config& c) { c.members[1].host = "localhost"; }},  // no DNS
      {"self", [](Config& c) { c.self = 0; }},
      {"self", [](Config& c) { c.self = 9; }},
      {"rho", [](Config& c) { c.rho = 0; }},
      {"rho", [](Config& c) { c.rho = 0.5; }},
      {"rho", [](Config& c) { c.rho = std::numeric_limits<double>::quiet_NaN(); }},
      {"ttl_min", [](Config& c) { c.ttl_min = std::chrono::seconds{120}; }},
      {"margin", [](Config& c) { c.margin = std::chrono::milliseconds{9}; }},
      {"replicas", [](Config& c) { c.replicas = 4; }},
      {"incarnation", [](Config& c) { c.incarnation = 0; }},
      {"state_dir", [](Config& c) { c.state_dir = ""; }},
      {"busy_poll", [](Config& c) { c.busy_poll = std::chrono::nanoseconds{-1}; }},
      {"busy_poll", [](Config& c) { c.busy_poll = busy_poll_max + std::chrono::nanoseconds{1}; }},
      {"limits", [](Config& c) { c.limits.calls_queued = 0; }},
      {"limits", [](Config& c) { c.limits.acquires_in_flight = 0; }},
      {"bootstrap", [](Config& c) {
         c.members.resize(1);
         c.bootstrap = false;
       }},
  };
  for (const Case& k : cases) {
    Config c = good();
    k.edit(c);
    auto r = c.validate();
    ASSERT_FALSE(r.ok()) << k.field;
    EXPECT_EQ(r.code(), Errc::invalid_config);
    EXPECT_TRUE(r.what().starts_with(k.field)) << k.field << ": " << r.what();
  }
}

// The text names the value at fault, in the public Config's terms (rho as
// the double given), whichever layer made the check.
TEST(Config, RejectionsNameTheValue) {
  struct Case {
    const char* what;
    std::function<void(Config&)> edit;
  };
  const Case cases[] = {
      {"rho: 0.5 outside (0, 0.1]", [](Config& c) { c.rho = 0.5; }},
      {"rho: -0.01 outside (0, 0.1]", [](Config& c) { c.rho = -0.01; }},
      {"rho: nan outside (0, 0.1]", [](Config& c) { c.rho = std::numeric_limits<double>::quiet_NaN(); }},
      {"rho: 0.1000004 outside (0, 0.1]", [](Config& c) { c.rho = 0.1000004; }},  // would round to 0.1
      {"rho: 1e-07 is below 1 ppm (1e-06), the resolution of the drift arithmetic", [](Config& c) { c.rho = 1e-7; }},
      {"self: 9 is not among the members", [](Config& c) { c.self = 9; }},
      {"members: member id 1 appears more than once", [](Config& c) { c.members[1].id = 1; }},
      {"members: member 2 has port 0; must be 1..65535", [](Config& c) { c.members[1].port = 0; }},
      {"ttl_min: 120s above ttl_max 60s", [](Config& c) { c.ttl_min = std::chrono::seconds{120}; }},
      {"incarnation: 0; must be non-zero", [](Config& c) { c.incarnation = 0; }},
      {"limits.calls_queued: 0; every limit must be positive", [](Config& c) { c.limits.calls_queued = 0; }},
      {"limits.acquires_in_flight: 0; every limit must be positive",
       [](Config& c) { c.limits.acquires_in_flight = 0; }},
  };
  for (const Case& k : cases) {
    Config c = good();
    k.edit(c);
    EXPECT_EQ(c.validate().what(), k.what);
  }
  Config edge = good();
  edge.rho = 0.1;
  EXPECT_TRUE(edge.validate().ok()) << edge.validate().what();
}

}  // namespace
}  // namespace baton
