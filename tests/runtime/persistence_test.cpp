// SPDX-License-Identifier: Apache-2.0
// State directory through the runtime: floor reservations are written to
// <state_dir>/floor before tokens above them are granted, the incarnation
// counter grows with every start, and a restart recovers from the
// reservation (quarantined, then voting again).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

std::uint64_t read_number(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t v = 0;
  in >> v;
  return v;
}

class Persistence : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      char tmpl[] = "/tmp/baton-persist-XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl), nullptr);
      dirs_.emplace_back(tmpl);
    }
  }
  void TearDown() override {
    for (auto& d : dirs_) std::filesystem::remove_all(d);
  }
  std::vector<std::string> dirs_;
};

TEST_F(Persistence, FloorIsWrittenAndARestartRecoversFromIt) {
  auto m = test::start_members(3, {}, [&](Config& c) {
    c.bootstrap = true;  // the cluster's first start
    c.state_dir = dirs_[c.self - 1];
    c.ttl_max = 1s;  // the restart quarantine is about 1 s
  });
  AcquireOptions o;
  o.ttl = 500ms;
  o.wait = 5s;
  auto lease = m[1].acquire("r", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  const std::uint64_t t1 = lease->token();
  // Every voter that granted wrote a reservation above the token first.
  const std::string floor1 = dirs_[0] + "/floor";
  ASSERT_TRUE(std::filesystem::exists(floor1));
  EXPECT_GE(read_number(floor1), t1);
  const std::uint64_t inc1 = read_number(dirs_[0] + "/incarnation");
  EXPECT_GT(inc1, 0u);
  ASSERT_TRUE(lease->release().ok());

  // Member 1 restarts with its state: recovery from the reservation.
  m[1].stop();
  m.clusters[0].reset();
  Config c = test::member_config(m.ports, 1);
  c.bootstrap = false;
  c.state_dir = dirs_[0];
  c.ttl_max = 1s;
  auto restarted = Cluster::start(c);
  ASSERT_TRUE(restarted.ok()) << restarted.what();
  EXPECT_GT(read_number(dirs_[0] + "/incarnation"), inc1);
  EXPECT_TRUE((*restarted)->stats().quarantined);
  // Its quarantine ends (the stretched ttl_max), and it takes leases again,
  // with a token above everything before the restart.
  ASSERT_TRUE(eventually([&] { return !(*restarted)->stats().quarantined; }, 20s));
  auto again = (*restarted)->acquire("r", o);
  ASSERT_TRUE(again.ok()) << again.what();
  EXPECT_GT(again->token(), t1);
}

TEST_F(Persistence, CorruptedFloorStopsTheStart) {
  // Not a number, and a number above the largest token (limits::token_max).
  for (const char* content : {"not a number\n", "18446744073709551615\n"}) {
    std::ofstream(dirs_[0] + "/floor") << content;
    auto ports = test::free_ports(3);
    Config c = test::member_config(ports, 1);
    c.bootstrap = false;
    c.state_dir = dirs_[0];
    auto r = Cluster::start(c);
    ASSERT_FALSE(r.ok()) << content;
    EXPECT_EQ(r.code(), Errc::io_error);
    EXPECT_NE(r.what().find(dirs_[0] + "/floor"), std::string_view::npos) << r.what();
  }
}

// Issue 19: a member whose state directory lost its state (wiped, replaced by
// an empty one) is not a first start: it stays quarantined and recovers its
// floor from its peers, and it persists reservations again afterwards.
TEST_F(Persistence, EmptiedStateDirectoryRecoversTheFloorFromPeers) {
  auto m = test::start_members(3, {}, [&](Config& c) {
    c.bootstrap = true;
    c.state_dir = dirs_[c.self - 1];
    c.ttl_max = 1s;
  });
  AcquireOptions o;
  o.ttl = 500ms;
  o.wait = 5s;
  auto lease = m[2].acquire("r", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  const std::uint64_t t1 = lease->token();
  ASSERT_TRUE(lease->release().ok());

  m[1].stop();
  m.clusters[0].reset();
  std::filesystem::remove_all(dirs_[0]);
  std::filesystem::create_directory(dirs_[0]);
  std::vector<std::string> logs;
  std::mutex logs_mutex;
  Config c = test::member_config(m.ports, 1);
  c.bootstrap = false;
  c.state_dir = dirs_[0];
  c.ttl_max = 1s;
  c.log = [&](LogLevel, std::string_view text) {
    std::lock_guard<std::mutex> lock(logs_mutex);
    logs.emplace_back(text);
  };
  auto restarted = Cluster::start(c);
  ASSERT_TRUE(restarted.ok()) << restarted.what();
  // Before issue 19 this was a silent first start: voting at once with floor 0.
  EXPECT_TRUE((*restarted)->stats().quarantined);
  {
    std::lock_guard<std::mutex> lock(logs_mutex);
    bool said = false;
    for (const auto& l : logs)
      said = said || (l.find("state directory '" + dirs_[0] + "' has no state: recovering the floor from peers") !=
                           std::string::npos &&
                       l.find("--bootstrap") != std::string::npos);
    EXPECT_TRUE(said) << "no log line saying the state is lost and what to do";
  }
  ASSERT_TRUE(eventually([&] { return !(*restarted)->stats().quarantined; }, 20s));
  // It learned a floor from its peers and, voting again, reserves above it.
  auto again = (*restarted)->acquire("r", o);
  ASSERT_TRUE(again.ok()) << again.what();
  EXPECT_GT(again->token(), t1);
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(dirs_[0] + "/floor"); }));
  EXPECT_GE(read_number(dirs_[0] + "/floor"), again->token());
}

