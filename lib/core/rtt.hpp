// RttEstimator: the round-trip time that scales retry jitter and attempt
// timeouts. The median of the last `window` samples: a few enormous delays
// (a partition healing, a paused peer answering late) do not inflate it the
// way an exponential average does, so hand-offs stay fast once the network is
// healthy again (found by the simulator: seed 56 waited seconds after healing
// because one long-tail sample had pushed a smoothed estimate to ~1 s).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "core/time.hpp"

namespace baton::core {

class RttEstimator {
 public:
  static constexpr std::size_t window = 16;

  explicit RttEstimator(Duration initial) : median_(initial) {}

  void sample(Duration d) {
    if (d < Duration::zero()) return;
    samples_[next_] = d;
    next_ = (next_ + 1) % window;
    if (count_ < window) ++count_;
    std::array<Duration, window> sorted{};
    std::copy_n(samples_.begin(), count_, sorted.begin());
    std::nth_element(sorted.begin(), sorted.begin() + count_ / 2, sorted.begin() + count_);
    median_ = max(sorted[count_ / 2], Duration::us(1));
  }

  // The estimate: `initial` until the first sample, then the recent median.
  Duration get() const { return median_; }

 private:
  std::array<Duration, window> samples_{};  // ring of recent samples
  std::size_t next_ = 0;                    // slot for the next sample
  std::size_t count_ = 0;                   // samples held, <= window
  Duration median_;
};

}  // namespace baton::core
