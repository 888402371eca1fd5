// SPDX-License-Identifier: Apache-2.0
// Loss ordering (issue 19): when a lease is lost, the application can see it
// is over (Lease::valid() false, on_lost running) before any voter is told
// with RELEASE. Otherwise a voter could hand the lease to a waiter one round
// trip later while the old holder still believed in it.
//
// Member 3 is in every config but not started: the test's raw socket sits on
// its port and hears what member 1 sends to member 3. Loopback UDP delivers
// a datagram into that socket's buffer during the sender's sendmsg call, so
// a RELEASE already sent is already readable when on_lost runs.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <variant>

#include "codec/codec.hpp"
#include "raw_socket.hpp"
#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

// Reads every datagram waiting on `raw` now (no waiting); counts RELEASEs.
std::size_t releases_waiting(test::RawSocket& raw) {
  codec::ClusterKey key;
  key.bytes = test::test_key();
  std::size_t n = 0;
  std::vector<std::uint8_t> bytes;
  while (raw.receive(bytes, 0) > 0) {
    codec::Decoded d;
    if (codec::decode(bytes, &key, 77, d)) continue;  // not one of member 1's datagrams
    for (const core::Message& m : d.messages) n += std::holds_alternative<core::Release>(m);
  }
  return n;
}

TEST(LossOrdering, TheHolderSeesTheLossBeforeAnyVoterIsReleased) {
  auto m = test::start_members(3, {3});
  test::RawSocket raw(m.ports[2]);
  ASSERT_TRUE(raw.bound()) << "member 3's port was taken meanwhile";

  std::atomic<Lease*> held{nullptr};
  std::promise<void> lost;
  std::atomic<bool> valid_in_callback{true};
  std::atomic<std::size_t> released_before{0};
  AcquireOptions o;
  o.ttl = 600ms;
  o.wait = 5s;
  o.auto_renew = true;
  // Runs on member 1's loop thread, inside the batch that decided the loss.
  o.on_lost = [&](LostReason) {
    Lease* l = held.load();
    valid_in_callback = l != nullptr && l->valid();
    released_before = releases_waiting(raw);
    lost.set_value();
  };
  auto lease = m[1].acquire("seat:14A", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  held = &*lease;
  (void)releases_waiting(raw);  // the REQUEST, and nothing else yet

  // Member 2 stops answering: renewals get member 1's own ack only, so the
  // lease is lost (renew_failing) at the cut-off, before its validity end.
  m.clusters[1].reset();
  auto f = lost.get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(lease->lost_reason(), LostReason::renew_failing);
  EXPECT_FALSE(valid_in_callback.load()) << "valid() was still true when the application was told";
  EXPECT_EQ(released_before.load(), 0u) << "member 3 had the RELEASE before the application knew of the loss";
  // ... and the RELEASE does come, after.
  EXPECT_TRUE(eventually([&] { return releases_waiting(raw) > 0; }));
}

}  // namespace
}  // namespace baton
