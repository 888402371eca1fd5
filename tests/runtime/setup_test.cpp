// SPDX-License-Identifier: Apache-2.0
// The setup helpers of baton/config.hpp: the member list, the cluster key.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include <memory>

#include "baton/baton.hpp"

namespace {

std::string what(const baton::Error& e) { return std::string(e.what); }

TEST(Setup, ParseMembersReadsIpv4AndBracketedIpv6) {
  auto m = baton::parse_members("1=10.0.0.1:7100,2=[::1]:7101,2147483647=127.0.0.1:65535");
  ASSERT_TRUE(m) << what(m.error());
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].id, 1u);
  EXPECT_EQ((*m)[0].host, "10.0.0.1");
  EXPECT_EQ((*m)[0].port, 7100);
  EXPECT_EQ((*m)[1].host, "::1");
  EXPECT_EQ((*m)[1].port, 7101);
  EXPECT_EQ((*m)[2].id, baton::member_id_max);
  EXPECT_EQ((*m)[2].port, 65535);
}

TEST(Setup, ParseMembersNamesTheItemAtFault) {
  struct Case {
    const char* text;
    const char* says;  // the error must contain this
  };
  const Case cases[] = {
      {"", "empty"},
      {"1=10.0.0.1:7100,2", "'2' is not ID=HOST:PORT"},
      {"0=10.0.0.1:7100", "id '0'"},
      {"x=10.0.0.1:7100", "id 'x'"},
      {"4294967296=10.0.0.1:7100", "id '4294967296'"},
      // Above member_id_max: the client namespace (issue 21).
      {"2147483648=10.0.0.1:7100", "id '2147483648' is not a number in 1..2147483647 (larger ids are client ids)"},
      {"1=db.example:7100", "host 'db.example' is not a numeric"},
      {"1=10.0.0.1", "expected HOST:PORT"},
      {"1=[::1]7100", "expected [IPv6]:PORT"},
      {"1=10.0.0.1:0", "port '0'"},
      {"1=10.0.0.1:65536", "port '65536'"},
      {"1=10.0.0.1:71x", "port '71x'"},
      {"1=10.0.0.1:7100,1=10.0.0.2:7100", "member id 1 appears twice"},
      {"1=10.0.0.1:7100,", "'' is not ID=HOST:PORT"},
  };
  for (const Case& c : cases) {
    auto m = baton::parse_members(c.text);
    ASSERT_FALSE(m) << c.text;
    EXPECT_EQ(m.error().code, baton::Errc::invalid_argument) << c.text;
    EXPECT_NE(what(m.error()).find(c.says), std::string::npos) << c.text << ": " << what(m.error());
  }
}

TEST(Setup, ClusterKeysRoundTripThroughHexAndFiles) {
  const baton::ClusterKey a = baton::generate_cluster_key();
  const baton::ClusterKey b = baton::generate_cluster_key();
  EXPECT_NE(a, b) << "two fresh keys are equal";
  const std::string hex = baton::cluster_key_hex(a);
  ASSERT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  auto back = baton::parse_cluster_key("  " + hex + "\n");
  ASSERT_TRUE(back) << what(back.error());
  EXPECT_EQ(*back, a);

  const std::string path = ::testing::TempDir() + "baton_setup_key_" + std::to_string(::getpid());
  { std::ofstream(path) << hex << "\n"; }
  auto loaded = baton::load_cluster_key(path);
  ASSERT_TRUE(loaded) << what(loaded.error());
  EXPECT_EQ(*loaded, a);
  { std::ofstream(path) << hex.substr(0, 63) << "\n"; }
  loaded = baton::load_cluster_key(path);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, baton::Errc::invalid_argument);
  EXPECT_NE(what(loaded.error()).find(path), std::string::npos) << what(loaded.error());
  EXPECT_NE(what(loaded.error()).find("found 63 characters"), std::string::npos) << what(loaded.error());
  std::remove(path.c_str());
  loaded = baton::load_cluster_key(path);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, baton::Errc::io_error);
  EXPECT_NE(what(loaded.error()).find("cannot read key file '" + path + "'"), std::string::npos) << what(loaded.error());
}

TEST(Setup, ParseClusterKeyNamesTheFirstCharacterThatIsNotHex) {
  std::string hex(64, 'a');
  hex[10] = 'g';
  auto k = baton::parse_cluster_key(hex);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, baton::Errc::invalid_argument);
  EXPECT_NE(what(k.error()).find("'ga' at character 11 is not hex"), std::string::npos) << what(k.error());
  hex[10] = 'a';
  hex[33] = ' ';
  k = baton::parse_cluster_key(hex);
  ASSERT_FALSE(k);
  EXPECT_NE(what(k.error()).find("at character 33 is not hex"), std::string::npos) << what(k.error());
}

// ---- Result's contract (issue 22) ------------------------------------------

TEST(ResultDeathTest, ValueOnAnErrorAbortsNamingTheCallAndTheError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const baton::Result<int> r(baton::Errc::busy, "held elsewhere");
  EXPECT_DEATH((void)r.value(), "Result::value\\(\\) called on an error \\(busy: held elsewhere\\); check ok\\(\\) first");
  EXPECT_DEATH((void)*r, "called on an error \\(busy");
  const baton::Result<int> good(7);
  EXPECT_DEATH((void)good.error(), "Result::error\\(\\) called on a success");
}

TEST(Result, DereferencingATemporaryMovesTheValueOut) {
  std::unique_ptr<int> p = *baton::Result<std::unique_ptr<int>>(std::make_unique<int>(5));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
  // A Lease's release() may be dropped without a cast (it builds under
  // -Werror): every other Result is [[nodiscard]].
  baton::Lease none;
  none.release();
  EXPECT_EQ(none.release().code(), baton::Errc::not_held);
}

}  // namespace
