// SPDX-License-Identifier: Apache-2.0
// acquire_queue.hpp: turns among this member's acquires of one resource.
#include "core/acquire_queue.hpp"

#include <gtest/gtest.h>

namespace baton::core {
namespace {

const ResourceName kSeat{"seat:14A"};
const ResourceName kRoom{"room:1"};

std::vector<AcquireId> ids(std::initializer_list<std::uint64_t> v) {
  std::vector<AcquireId> out;
  for (auto x : v) out.push_back(AcquireId{x});
  return out;
}

TEST(AcquireQueue, FirstTakesTheTurnOthersWaitInCallOrder) {
  AcquireQueue q;
  EXPECT_EQ(q.join(kSeat, AcquireId{1}, true), AcquireQueue::Join::turn);
  EXPECT_EQ(q.join(kSeat, AcquireId{2}, true), AcquireQueue::Join::wait);
  EXPECT_EQ(q.join(kSeat, AcquireId{3}, true), AcquireQueue::Join::wait);
  EXPECT_EQ(q.join(kRoom, AcquireId{4}, true), AcquireQueue::Join::turn) << "resources are independent";
  EXPECT_EQ(q.turn(kSeat), AcquireId{1});
  EXPECT_EQ(q.waiting(kSeat), 2U);
  EXPECT_TRUE(q.waits(kSeat, AcquireId{2}));
  EXPECT_EQ(q.all(kSeat), ids({1, 2, 3}));
  EXPECT_EQ(q.check(), "");
  // The holder wins: the oldest waiting gets the turn; the winner stays listed.
  EXPECT_EQ(q.pass_turn(kSeat, AcquireId{1}), AcquireId{2});
  EXPECT_EQ(q.turn(kSeat), AcquireId{2});
  EXPECT_EQ(q.all(kSeat), ids({1, 2, 3}));
  // The new holder fails: the next one.
  EXPECT_EQ(q.leave(kSeat, AcquireId{2}), AcquireId{3});
  // A listed non-holder leaves: nobody starts.
  EXPECT_EQ(q.leave(kSeat, AcquireId{1}), std::nullopt);
  EXPECT_EQ(q.leave(kSeat, AcquireId{3}), std::nullopt);
  EXPECT_FALSE(q.contains(kSeat)) << "nothing kept for a resource with no acquires";
  EXPECT_EQ(q.size(), 1U);
  EXPECT_EQ(q.check(), "");
}

TEST(AcquireQueue, TryAcquireNeverWaitsNorTakesTheTurn) {
  AcquireQueue q;
  EXPECT_EQ(q.join(kSeat, AcquireId{1}, false), AcquireQueue::Join::apart);
  EXPECT_EQ(q.turn(kSeat), std::nullopt);
  EXPECT_EQ(q.join(kSeat, AcquireId{2}, true), AcquireQueue::Join::turn);
  EXPECT_EQ(q.join(kSeat, AcquireId{3}, false), AcquireQueue::Join::apart) << "not even behind a holder";
  EXPECT_EQ(q.waiting(kSeat), 0U);
  EXPECT_EQ(q.all(kSeat), ids({1, 2, 3}));
  EXPECT_EQ(q.leave(kSeat, AcquireId{3}), std::nullopt);
  EXPECT_EQ(q.check(), "");
}

TEST(AcquireQueue, AWaitingAcquireThatLeavesIsForgotten) {
  AcquireQueue q;
  q.join(kSeat, AcquireId{1}, true);
  q.join(kSeat, AcquireId{2}, true);
  q.join(kSeat, AcquireId{3}, true);
  EXPECT_EQ(q.leave(kSeat, AcquireId{2}), std::nullopt) << "cancelled while waiting";
  EXPECT_EQ(q.waiting(kSeat), 1U);
  EXPECT_EQ(q.leave(kSeat, AcquireId{1}), AcquireId{3});
  EXPECT_EQ(q.check(), "");
}

TEST(AcquireQueue, PassingTheTurnWithNobodyWaiting) {
  AcquireQueue q;
  q.join(kSeat, AcquireId{1}, true);
  EXPECT_EQ(q.pass_turn(kSeat, AcquireId{1}), std::nullopt);
  EXPECT_EQ(q.turn(kSeat), std::nullopt);
  // A later acquire gets the turn at once.
  EXPECT_EQ(q.join(kSeat, AcquireId{2}, true), AcquireQueue::Join::turn);
  EXPECT_EQ(q.check(), "");
}

}  // namespace
}  // namespace baton::core
