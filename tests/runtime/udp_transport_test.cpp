// SPDX-License-Identifier: Apache-2.0
// UdpTransport over real libuv on 127.0.0.1, on the test's own loop (no
// threads): sends take the uv_udp_try_send fast path, bounds and errors are
// counted, receives are batched (recvmmsg) and every datagram arrives whole,
// from its sender, once.
#include <gtest/gtest.h>
#include <uv.h>

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <vector>

#include "runtime/udp_transport.hpp"

namespace baton::runtime {
namespace {

TEST(AfterTrySend, Table) {
  struct Case {
    int result;
    TrySend expected;
  };
  const Case cases[] = {
      {.result = 0, .expected = TrySend::sent},
      {.result = 120, .expected = TrySend::sent},
      {.result = UV_EAGAIN, .expected = TrySend::queue},
      {.result = UV_ENOBUFS, .expected = TrySend::queue},
      {.result = UV_EINVAL, .expected = TrySend::failed},
      {.result = UV_ENETUNREACH, .expected = TrySend::failed},
      {.result = UV_EMSGSIZE, .expected = TrySend::failed},
  };
  for (const Case& c : cases) EXPECT_EQ(after_try_send(c.result), c.expected) << c.result;
}

// Two transports on one loop; closes both and checks the loop closes.
class Pair : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    auto local = parse_address("127.0.0.1", 0);
    ASSERT_TRUE(local.ok());
    ASSERT_TRUE(a_.start(&loop_, *local).ok());
    ASSERT_TRUE(b_.start(&loop_, *local).ok());
    auto to_b = parse_address("127.0.0.1", b_.local_port());
    ASSERT_TRUE(to_b.ok());
    to_b_ = *to_b;
  }
  void TearDown() override {
    uv_close(a_.handle(), nullptr);
    uv_close(b_.handle(), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  // Runs the loop until b has received `n` datagrams; returns them by first
  // byte (each test's datagrams differ there), checking that each came from a_.
  std::map<std::uint8_t, std::vector<std::uint8_t>> receive(std::size_t n) {
    std::map<std::uint8_t, std::vector<std::uint8_t>> got;
    std::vector<RecvSlot*> slots;
    std::size_t count = 0;
    while (count < n) {
      uv_run(&loop_, UV_RUN_ONCE);
      b_.take_received(slots);
      for (RecvSlot* s : slots) {
        ++count;
        EXPECT_EQ(s->from.ss_family, AF_INET);
        EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&s->from)->sin_port), a_.local_port());
        EXPECT_TRUE(got.emplace(s->bytes[0], std::vector<std::uint8_t>(s->bytes.begin(), s->bytes.begin() + static_cast<std::ptrdiff_t>(s->len)))
                        .second)
            << "received twice: " << int{s->bytes[0]};
        b_.recycle(s);
      }
    }
    return got;
  }

  uv_loop_t loop_{};
  UdpTransport a_{4, 4, [] {}};
  UdpTransport b_{4, 256, [] {}};
  sockaddr_storage to_b_{};
};

// Datagram i: 20 + 7i bytes, byte k = i + k (mod 256).
std::vector<std::uint8_t> numbered(std::size_t i) {
  std::vector<std::uint8_t> d(20 + 7 * i);
  for (std::size_t k = 0; k < d.size(); ++k) d[k] = static_cast<std::uint8_t>(i + k);
  return d;
}

TEST_F(Pair, SendsAtOnceWithoutTakingASlotAndReceivesInBatches) {
  EXPECT_TRUE(b_.batched_receive());  // recvmmsg: Linux, libuv >= 1.40
  // More datagrams than a_ has send slots: the fast path needs none. (An idle
  // loopback socket never makes uv_udp_try_send answer EAGAIN here.) They
  // all wait in b's socket before the loop runs, so recvmmsg reads them
  // several per call, each from its own chunk of the buffer.
  constexpr std::size_t n = 64;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(a_.send(to_b_, numbered(i))) << i;
    EXPECT_EQ(a_.sends_in_flight(), 0u) << i;
  }
  const TransportCounters c = a_.take_counters();
  EXPECT_EQ(c.sent, n);
  EXPECT_EQ(c.send_failures, 0u);

  const auto got = receive(n);
  ASSERT_EQ(got.size(), n);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(got.at(static_cast<std::uint8_t>(i)), numbered(i)) << i;
  const TransportCounters rc = b_.take_counters();
  EXPECT_EQ(rc.overflow, 0u);
  EXPECT_EQ(rc.oversized, 0u);
}

TEST_F(Pair, ReceivePoolBoundsQueuedDatagrams) {
  // A receiver with 4 receive slots that nobody drains: 4 of 10 datagrams
  // are queued, 6 dropped and counted as overflow.
  std::size_t queued = 0;
  UdpTransport small{4, 4, [&queued] { ++queued; }};
  auto local = parse_address("127.0.0.1", 0);
  ASSERT_TRUE(local.ok());
  ASSERT_TRUE(small.start(&loop_, *local).ok());
  auto to_small = parse_address("127.0.0.1", small.local_port());
  ASSERT_TRUE(to_small.ok());
  for (std::size_t i = 0; i < 10; ++i) ASSERT_TRUE(a_.send(*to_small, numbered(i)));
  std::uint64_t overflow = 0;
  while (queued + overflow < 10) {
    uv_run(&loop_, UV_RUN_ONCE);
    overflow += small.take_counters().overflow;
  }
  EXPECT_EQ(queued, 4u);
  EXPECT_EQ(overflow, 6u);
  std::vector<RecvSlot*> q;
  small.take_received(q);
  EXPECT_EQ(q.size(), 4u);
  for (RecvSlot* s : q) small.recycle(s);
  uv_close(small.handle(), nullptr);
  uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close before `small` goes out of scope
}

TEST_F(Pair, OversizedAndUnsendableAreCountedNotSent) {
  const std::vector<std::uint8_t> big(core::limits::datagram_bytes_max + 1, 1);
  EXPECT_FALSE(a_.send(to_b_, big));
  // An IPv6 destination from an IPv4 socket: the kernel refuses at once.
  auto v6 = parse_address("::1", b_.local_port());
  ASSERT_TRUE(v6.ok());
  const std::vector<std::uint8_t> small(10, 2);
  EXPECT_FALSE(a_.send(*v6, small));
  EXPECT_EQ(a_.sends_in_flight(), 0u);
  TransportCounters c = a_.take_counters();
  EXPECT_EQ(c.sent, 0u);
  EXPECT_EQ(c.send_failures, 2u);

  // The transport still works afterwards.
  const std::vector<std::uint8_t> ok(10, 3);
  EXPECT_TRUE(a_.send(to_b_, ok));
  const auto got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.at(3), ok);
  c = a_.take_counters();
  EXPECT_EQ(c.sent, 1u);
  EXPECT_EQ(c.send_failures, 0u);
}

}  // namespace
}  // namespace baton::runtime
