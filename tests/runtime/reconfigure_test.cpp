// SPDX-License-Identifier: Apache-2.0
// Cluster::reconfigure (issue 21 step 4): in-process members over loopback
// UDP change their voters while a lease is held and auto-renewed; bad calls
// fail at once naming the value and change nothing; one call at a time.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <string>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

class Reconfigure : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& d : dirs_) std::filesystem::remove_all(d);
  }
  // Members 1..n, each with its own state directory; ttl_max 600 ms, so a
  // change (which waits out the old voters' longest lease) takes about 0.7 s.
  test::Members start(std::size_t n, const std::function<void(Config&)>& edit = {}) {
    while (dirs_.size() < n) {
      char tmpl[] = "/tmp/baton-reconfig-XXXXXX";
      EXPECT_NE(::mkdtemp(tmpl), nullptr);
      dirs_.emplace_back(tmpl);
    }
    return test::start_members(n, {}, [&](Config& c) {
      c.state_dir = dirs_[c.self - 1];
      c.ttl_max = 600ms;
      if (edit) edit(c);
    });
  }
  std::vector<std::string> dirs_;
};

// Every member's Stats::voting shows `voters` as a simple record at `epoch` or later.
bool all_vote_under(test::Members& m, const std::vector<std::uint32_t>& voters, std::uint64_t epoch) {
  for (auto& c : m.clusters) {
    const VoterConfig v = c->stats().voting;
    if (v.voters != voters || v.joint() || v.epoch < epoch) return false;
  }
  return true;
}

