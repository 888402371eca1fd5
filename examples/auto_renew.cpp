// SPDX-License-Identifier: Apache-2.0
// auto_renew: a lease that renews itself for as long as a majority of its
// voters answers, and the on_lost callback that tells the holder when that
// stops. Member 1 holds a 1 s lease for three seconds; then members
// 2 and 3 stop, renewal can no longer reach a majority, and member 1 is told
// (renew_failing, reported before the validity would have run out, or
// expired); the lease ends there. Exit code 0 iff
// the lease outlived its ttl and the loss was reported.

#include <baton/baton.hpp>
#include <cstdio>
#include <future>
#include <thread>
#include <vector>

#include "ports.hpp"  // examples/common: free local ports

using namespace std::chrono_literals;

int main() {
  const auto ports = baton::examples::free_local_ports(3);
  if (ports.size() != 3) return 1;
  std::vector<std::unique_ptr<baton::Cluster>> members;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    baton::Config c;
    for (std::uint32_t m = 1; m <= 3; ++m) c.members.push_back({m, "127.0.0.1", ports[m - 1]});
    c.self = id;
    c.cluster_key = baton::ClusterKey{};
    c.cluster_key->fill(0x33);
    c.bootstrap = true;
    auto cluster = baton::Cluster::start(std::move(c));
    if (!cluster) return 1;
    members.push_back(std::move(*cluster));
  }

  std::promise<baton::LostReason> lost;
  baton::AcquireOptions opts;
  opts.ttl = 1s;
  opts.wait = 5s;
  opts.auto_renew = true;
  // Runs on member 1's loop thread: keep it short (here: hand the reason over).
  opts.on_lost = [&lost](baton::LostReason why) { lost.set_value(why); };
  auto lease = members[0]->acquire("leader", opts);
  if (!lease) return 1;
  const auto first_end = lease->validity_end();
  std::printf("leader: token %llu, ttl 1 s, auto-renew on\n", static_cast<unsigned long long>(lease->token()));

  // Work for three ttls; the lease keeps renewing itself.
  const auto until = baton::BootClock::now() + 3s;
  while (baton::BootClock::now() < until) std::this_thread::sleep_for(50ms);
  const bool outlived = lease->valid() && lease->validity_end() > first_end;
  std::printf("after 3 s: valid=%s, renewals=%llu\n", lease->valid() ? "yes" : "no",
              static_cast<unsigned long long>(members[0]->stats().renewed));

  // The majority goes away.
  members[1]->stop();
  members[2]->stop();
  auto reason = lost.get_future();
  if (reason.wait_for(10s) != std::future_status::ready) {
    std::printf("no loss reported\n");
    return 1;
  }
  const baton::LostReason why = reason.get();
  std::printf("lost: %s; valid now? %s\n", std::string(baton::lost_reason_name(why)).c_str(),
              lease->valid() ? "yes" : "no");
  return outlived && !lease->valid() ? 0 : 1;
}
