// SPDX-License-Identifier: Apache-2.0
// Clients (issue 21): processes that take leases through the members without
// being one, over UDP on 127.0.0.1.
#include <gtest/gtest.h>

#include <future>
#include <set>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::start_members;

using test::opts;

// A client of the members in `m`: their addresses, key, id and timing, no slot.
Config client_config(const test::Members& m) {
  Config c = test::member_config(m.ports, 1);
  c.self = 0;
  c.bootstrap = false;
  c.client = true;
  return c;
}

std::unique_ptr<Cluster> start_client(const test::Members& m) {
  auto r = Cluster::start(client_config(m));
  EXPECT_TRUE(r.ok()) << r.what();
  return r ? std::move(*r) : nullptr;
}

TEST(Client, TakesLeasesThroughTheMembersWithoutASlot) {
  auto m = start_members(3);
  auto a = start_client(m);
  auto b = start_client(m);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->is_client());
  EXPECT_GT(a->self(), member_id_max);
  EXPECT_NE(a->self(), b->self());
  EXPECT_FALSE(m[1].is_client());

  auto first = a->acquire("seat:14A", opts(2s, 5s));
  ASSERT_TRUE(first.ok()) << first.what();
  EXPECT_TRUE(first->valid());
  // Mutual exclusion against the other client and against members.
  auto other = b->try_acquire("seat:14A", 2s);
  EXPECT_TRUE(test::refused(other.code())) << errc_name(other.code());
  auto member = m[2].try_acquire("seat:14A", 2s);
  EXPECT_TRUE(test::refused(member.code())) << errc_name(member.code());
  // Renewal and release go through the members too.
  ASSERT_TRUE(first->renew().ok());
  const std::uint64_t t1 = first->token();
  // b waits; a's release lets it through at once (FREE or hand-off to a client).
  std::promise<Result<Lease>> got;
  auto outcome = got.get_future();
  ASSERT_TRUE(b->acquire("seat:14A", opts(2s, 10s), [&](Result<Lease> r) { got.set_value(std::move(r)); }).ok());
  EXPECT_TRUE(eventually([&] { return b->stats().pending_acquires == 1; }));
  ASSERT_TRUE(first->release().ok());
  ASSERT_EQ(outcome.wait_for(20s), std::future_status::ready);
  auto second = outcome.get();
  ASSERT_TRUE(second.ok()) << second.what();
  EXPECT_GT(second->token(), t1);
  // The client never voted.
  EXPECT_EQ(a->stats().grants, 0u);
  EXPECT_EQ(b->stats().grants, 0u);
  EXPECT_GE(m[1].stats().grants, 1u);
}

TEST(Client, ARestartedClientIsANewIdentityAndStopReleases) {
  auto m = start_members(3);
  std::set<std::uint32_t> ids;
  std::uint64_t last_token = 0;
  for (int life = 0; life < 3; ++life) {
    auto c = start_client(m);
    ASSERT_TRUE(c);
    ids.insert(c->self());
    auto lease = c->acquire("nightly-job", opts(5s, 5s));
    ASSERT_TRUE(lease.ok()) << "life " << life << ": " << lease.what();
    EXPECT_GT(lease->token(), last_token);
    last_token = lease->token();
    // Stopping releases (best effort): the next life does not wait out the 5 s ttl.
    c->stop();
  }
  EXPECT_EQ(ids.size(), 3u) << "each start draws its own client id";
}

TEST(Client, MoreClientsThanAMemberKeepsStillAllGetLeases) {
  // Each member keeps two clients; five take turns. Evicted clients are
  // answered again once they are heard from again.
  auto m = start_members(3, {}, [](Config& c) { c.limits.clients = 2; });
  std::vector<std::unique_ptr<Cluster>> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(start_client(m));
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto lease = clients[i]->acquire("r" + std::to_string(i), opts(1s, 5s));
      ASSERT_TRUE(lease.ok()) << "client " << i << " round " << round << ": " << lease.what();
      ASSERT_TRUE(lease->release().ok());
    }
  }
  EXPECT_TRUE(eventually([&] { return m[1].stats().clients_evicted >= 3; })) << m[1].stats().clients_evicted;
}

TEST(Client, AClientConfigNamesWhatAClientMayNotSet) {
  auto ports = test::free_ports(3);
  test::Members m;
  m.ports = ports;
  struct Case {
    const char* name;
    std::function<void(Config&)> change;
    const char* says;
  };
  const Case cases[] = {
      {"self", [](Config& c) { c.self = 5; }, "self: 5 set on a client; leave it 0 (drawn at start)"},
      {"state_dir", [](Config& c) { c.state_dir = "/tmp/x"; }, "state_dir: '/tmp/x' set on a client"},
      {"bootstrap", [](Config& c) { c.bootstrap = true; }, "bootstrap: set on a client"},
      {"incarnation", [](Config& c) { c.incarnation = 9; }, "incarnation: 9 set on a client"},
      {"member id", [](Config& c) { c.members[0].id = member_id_max + 1; }, "members: member id 2147483648 above"},
      {"clients limit", [](Config& c) { c.limits.clients = 0; }, "limits.clients: 0"},
  };
  for (const Case& k : cases) {
    Config c = client_config(m);
    k.change(c);
    auto v = c.validate();
    ASSERT_FALSE(v.ok()) << k.name;
    EXPECT_EQ(v.code(), Errc::invalid_config) << k.name;
    EXPECT_NE(std::string(v.what()).find(k.says), std::string::npos) << k.name << ": " << v.what();
    auto r = Cluster::start(c);
    EXPECT_FALSE(r.ok()) << k.name;
  }
  EXPECT_TRUE(client_config(m).validate().ok());
}

// A client with another member list (another voting fingerprint) gets no
// lease, and the members only count its datagrams: they keep running and
// serving (helper-10 found they asserted in the mismatch log before).
TEST(Client, AClientWithAnotherMemberListIsRefusedAndCrashesNobody) {
  auto m = start_members(3);
  Config c = client_config(m);
  c.members.push_back({4, "127.0.0.1", test::free_ports(1)[0]});
  auto client = Cluster::start(c);
  ASSERT_TRUE(client.ok()) << client.what();
  auto lease = (*client)->acquire("seat:14A", opts(1s, 300ms));
  EXPECT_EQ(lease.code(), Errc::unavailable) << lease.what();
  EXPECT_TRUE(eventually([&] {
    return m[1].stats().drops[static_cast<std::size_t>(DropReason::config_mismatch)] > 0;
  }));
  auto member = m[1].acquire("seat:14A", opts(1s, 2s));
  ASSERT_TRUE(member.ok()) << member.what();
}

}  // namespace
}  // namespace baton
