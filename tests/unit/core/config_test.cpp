// SPDX-License-Identifier: Apache-2.0
// config.hpp: validate() rejects every bad field with invalid_config, naming
// the field and its value (and find_fault the field as a value), and accepts
// the defaults; check_acquire checks an acquire's arguments.
#include "core/config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

namespace baton::core {
namespace {

std::string field_name(ConfigField f) {
  switch (f) {
    case ConfigField::members: return "members";
    case ConfigField::self: return "self";
    case ConfigField::incarnation: return "incarnation";
    case ConfigField::rho: return "rho";
    case ConfigField::ttl_min: return "ttl_min";
    case ConfigField::ttl_max: return "ttl_max";
    case ConfigField::prior_ttl_max: return "prior_ttl_max";
    case ConfigField::prior_rho: return "prior_rho";
    case ConfigField::margin: return "margin";
    case ConfigField::replicas: return "replicas";
    case ConfigField::reservation_block: return "reservation_block";
    case ConfigField::recovery: return "recovery";
    case ConfigField::rtt_initial: return "rtt_initial";
    case ConfigField::attempt_timeout_min: return "attempt_timeout_min";
    case ConfigField::handoff_confirm: return "handoff_confirm";
    case ConfigField::limits: return "limits";
    case ConfigField::configuration: return "config";
  }
  return "?";
}

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
      // Clients (issue 21): ids above member_id_max are clients, never members.
      {.name = "member id in the client namespace",
       .change = [](NodeConfig& c) { c.members.push_back(MemberId{member_id_max + 1}); }, .ok = false,
       .field = "members"},
      {.name = "member id member_id_max",
       .change = [](NodeConfig& c) { c.members.push_back(MemberId{member_id_max}); }, .ok = true, .field = ""},
      {.name = "client self", .change = [](NodeConfig& c) { c.self = client_id(7); }, .ok = true, .field = ""},
      {.name = "client recovering from peers",
       .change =
           [](NodeConfig& c) {
             c.self = client_id(7);
             c.recovery = RecoveryMode::peers;
           },
       .ok = false, .field = "recovery"},
      {.name = "client persisting",
       .change =
           [](NodeConfig& c) {
             c.self = client_id(7);
             c.persist = true;
           },
       .ok = false, .field = "recovery"},
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
       .field = "limits.leases_per_voter"},
      {.name = "waiters_per_resource 0", .change = [](NodeConfig& c) { c.limits.waiters_per_resource = 0; }, .ok = false,
       .field = "limits.waiters_per_resource"},
      {.name = "waiters_per_voter 0", .change = [](NodeConfig& c) { c.limits.waiters_per_voter = 0; }, .ok = false,
       .field = "limits.waiters_per_voter"},
      {.name = "acquires_in_flight 0", .change = [](NodeConfig& c) { c.limits.acquires_in_flight = 0; }, .ok = false,
       .field = "limits.acquires_in_flight"},
      {.name = "outbox_messages 0", .change = [](NodeConfig& c) { c.limits.outbox_messages = 0; }, .ok = false,
       .field = "limits.outbox_messages"},
      {.name = "pending_persist 0", .change = [](NodeConfig& c) { c.limits.pending_persist = 0; }, .ok = false,
       .field = "limits.pending_persist"},
      {.name = "idle_fences 0", .change = [](NodeConfig& c) { c.limits.idle_fences = 0; }, .ok = false,
       .field = "limits.idle_fences"},
      {.name = "outbox below two per member", .change = [](NodeConfig& c) { c.limits.outbox_messages = 5; },
       .ok = false, .field = "limits.outbox_messages"},
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
    const std::optional<ConfigFault> f = find_fault(cfg);
    EXPECT_EQ(f.has_value(), !c.ok) << c.name;
    if (!c.ok) {
      EXPECT_EQ(r.code(), Errc::invalid_config) << c.name;
      EXPECT_EQ(r.what().substr(0, std::string(c.field).size() + 1), std::string(c.field) + ":")
          << c.name << ": " << r.what();
      // The structured reason agrees with the text ("limits.x" is field limits).
      ASSERT_TRUE(f.has_value()) << c.name;
      const std::string field = c.field;
      EXPECT_EQ(field_name(f->field), field.substr(0, field.find('.'))) << c.name;
      EXPECT_EQ(f->error.what, r.what()) << c.name;
    }
  }
}

