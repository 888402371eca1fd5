// SPDX-License-Identifier: Apache-2.0
// Helpers for the runtime tests: N members on 127.0.0.1 in one process, each
// its own Cluster (its own loop thread), on ports the kernel picked.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "baton/baton.hpp"
#include "ports.hpp"  // examples/common

namespace baton::test {

using namespace std::chrono_literals;

// Distinct free ports on 127.0.0.1 (examples/common/ports.hpp, shared with
// the examples). Another process could take one in the tiny window before
// the members bind; start_members() retries then.
inline std::vector<std::uint16_t> free_ports(std::size_t n) {
  auto ports = baton::examples::free_local_ports(n);
  EXPECT_EQ(ports.size(), n) << "no " << n << " free local ports";
  return ports;
}

inline ClusterKey test_key(std::uint8_t seed = 7) {
  ClusterKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed + i * 13);
  return k;
}

// A config for member `self` of `ports.size()` members (ids 1..n), with short
// ttls so tests take milliseconds to seconds.
inline Config member_config(const std::vector<std::uint16_t>& ports, std::uint32_t self) {
  Config c;
  for (std::size_t i = 0; i < ports.size(); ++i)
    c.members.push_back({static_cast<std::uint32_t>(i + 1), "127.0.0.1", ports[i]});
  c.self = self;
  c.cluster_key = test_key();
  c.cluster_id = 77;
  c.bootstrap = true;
  c.ttl_min = 20ms;
  c.ttl_max = 5s;
  c.margin = 2ms;
  return c;
}

// Starts members 1..n (skipping ids in `skip`, whose ports are still
// reserved in the configs). `edit` may adjust each config.
struct Members {
  std::vector<std::uint16_t> ports;
  std::vector<std::unique_ptr<Cluster>> clusters;  // index i: member i+1 (null if skipped)
  Cluster& operator[](std::size_t member_id) { return *clusters.at(member_id - 1); }
};

inline Members start_members(std::size_t n, std::vector<std::uint32_t> skip = {},
                             const std::function<void(Config&)>& edit = {}) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    Members m;
    m.ports = free_ports(n);
    bool ok = true;
    for (std::uint32_t id = 1; id <= n; ++id) {
      if (std::find(skip.begin(), skip.end(), id) != skip.end()) {
        m.clusters.emplace_back();
        continue;
      }
      Config c = member_config(m.ports, id);
      if (edit) edit(c);
      auto r = Cluster::start(std::move(c));
      if (!r) {
        EXPECT_EQ(r.code(), Errc::io_error) << r.what();  // a port taken meanwhile: retry
        ok = false;
        break;
      }
      m.clusters.push_back(std::move(*r));
    }
    if (ok) return m;
  }
  ADD_FAILURE() << "could not start the members";
  return {};
}

// Acquire options with `ttl` and `wait` (0: one attempt).
inline AcquireOptions opts(std::chrono::nanoseconds ttl, std::chrono::nanoseconds wait = 0ns) {
  AcquireOptions o;
  o.ttl = ttl;
  o.wait = wait;
  return o;
}

// An attempt on a resource held elsewhere is refused: busy, or unavailable
// when the denials arrived after the attempt's timeout (a loaded machine).
inline bool refused(Errc e) { return e == Errc::busy || e == Errc::unavailable; }

// Polls `cond` until true or `timeout` (generous: the machine is loaded).
inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return cond();
}

}  // namespace baton::test
