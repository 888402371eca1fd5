// UdpTransport over real libuv on 127.0.0.1, on the test's own loop (no
// threads): sends take the uv_udp_try_send fast path, bounds and errors are
// counted, nothing is received twice or lost on an idle loopback.
#include <gtest/gtest.h>
#include <uv.h>

#include <cstdint>
#include <set>
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
  // Runs the loop until b has received `n` datagrams; returns their first bytes.
  std::multiset<std::uint8_t> receive(std::size_t n) {
    std::multiset<std::uint8_t> got;
    std::vector<RecvSlot*> slots;
    while (got.size() < n) {
      uv_run(&loop_, UV_RUN_ONCE);
      b_.take_received(slots);
      for (RecvSlot* s : slots) {
        got.insert(s->bytes[0]);
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

TEST_F(Pair, SendsAtOnceWithoutTakingASlot) {
  // More datagrams than a_ has send slots: the fast path needs none. (An idle
  // loopback socket never makes uv_udp_try_send answer EAGAIN here.)
  constexpr std::size_t n = 64;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::uint8_t> d(100, static_cast<std::uint8_t>(i));
    ASSERT_TRUE(a_.send(to_b_, d)) << i;
    EXPECT_EQ(a_.sends_in_flight(), 0u) << i;
  }
  const TransportCounters c = a_.take_counters();
  EXPECT_EQ(c.sent, n);
  EXPECT_EQ(c.send_failures, 0u);

  std::multiset<std::uint8_t> expected;
  for (std::size_t i = 0; i < n; ++i) expected.insert(static_cast<std::uint8_t>(i));
  EXPECT_EQ(receive(n), expected);
  EXPECT_EQ(b_.take_counters().overflow, 0u);
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
  EXPECT_EQ(receive(1), std::multiset<std::uint8_t>{3});
  c = a_.take_counters();
  EXPECT_EQ(c.sent, 1u);
  EXPECT_EQ(c.send_failures, 0u);
}

}  // namespace
}  // namespace baton::runtime
