// SPDX-License-Identifier: Apache-2.0
// Latency samples and percentiles shared by the process-level benchmarks
// (floor, Redlock, Baton member). Samples are nanoseconds; reports are
// microseconds, printed as one JSON object per line (nlohmann-json) so that
// scripts/bench.sh can collect them.
#pragma once

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace baton::bench {

// CLOCK_MONOTONIC in nanoseconds (what uv_hrtime reads, without libuv).
inline std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Percentiles {
  std::size_t n = 0;
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
  double mean_us = 0;
};

// Nearest-rank percentiles of `ns` (sorted in place).
inline Percentiles percentiles(std::vector<std::int64_t>& ns) {
  Percentiles p;
  p.n = ns.size();
  if (ns.empty()) return p;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(ns.size()));
    if (i >= ns.size()) i = ns.size() - 1;
    return static_cast<double>(ns[i]) / 1000.0;
  };
  p.p50_us = at(0.50);
  p.p99_us = at(0.99);
  p.p999_us = at(0.999);
  p.max_us = static_cast<double>(ns.back()) / 1000.0;
  double sum = 0;
  for (auto v : ns) sum += static_cast<double>(v);
  p.mean_us = sum / static_cast<double>(ns.size()) / 1000.0;
  return p;
}

// `x` rounded to one decimal: the reports give microseconds to 0.1.
inline double tenths(double x) { return std::round(x * 10.0) / 10.0; }

// Adds "n", "p50_us", "p99_us", "p999_us", "max_us", "mean_us" to `out`.
inline void add_fields(nlohmann::ordered_json& out, const Percentiles& p) {
  out["n"] = p.n;
  out["p50_us"] = tenths(p.p50_us);
  out["p99_us"] = tenths(p.p99_us);
  out["p999_us"] = tenths(p.p999_us);
  out["max_us"] = tenths(p.max_us);
  out["mean_us"] = tenths(p.mean_us);
}

// {"n":..,"p50_us":..,...}
inline nlohmann::ordered_json to_json(const Percentiles& p) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  add_fields(out, p);
  return out;
}

}  // namespace baton::bench
