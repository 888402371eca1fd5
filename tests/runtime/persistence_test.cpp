// State directory through the runtime: floor reservations are written to
// <state_dir>/floor before tokens above them are granted, the incarnation
// counter grows with every start, and a restart recovers from the
// reservation (quarantined, then voting again).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

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
    c.bootstrap = false;
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
  std::ofstream(dirs_[0] + "/floor") << "not a number\n";
  auto ports = test::free_ports(3);
  Config c = test::member_config(ports, 1);
  c.bootstrap = false;
  c.state_dir = dirs_[0];
  auto r = Cluster::start(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::io_error);
}

}  // namespace
}  // namespace baton
