// SPDX-License-Identifier: Apache-2.0
// A small, seeded, deterministic PRNG (xoshiro256** seeded by splitmix64).
// The core never reads entropy itself: the runtime seeds it from the OS and
// the simulator from its seed, so a simulated run replays exactly.
#pragma once

#include <cstdint>

namespace baton::core {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& s : s_) s = splitmix(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, bound] inclusive; bound 0 gives 0.
  std::uint64_t uniform(std::uint64_t bound) {
    if (bound == 0) return 0;
    if (bound == UINT64_MAX) return next();
    const std::uint64_t range = bound + 1;
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    std::uint64_t x = 0;
    do {
      x = next();
    } while (x >= limit);
    return x % range;
  }
  // True with probability ppm / 1e6.
  bool chance_ppm(std::uint32_t ppm) { return uniform(999999) < ppm; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4]{};
};

}  // namespace baton::core