TEST_F(Reconfigure, ThreeToFiveToThreeVotersWhileALeaseIsHeldAndRenewed) {
  auto m = start(5);
  ASSERT_EQ(m[1].stats().voting, (VoterConfig{.epoch = 1, .ballot = 0, .voters = {1, 2, 3, 4, 5}, .new_voters = {}}));
  // The initial record lists every member; move to three voters first.
  auto first = m[1].reconfigure({3, 1, 2});  // any order
  ASSERT_TRUE(first.ok()) << first.what();
  ASSERT_TRUE(first->committed()) << first->detail;
  EXPECT_EQ(first->config.voters, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_FALSE(first->config.joint());
  EXPECT_EQ(first->config.epoch, 3u) << "joint record at 2, the new voters' at 3";
  EXPECT_EQ(first->config.ballot, first->ballot);
  EXPECT_TRUE(eventually([&] { return all_vote_under(m, {1, 2, 3}, 3); }));

  // A lease held by member 1 through the next two changes, renewed by itself.
  std::atomic<int> lost{0};
  AcquireOptions o = test::opts(300ms, 5s);  // several renewals per change, with slack for loaded hosts
  o.auto_renew = true;
  o.on_lost = [&](LostReason) { ++lost; };
  auto lease = m[1].acquire("seat:14A", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  const std::uint64_t renewed_before = m[1].stats().renewed;

  // 3 -> 5, driven by member 4 (not a voter yet: any member may drive).
  auto grow = m[4].reconfigure({1, 2, 3, 4, 5});
  ASSERT_TRUE(grow.ok()) << grow.what();
  ASSERT_TRUE(grow->committed()) << grow->detail;
  EXPECT_EQ(grow->config.voters, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_GT(grow->config.epoch, first->config.epoch);
  EXPECT_TRUE(lease->valid());
  // 5 -> 3, driven by member 2, with the callback form.
  std::promise<Result<ReconfigureResult>> shrunk;
  ASSERT_TRUE(m[2].reconfigure({1, 2, 3}, [&](Result<ReconfigureResult> r) { shrunk.set_value(std::move(r)); }).ok());
  auto shrink = shrunk.get_future().get();
  ASSERT_TRUE(shrink.ok()) << shrink.what();
  ASSERT_TRUE(shrink->committed()) << shrink->detail;
  EXPECT_EQ(shrink->config.voters, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_GT(shrink->config.epoch, grow->config.epoch);
  EXPECT_TRUE(eventually([&] { return all_vote_under(m, {1, 2, 3}, shrink->config.epoch); }))
      << "removed members hear the final record too (the driver re-sends it to them)";

  // The lease lived through both changes and kept renewing (each change
  // waits out ttl_max = 600 ms, two of its 300 ms lives).
  EXPECT_TRUE(lease->valid());
  EXPECT_EQ(lost.load(), 0);
  EXPECT_GE(m[1].stats().renewed, renewed_before + 4);
  const std::uint64_t token = lease->token();
  lease->release();
  // The new voters grant the next lease, above the old token (Guarantee 2).
  auto next = m[5].acquire("seat:14A", test::opts(200ms, 5s));
  ASSERT_TRUE(next.ok()) << next.what();
  EXPECT_GT(next->token(), token);
}

// V4 (docs/protocol.md, "Renewals across a change"): a change that replaces a
// majority of the voters in one call keeps a held lease. Its renewals under
// the joint record need a majority of the new voters, which hold nothing:
// they re-grant it (before V4 they refused, and the lease was lost).
TEST_F(Reconfigure, ReplacingTwoOfThreeVotersInOneCallKeepsAHeldLease) {
  auto m = start(5);
  auto first = m[1].reconfigure({1, 2, 3});
  ASSERT_TRUE(first.ok()) << first.what();
  ASSERT_TRUE(first->committed()) << first->detail;
  EXPECT_TRUE(eventually([&] { return all_vote_under(m, {1, 2, 3}, first->config.epoch); }));

  std::atomic<int> lost{0};
  AcquireOptions o = test::opts(300ms, 5s);
  o.auto_renew = true;
  o.on_lost = [&](LostReason) { ++lost; };
  auto lease = m[1].acquire("seat:14A", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  const std::uint64_t token = lease->token();

  // {1,2,3} -> {3,4,5}: only member 3 stays a voter.
  auto swap = m[5].reconfigure({3, 4, 5});
  ASSERT_TRUE(swap.ok()) << swap.what();
  ASSERT_TRUE(swap->committed()) << swap->detail;
  EXPECT_EQ(swap->config.voters, (std::vector<std::uint32_t>{3, 4, 5}));
  EXPECT_TRUE(eventually([&] { return all_vote_under(m, {3, 4, 5}, swap->config.epoch); }));
  // Renewed under the new voters alone: at least one more renewal.
  const std::uint64_t renewed_after = m[1].stats().renewed;
  EXPECT_TRUE(eventually([&] { return m[1].stats().renewed > renewed_after; }));
  EXPECT_TRUE(lease->valid());
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(lease->token(), token);

  // While it is held, the new voters deny everyone else.
  AcquireOptions quick = test::opts(200ms, 150ms);
  auto other = m[4].acquire("seat:14A", quick);
  EXPECT_FALSE(other.ok());
  lease->release();
  // The next lease, from the new voters, is above the old token (Guarantee 2).
  auto next = m[4].acquire("seat:14A", test::opts(200ms, 5s));
  ASSERT_TRUE(next.ok()) << next.what();
  EXPECT_GT(next->token(), token);
}

TEST_F(Reconfigure, BadArgumentsFailAtOnceNamingTheValueAndChangeNothing) {
  auto m = start(3);
  const VoterConfig before = m[1].stats().voting;
  struct Case {
    std::vector<std::uint32_t> voters;
    const char* names;
  };
  const Case cases[] = {
      {{}, "the new voter list is empty"},
      {{1, 2, 2}, "voter 2 is listed twice"},
      {{1, 9}, "voter 9 is not among the 3 members"},
      {{0, 1}, "voter 0 is not among the 3 members"},
      {{1, 0x80000001U}, "voter 2147483649 is not among the 3 members"},  // a client id
  };
  for (const Case& c : cases) {
    bool called = false;
    auto r = m[1].reconfigure(c.voters, [&](Result<ReconfigureResult>) { called = true; });
    ASSERT_FALSE(r.ok()) << c.names;
    EXPECT_EQ(r.code(), Errc::invalid_argument);
    EXPECT_TRUE(contains(r.what(), c.names)) << r.what();
    auto blocking = m[1].reconfigure(c.voters);
    ASSERT_FALSE(blocking.ok());
    EXPECT_EQ(blocking.what(), r.what());
    EXPECT_FALSE(called) << "a call that failed at once never calls back";
  }
  // Nothing moved: no ballot was promised, no record adopted.
  std::this_thread::sleep_for(50ms);
  for (std::uint32_t id = 1; id <= 3; ++id) EXPECT_EQ(m[id].stats().voting, before);
}

TEST_F(Reconfigure, OneCallAtATimeASecondIsBusyAtOnce) {
  auto m = start(3);
  std::promise<Result<ReconfigureResult>> first;
  ASSERT_TRUE(m[1].reconfigure({1, 2}, [&](Result<ReconfigureResult> r) { first.set_value(std::move(r)); }).ok());
  bool called = false;
  auto second = m[1].reconfigure({1, 3}, [&](Result<ReconfigureResult>) { called = true; });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::busy);
  EXPECT_TRUE(contains(second.what(), "previous reconfigure has not called back")) << second.what();
  auto blocking = m[1].reconfigure({1, 3});
  EXPECT_EQ(blocking.code(), Errc::busy);
  auto r = first.get_future().get();
  ASSERT_TRUE(r.ok()) << r.what();
  ASSERT_TRUE(r->committed()) << r->detail;
  EXPECT_EQ(r->config.voters, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_FALSE(called);
  // After the callback, the member takes the next one; member 3 is not a voter now.
  auto again = m[1].reconfigure({1, 2, 3});
  ASSERT_TRUE(again.ok()) << again.what();
  EXPECT_TRUE(again->committed()) << again->detail;
}

TEST_F(Reconfigure, TheBlockingFormOnTheLoopThreadIsRefused) {
  auto m = start(1);
  std::promise<Result<ReconfigureResult>> inner;
  // An acquire's callback runs on the loop thread.
  ASSERT_TRUE(m[1].acquire("r", test::opts(100ms), [&](Result<Lease>) { inner.set_value(m[1].reconfigure({1})); }).ok());
  auto r = inner.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  EXPECT_TRUE(contains(r.what(), "loop thread")) << r.what();
}

TEST_F(Reconfigure, RefusedByAClientAMemberWithoutStateAndInScaleMode) {
  auto m = start(3);
  Config client = test::member_config(m.ports, 1);
  client.self = 0;
  client.bootstrap = false;
  client.client = true;
  auto c = Cluster::start(client);
  ASSERT_TRUE(c.ok()) << c.what();
  auto r = (*c)->reconfigure({1, 2});
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  EXPECT_TRUE(contains(r.what(), "a client cannot drive a reconfiguration")) << r.what();
  EXPECT_EQ((*c)->stats().voting.voters, (std::vector<std::uint32_t>{1, 2, 3})) << "a client shows what it heard of";

  auto diskless = test::start_members(1);
  auto d = diskless[1].reconfigure({1});
  EXPECT_EQ(d.code(), Errc::invalid_argument);
  EXPECT_TRUE(contains(d.what(), "no state directory")) << d.what();

  // Seven members, five replicas: scale mode (members 2..7 need not run).
  char tmpl[] = "/tmp/baton-reconfig-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  dirs_.emplace_back(tmpl);
  auto scale = test::start_members(7, {2, 3, 4, 5, 6, 7}, [&](Config& c) { c.state_dir = dirs_.back(); });
  auto s = scale[1].reconfigure({1, 2, 3});
  EXPECT_EQ(s.code(), Errc::invalid_argument);
  EXPECT_TRUE(contains(s.what(), "more members (7) than replicas (5)")) << s.what();
}

}  // namespace
}  // namespace baton