TEST_F(Persistence, MissingStateDirectoryIsRefusedUnlessBootstrap) {
  auto ports = test::free_ports(3);
  const std::string missing = dirs_[0] + "/member-1";
  Config c = test::member_config(ports, 1);
  c.bootstrap = false;
  c.state_dir = missing;
  auto r = Cluster::start(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::io_error);
  EXPECT_NE(r.what().find("'" + missing + "' does not exist"), std::string_view::npos) << r.what();
  EXPECT_FALSE(std::filesystem::exists(missing));
  c.bootstrap = true;
  auto started = Cluster::start(c);
  ASSERT_TRUE(started.ok()) << started.what();
  EXPECT_FALSE((*started)->stats().quarantined);
  EXPECT_EQ(read_number(missing + "/floor"), 0u);
}

// Issue 19: two members on one state directory would overwrite a higher
// reservation with a lower one; the second start is refused, names the
// directory and the holder, and changes nothing there.
TEST_F(Persistence, SecondMemberOnOneStateDirectoryIsRefused) {
  auto m = test::start_members(3, {}, [&](Config& c) {
    c.bootstrap = true;
    c.state_dir = dirs_[c.self - 1];
  });
  const std::uint64_t inc = read_number(dirs_[0] + "/incarnation");
  const std::uint64_t floor = read_number(dirs_[0] + "/floor");
  auto other_ports = test::free_ports(3);
  Config c = test::member_config(other_ports, 1);  // same id, other ports: a second process's copy
  c.bootstrap = false;
  c.state_dir = dirs_[0];
  auto r = Cluster::start(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::io_error);
  EXPECT_NE(r.what().find("state directory '" + dirs_[0] + "' is locked by another member of this process (pid " +
                          std::to_string(::getpid()) + ")"),
            std::string_view::npos)
      << r.what();
  EXPECT_EQ(read_number(dirs_[0] + "/incarnation"), inc);
  EXPECT_EQ(read_number(dirs_[0] + "/floor"), floor);
  // Once the first member stops, the directory is free again.
  m[1].stop();
  m.clusters[0].reset();
  auto after = Cluster::start(c);
  ASSERT_TRUE(after.ok()) << after.what();
  EXPECT_GT(read_number(dirs_[0] + "/incarnation"), inc);
}

// Issue 19: the restart quarantine covers the longest ttl_max an earlier
// life voted under (persisted in the state directory), not only this life's:
// a lease granted under ttl_max 4 s may outlive a 1 s quarantine.
TEST_F(Persistence, LoweredTtlMaxStillQuarantinesForTheOldOne) {
  auto m = test::start_members(3, {2, 3}, [&](Config& c) {
    c.bootstrap = true;
    c.state_dir = dirs_[0];
    c.ttl_max = 4s;
  });
  EXPECT_EQ(read_number(dirs_[0] + "/ttl_max_ns"), 4'000'000'000u);
  m[1].stop();
  m.clusters[0].reset();
  Config c = test::member_config(m.ports, 1);
  c.bootstrap = false;
  c.state_dir = dirs_[0];
  c.ttl_max = 1s;
  const auto before = std::chrono::steady_clock::now();
  auto restarted = Cluster::start(c);
  ASSERT_TRUE(restarted.ok()) << restarted.what();
  ASSERT_TRUE(eventually([&] { return !(*restarted)->stats().quarantined; }, 20s));
  const auto took = std::chrono::steady_clock::now() - before;
  // ceil(4 s * 1.01/0.99) = 4.08 s on the member's clock; 1 s would end at 1.02 s.
  EXPECT_GE(took, 4s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_EQ(read_number(dirs_[0] + "/ttl_max_ns"), 4'000'000'000u) << "the largest ttl_max is kept";
}

}  // namespace
}  // namespace baton
