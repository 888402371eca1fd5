// SPDX-License-Identifier: Apache-2.0
// RttEstimator: the round-trip time that scales retry jitter and attempt
// timeouts, from the last `window` samples that are younger than `age_max`.
//
//   estimate = min(median of the fresh samples, largest of the newest `recent`)
//
// The median ignores a few enormous delays (a partition healing, a paused peer
// answering late), which an exponential average would not: the simulator's
// seed 56 waited seconds after healing because one long-tail sample had pushed
// a smoothed estimate to ~1 s. The second term follows a network that got
// faster as soon as two answers say so: after a faulty phase the median of 16
// stays at seconds until 9 fast samples came in, and a waiter that had heard
// only 3 denials retried after a FREE hundreds of milliseconds late (seed 1315;
// with the newest 4 it still needed a fourth). The age limit forgets samples
// from a faulty phase long past: seed 1106's restarted member, after 90 quiet
// seconds, still held a median of seconds-long samples. With no fresh sample
// the estimate is `initial` again. The newest samples count together only
// when they came within `recent_span` of each other: after a quiet spell, the
// first answer alone speaks for the network as it is now (the simulator's
// seed 514 with one member kept down: an answer after 7.7 quiet seconds was
// paired with a sample from a paused spell, and the estimate stayed 4.3 s).
//
// Erring low is safe: jitter that is too short loses one more split vote and
// doubles (acquirer.hpp), and an attempt that times out doubles its timeout.
// Erring high costs every hand-off its whole excess.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "core/time.hpp"

namespace baton::core {

class RttEstimator {
 public:
  static constexpr std::size_t window = 16;
  static constexpr std::size_t recent = 2;
  static constexpr Duration age_max = Duration::s(10);
  static constexpr Duration recent_span = Duration::s(1);

  explicit RttEstimator(Duration initial) : initial_(initial) {}

  // A round trip of `d` measured at `now`. Negative samples are ignored.
  void sample(Instant now, Duration d) {
    if (d < Duration::zero()) return;
    samples_[next_] = Sample{now, max(d, Duration::us(1))};
    next_ = (next_ + 1) % window;
    if (count_ < window) ++count_;
  }

  // The estimate at `now`.
  Duration get(Instant now) const {
    std::array<Duration, window> fresh{};
    std::size_t n = 0;
    Duration newest_max = Duration::zero();
    Instant newest_at;
    // Walk from the newest sample back; the ring is in time order.
    for (std::size_t k = 0; k < count_; ++k) {
      const Sample& s = samples_[(next_ + window - 1 - k) % window];
      if (now - s.at > age_max) break;  // this one and all older ones are stale
      if (n == 0) newest_at = s.at;
      if (n < recent && newest_at - s.at <= recent_span) newest_max = max(newest_max, s.d);
      fresh[n++] = s.d;
    }
    if (n == 0) return initial_;
    std::nth_element(fresh.begin(), fresh.begin() + n / 2, fresh.begin() + n);
    return min(fresh[n / 2], newest_max);
  }

 private:
  struct Sample {
    Instant at;
    Duration d;
  };
  std::array<Sample, window> samples_{};  // ring of recent samples, oldest overwritten
  std::size_t next_ = 0;                  // slot for the next sample
  std::size_t count_ = 0;                 // samples held, <= window
  Duration initial_;
};

}  // namespace baton::core
