// SPDX-License-Identifier: Apache-2.0
// rtt.hpp: the round-trip estimate is robust to rare huge samples, follows a
// faster network within two answers (one after a quiet spell), and forgets
// old samples.
#include "core/rtt.hpp"

#include <gtest/gtest.h>

namespace baton::core {
namespace {

const Instant T0 = Instant::from_ns(1'000'000'000);

TEST(Rtt, InitialUntilTheFirstSample) {
  RttEstimator e(Duration::ms(3));
  EXPECT_EQ(e.get(T0), Duration::ms(3));
  e.sample(T0, Duration::us(-5));  // ignored
  EXPECT_EQ(e.get(T0), Duration::ms(3));
  e.sample(T0, Duration::us(200));
  EXPECT_EQ(e.get(T0), Duration::us(200));
}

TEST(Rtt, ARareHugeSampleDoesNotMoveTheEstimate) {
  RttEstimator e(Duration::ms(1));
  Instant t = T0;
  for (int i = 0; i < 15; ++i) e.sample(t += Duration::ms(1), Duration::us(300));
  e.sample(t += Duration::ms(1), Duration::s(2));  // a paused peer answering late
  EXPECT_EQ(e.get(t), Duration::us(300));
}

TEST(Rtt, FollowsAFasterNetworkWithinTwoSamples) {
  // Seconds-long samples from a faulty phase fill the window; then the network
  // heals. Two fast answers bring the estimate down; one is not enough.
  RttEstimator e(Duration::ms(1));
  Instant t = T0;
  for (int i = 0; i < 16; ++i) e.sample(t += Duration::ms(100), Duration::s(1));
  e.sample(t += Duration::us(500), Duration::us(400));
  EXPECT_EQ(e.get(t), Duration::s(1)) << "one fast sample is not yet enough";
  e.sample(t += Duration::us(500), Duration::us(300));
  EXPECT_EQ(e.get(t), Duration::us(400)) << "the larger of the newest two";
}

TEST(Rtt, AfterAQuietSpellTheFirstAnswerAloneCounts) {
  // Seconds-long samples (a paused member answering late), then no traffic for
  // longer than recent_span, then one fast answer: it is the estimate.
  RttEstimator e(Duration::ms(1));
  Instant t = T0;
  for (int i = 0; i < 16; ++i) e.sample(t += Duration::ms(100), Duration::s(4));
  t += RttEstimator::recent_span;
  e.sample(t, Duration::us(450));
  EXPECT_EQ(e.get(t), Duration::s(4)) << "the newest two were exactly recent_span apart: still together";
  RttEstimator f(Duration::ms(1));
  t = T0;
  for (int i = 0; i < 16; ++i) f.sample(t += Duration::ms(100), Duration::s(4));
  t += RttEstimator::recent_span + Duration::ns(1);
  f.sample(t, Duration::us(450));
  EXPECT_EQ(f.get(t), Duration::us(450));
}

TEST(Rtt, FollowsASlowerNetworkByTheMedian) {
  RttEstimator e(Duration::ms(1));
  Instant t = T0;
  for (int i = 0; i < 16; ++i) e.sample(t += Duration::ms(1), Duration::us(100));
  for (int i = 0; i < 8; ++i) e.sample(t += Duration::ms(1), Duration::ms(5));
  EXPECT_EQ(e.get(t), Duration::ms(5)) << "half the window slow: the upper median";
}

TEST(Rtt, SamplesOlderThanTheAgeLimitAreForgotten) {
  RttEstimator e(Duration::ms(1));
  Instant t = T0;
  for (int i = 0; i < 16; ++i) e.sample(t += Duration::ms(1), Duration::s(2));
  EXPECT_EQ(e.get(t), Duration::s(2));
  EXPECT_EQ(e.get(t + RttEstimator::age_max), Duration::s(2)) << "the newest is exactly at the limit";
  EXPECT_EQ(e.get(t + RttEstimator::age_max + Duration::ns(1)), Duration::ms(1)) << "all stale: initial again";
  // A mix: only the fresh ones count.
  const Instant later = t + RttEstimator::age_max - Duration::ms(5);
  e.sample(later, Duration::us(250));
  EXPECT_EQ(e.get(t + RttEstimator::age_max + Duration::ms(1)), Duration::us(250));
}

}  // namespace
}  // namespace baton::core
