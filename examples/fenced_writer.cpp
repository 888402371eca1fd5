// SPDX-License-Identifier: Apache-2.0
// fenced_writer: why fencing tokens matter. A "storage server" protects a
// row with FenceGuard. Writer A holds the lease, writes, then stalls past its
// validity (a GC pause, a swapped-out process). Writer B takes the lease over
// with a higher token and writes. A wakes up and writes with its old token:
// the storage rejects it. Exit code 0 iff that is what happened.

#include <baton/baton.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "ports.hpp"  // examples/common: free local ports

using namespace std::chrono_literals;

// The protected resource: a row and the guard in front of it. In a real
// system this is a database (see the SQL form in docs/api.md) or a service.
class Storage {
 public:
  baton::Result<void> write(std::uint64_t token, const std::string& value) {
    // Check and write under the guard's lock: no lower token can slip in between.
    return guard_.guarded("row:42", token, [&] { row_ = value; });
  }
  std::string row() const { return row_; }

 private:
  baton::FenceGuard guard_;
  std::string row_;
};

int main() {
  const auto ports = baton::examples::free_local_ports(3);
  if (ports.size() != 3) return 1;
  std::vector<std::unique_ptr<baton::Cluster>> members;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    baton::Config c;
    for (std::uint32_t m = 1; m <= 3; ++m) c.members.push_back({m, "127.0.0.1", ports[m - 1]});
    c.self = id;
    c.cluster_key = baton::ClusterKey{};
    c.cluster_key->fill(0x17);
    c.bootstrap = true;
    auto cluster = baton::Cluster::start(std::move(c));
    if (!cluster) return 1;
    members.push_back(std::move(*cluster));
  }
  Storage storage;

  baton::AcquireOptions opts;
  opts.ttl = 300ms;
  opts.wait = 10s;
  auto a = members[0]->acquire("row:42", opts);
  if (!a) return 1;
  std::printf("A: token %llu, write: %s\n", static_cast<unsigned long long>(a->token()),
              std::string(baton::errc_name(storage.write(a->token(), "from A").code())).c_str());

  // A stalls past its validity (here: a plain sleep on A's thread).
  while (a->valid()) std::this_thread::sleep_for(10ms);
  std::printf("A: stalled; lease valid now? %s\n", a->valid() ? "yes" : "no");

  auto b = members[1]->acquire("row:42", opts);
  if (!b) return 1;
  std::printf("B: token %llu, write: %s\n", static_cast<unsigned long long>(b->token()),
              std::string(baton::errc_name(storage.write(b->token(), "from B").code())).c_str());

  // A wakes up and, not checking valid(), writes anyway. Fencing saves the row.
  const auto late = storage.write(a->token(), "late write from A");
  std::printf("A: late write with token %llu: %s (%s)\n", static_cast<unsigned long long>(a->token()),
              std::string(baton::errc_name(late.code())).c_str(), std::string(late.what()).c_str());
  std::printf("row = \"%s\"\n", storage.row().c_str());
  return late.code() == baton::Errc::stale_token && storage.row() == "from B" ? 0 : 1;
}