// The text names the value at fault, not only the field.
TEST(Config, MessagesNameTheValueAtFault) {
  struct Row {
    const char* name;
    std::function<void(NodeConfig&)> change;
    const char* what;
  };
  const Row rows[] = {
      {"duplicate", [](NodeConfig& c) { c.members.push_back(MemberId{2}); }, "members: member id 2 appears more than once"},
      {"self", [](NodeConfig& c) { c.self = MemberId{4}; }, "self: 4 is not among the members"},
      {"rho", [](NodeConfig& c) { c.rho_ppm = 100'001; }, "rho: 100001 ppm outside (0, 100000 ppm]"},
      {"ttl_min", [](NodeConfig& c) { c.ttl_min = Duration::us(999); }, "ttl_min: 999us below 1ms"},
      {"ttl_min above ttl_max",
       [](NodeConfig& c) {
         c.ttl_min = Duration::s(2);
         c.ttl_max = Duration::s(1);
       },
       "ttl_min: 2s above ttl_max 1s"},
      {"margin", [](NodeConfig& c) { c.margin = Duration::ns(4'900'991); },
       "margin: 4900991ns too large for ttl_min 10ms (margin*2 must be at most ttl_min*(1-rho)/(1+rho) = 9801980ns)"},
      {"replicas", [](NodeConfig& c) { c.replicas = 4; }, "replicas: 4; must be odd and positive"},
      {"limit", [](NodeConfig& c) { c.limits.waiters_per_voter = 0; },
       "limits.waiters_per_voter: 0; every limit must be positive"},
  };
  for (const Row& row : rows) {
    NodeConfig cfg = valid();
    row.change(cfg);
    EXPECT_EQ(validate(cfg).what(), row.what) << row.name;
  }
}

// check_acquire: the one check of an acquire's arguments (the API's
// synchronous check and Node::acquire's both call it).
TEST(CheckAcquire, Table) {
  NodeConfig c = valid();  // ttl in [10ms, 60s]
  struct Row {
    std::string resource;
    Duration ttl;
    Errc code;
    const char* what;  // "" when ok
  };
  const Row rows[] = {
      {.resource = "seat:14A", .ttl = Duration::ms(10), .code = Errc::ok, .what = ""},
      {.resource = "seat:14A", .ttl = Duration::s(60), .code = Errc::ok, .what = ""},
      {.resource = std::string(128, 'r'), .ttl = Duration::s(1), .code = Errc::ok, .what = ""},
      {.resource = "seat:14A", .ttl = Duration::ms(9), .code = Errc::invalid_argument,
       .what = "ttl: 9ms outside [ttl_min 10ms, ttl_max 60s]"},
      {.resource = "seat:14A", .ttl = Duration::s(60) + Duration::ns(1), .code = Errc::invalid_argument,
       .what = "ttl: 60000000001ns outside [ttl_min 10ms, ttl_max 60s]"},
      {.resource = "seat:14A", .ttl = Duration::ms(-5), .code = Errc::invalid_argument,
       .what = "ttl: -5ms outside [ttl_min 10ms, ttl_max 60s]"},
      {.resource = "", .ttl = Duration::s(1), .code = Errc::invalid_argument,
       .what = "resource: empty name; must be 1..128 bytes"},
      {.resource = std::string(129, 'r'), .ttl = Duration::s(1), .code = Errc::invalid_argument,
       .what = "resource: 129 bytes, longer than 128"},
      // Both wrong: the name is reported first.
      {.resource = "", .ttl = Duration::zero(), .code = Errc::invalid_argument,
       .what = "resource: empty name; must be 1..128 bytes"},
  };
  for (const Row& row : rows) {
    const Result<void> r = check_acquire(c, row.resource, row.ttl);
    EXPECT_EQ(r.code(), row.code) << row.resource.size() << " " << to_text(row.ttl);
    EXPECT_EQ(r.what(), row.what);
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

// Issue 21, step 2: the persisted configuration must be valid and, until
// online reconfiguration exists, a simple record of exactly the members.
TEST(Config, PersistedConfigurationIsChecked) {
  struct Case {
    const char* name;
    CfgState cfg;
    const char* text;  // empty: valid
  };
  const std::vector<MemberId> members = {MemberId{1}, MemberId{2}, MemberId{3}};
  const Case cases[] = {
      {"initial", {initial_record(members), 0}, ""},
      {"newer id, join floor", {{.id = {3, 2}, .old_voters = members, .new_voters = {}, .floor = Token{5}}, 4, Token{9}},
       ""},
      {"join floor below F", {{.id = {3, 2}, .old_voters = members, .new_voters = {}, .floor = Token{5}}, 4, Token{4}},
       "config: join floor 4 below the record's F"},
      {"epoch above 2^63-1", {{.id = {1ULL << 63, 2}, .old_voters = members, .new_voters = {}, .floor = {}}, 2},
       "config: id (9223372036854775808, 2) above"},
      {"promise below ballot", {{.id = {3, 2}, .old_voters = members, .new_voters = {}, .floor = {}}, 1},
       "config: promised ballot 1 below the record's ballot 2"},
      // Voters among the members, joint or not: a change left half done.
      {"fewer voters", {{.id = {3, 2}, .old_voters = {MemberId{1}, MemberId{2}}, .new_voters = {}, .floor = {}}, 2},
       ""},
      {"joint of members", {{.id = {3, 2}, .old_voters = members, .new_voters = {MemberId{1}}, .floor = {}}, 2}, ""},
      {"a voter not a member", {{.id = {3, 2}, .old_voters = members, .new_voters = {MemberId{9}}, .floor = {}}, 2},
       "names a voter that is not among the members"},
      {"invalid", {{.id = {0, 0}, .old_voters = members, .new_voters = {}, .floor = {}}, 0}, "config: epoch 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    NodeConfig n = valid();
    n.recovered_cfg = c.cfg;
    const auto f = find_fault(n);
    if (std::string(c.text).empty()) {
      EXPECT_FALSE(f.has_value()) << f->error.what;
      continue;
    }
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->field, ConfigField::configuration);
    EXPECT_NE(std::string(f->error.what).find(c.text), std::string::npos) << f->error.what;
  }
}

TEST(Config, InScaleModeThePersistedVotersMustBeExactlyTheMembers) {
  NodeConfig n = valid();
  n.replicas = 1;  // three members, one voter per resource: scale mode
  n.recovered_cfg = CfgState{{.id = {3, 2}, .old_voters = {MemberId{1}, MemberId{2}}, .new_voters = {}, .floor = {}}, 2};
  const auto f = find_fault(n);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->field, ConfigField::configuration);
  EXPECT_NE(std::string(f->error.what).find("more than replicas 1"), std::string::npos) << f->error.what;
  n.recovered_cfg->record.old_voters = n.members;
  EXPECT_FALSE(find_fault(n).has_value());
}

}  // namespace
}  // namespace baton::core
