// SPDX-License-Identifier: Apache-2.0
// fingerprint.hpp: the voting configuration's fingerprint is a function of
// the member ids (as a set) and the effective replica count, and of nothing
// else; its encoding is pinned by golden values, because members built from
// different commits must agree on it.
#include "core/fingerprint.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace baton::core {
namespace {

std::vector<MemberId> ids(std::initializer_list<std::uint32_t> v) {
  std::vector<MemberId> out;
  for (auto x : v) out.push_back(MemberId{x});
  return out;
}

struct Config {
  std::vector<MemberId> members;
  std::size_t replicas;
};

std::uint64_t fp(const Config& c) { return voting_fingerprint(c.members, c.replicas); }

TEST(Fingerprint, SameVotingConfigurationSameFingerprint) {
  struct Case {
    const char* name;
    Config a, b;
  };
  const Case cases[] = {
      {.name = "member order does not matter",
       .a = {.members = ids({1, 2, 3}), .replicas = 5},
       .b = {.members = ids({3, 1, 2}), .replicas = 5}},
      {.name = "R at or above the member count: every member votes either way",
       .a = {.members = ids({1, 2, 3}), .replicas = 3},
       .b = {.members = ids({1, 2, 3}), .replicas = 7}},
      {.name = "5 members, R 5 and R 9",
       .a = {.members = ids({10, 20, 30, 40, 50}), .replicas = 5},
       .b = {.members = ids({50, 40, 30, 20, 10}), .replicas = 9}},
  };
  for (const Case& c : cases) EXPECT_EQ(fp(c.a), fp(c.b)) << c.name;
}

TEST(Fingerprint, DifferentVotingConfigurationDifferentFingerprint) {
  struct Case {
    const char* name;
    Config a, b;
  };
  const Case cases[] = {
      {.name = "a member added (the rolling restart of issue 19)",
       .a = {.members = ids({1, 2, 3}), .replicas = 5},
       .b = {.members = ids({1, 2, 3, 4, 5}), .replicas = 5}},
      {.name = "a member replaced",
       .a = {.members = ids({1, 2, 3}), .replicas = 5},
       .b = {.members = ids({1, 2, 4}), .replicas = 5}},
      {.name = "a member removed",
       .a = {.members = ids({1, 2, 3}), .replicas = 5},
       .b = {.members = ids({1, 2}), .replicas = 5}},
      {.name = "R differs below the member count (placement changes)",
       .a = {.members = ids({1, 2, 3, 4, 5, 6, 7}), .replicas = 3},
       .b = {.members = ids({1, 2, 3, 4, 5, 6, 7}), .replicas = 5}},
      {.name = "R 1 against every member voting",
       .a = {.members = ids({1, 2, 3}), .replicas = 1},
       .b = {.members = ids({1, 2, 3}), .replicas = 3}},
      {.name = "ids are not bytes run together: {1, 256} against {65536, 1}",
       .a = {.members = ids({1, 256}), .replicas = 5},
       .b = {.members = ids({65536, 1}), .replicas = 5}},
      {.name = "large ids",
       .a = {.members = ids({0xfffffffeU, 0xffffffffU, 1}), .replicas = 5},
       .b = {.members = ids({0xfffffffdU, 0xffffffffU, 1}), .replicas = 5}},
  };
  for (const Case& c : cases) {
    EXPECT_NE(fp(c.a), fp(c.b)) << c.name;
    EXPECT_NE(fp(c.a), 0u) << c.name;
    EXPECT_NE(fp(c.b), 0u) << c.name;
  }
}

TEST(Fingerprint, GoldenValues) {
  // Changing these breaks every mixed-version cluster: members built before
  // and after would refuse each other's votes (wire/README.md). Only change
  // them together with voting_fingerprint_domain. (Checked once against a
  // C program that calls XXH3_64bits on the bytes laid out by hand.)
  EXPECT_EQ(fingerprint_hex(fp({.members = ids({1, 2, 3}), .replicas = 5})), "efd66e614e2a0a9a");
  EXPECT_EQ(fingerprint_hex(fp({.members = ids({1, 2, 3, 4, 5}), .replicas = 5})), "e82234d1700e65d0");
  EXPECT_EQ(fingerprint_hex(fp({.members = ids({1, 2, 3, 4, 5, 6, 7}), .replicas = 3})), "206a33c55e7220f2");
}

TEST(Fingerprint, OfANodeConfigIsOfItsMembersAndReplicas) {
  NodeConfig c;
  c.members = ids({4, 2, 9});
  c.self = MemberId{2};
  c.replicas = 5;
  EXPECT_EQ(voting_fingerprint(c), fp({.members = ids({2, 4, 9}), .replicas = 3}));
  // Nothing else of the config enters it.
  NodeConfig other = c;
  other.self = MemberId{9};
  other.incarnation = Incarnation{77};
  other.rho_ppm = 20000;
  other.ttl_max = Duration::s(5);
  EXPECT_EQ(voting_fingerprint(other), voting_fingerprint(c));
}

TEST(Fingerprint, Hex) {
  EXPECT_EQ(fingerprint_hex(0), "0000000000000000");
  EXPECT_EQ(fingerprint_hex(0x0123456789abcdefULL), "0123456789abcdef");
  EXPECT_EQ(fingerprint_hex(UINT64_MAX), "ffffffffffffffff");
}

}  // namespace
}  // namespace baton::core
