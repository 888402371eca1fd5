// SPDX-License-Identifier: Apache-2.0
// hello_lease: three members of a cluster in one process (each its own
// Cluster and loop thread, talking UDP over 127.0.0.1). Member 1 takes a
// lease, works, releases; member 2 takes the same resource and gets a higher
// fencing token.

#include <baton/baton.hpp>
#include <cstdio>
#include <vector>

#include "ports.hpp"  // examples/common: free local ports

using namespace std::chrono_literals;

static baton::Config config_for(const std::vector<std::uint16_t>& ports, std::uint32_t self) {
  baton::Config c;
  for (std::uint32_t id = 1; id <= ports.size(); ++id) c.members.push_back({id, "127.0.0.1", ports[id - 1]});
  c.self = self;
  c.cluster_key = baton::ClusterKey{};  // in production: 32 random bytes shared by every member
  c.cluster_key->fill(0x42);
  c.bootstrap = true;                   // first start of this cluster, no state directory
  c.ttl_max = std::chrono::seconds{30};
  return c;
}

int main() {
  const auto ports = baton::examples::free_local_ports(3);
  if (ports.size() != 3) return 1;
  std::vector<std::unique_ptr<baton::Cluster>> members;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    auto c = baton::Cluster::start(config_for(ports, id));
    if (!c) {
      std::fprintf(stderr, "member %u: %s\n", id, std::string(c.what()).c_str());
      return 1;
    }
    members.push_back(std::move(*c));
  }

  baton::AcquireOptions opts;
  opts.ttl = 5s;
  opts.wait = 5s;
  std::uint64_t first_token = 0;
  {
    auto lease = members[0]->acquire("seat:14A", opts);
    if (!lease) {
      std::fprintf(stderr, "acquire: %s\n", std::string(lease.what()).c_str());
      return 1;
    }
    first_token = lease->token();
    std::printf("member 1 holds %s with token %llu, %lld ms left\n", lease->resource().c_str(),
                static_cast<unsigned long long>(first_token),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(lease->time_left()).count()));
    // ... work on seat:14A, passing lease->token() along with every write ...
    auto busy = members[1]->try_acquire("seat:14A", 5s);
    std::printf("member 2 meanwhile: %s\n", std::string(baton::errc_name(busy.code())).c_str());
    // busy; or unavailable if, on a loaded machine, the denials came after
    // the single attempt's timeout. Either way: not granted.
    if (busy.ok()) return 1;
  }  // the Lease destructor releases it

  auto next = members[1]->acquire("seat:14A", opts);
  if (!next) {
    std::fprintf(stderr, "acquire: %s\n", std::string(next.what()).c_str());
    return 1;
  }
  std::printf("member 2 holds %s with token %llu (> %llu)\n", next->resource().c_str(),
              static_cast<unsigned long long>(next->token()), static_cast<unsigned long long>(first_token));
  return next->token() > first_token ? 0 : 1;
}
