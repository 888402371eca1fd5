// Baton on the application's own uv_loop_t: three members on one loop, run
// by the test thread; callbacks on that thread; blocking calls refused there;
// stop() between loop iterations, then the loop closes cleanly.
#include <gtest/gtest.h>
#include <uv.h>

#include <thread>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;

TEST(EmbedderLoop, ThreeMembersOnTheApplicationsLoop) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  const auto ports = test::free_ports(3);
  std::vector<std::unique_ptr<Cluster>> members;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    auto c = Cluster::start_on_loop(test::member_config(ports, id), &loop);
    ASSERT_TRUE(c.ok()) << c.what();
    members.push_back(std::move(*c));
  }
  const auto test_thread = std::this_thread::get_id();
  std::uint64_t first_token = 0;
  std::uint64_t second_token = 0;
  bool on_loop_thread = true;
  Errc blocking_on_loop = Errc::ok;
  Lease kept;
  AcquireOptions o;
  o.ttl = 2s;
  o.wait = 5s;
  ASSERT_TRUE(members[0]->acquire("r", o, [&](Result<Lease> r) {
                         on_loop_thread = on_loop_thread && std::this_thread::get_id() == test_thread;
                         ASSERT_TRUE(r.ok()) << r.what();
                         first_token = r->token();
                         // A blocking call here would wait for this very thread.
                         blocking_on_loop = members[1]->try_acquire("r", 1s).code();
                         // Hand over: release, then member 2 takes it.
                         ASSERT_TRUE(r->release().ok());
                         ASSERT_TRUE(members[1]->acquire("r", o, [&](Result<Lease> r2) {
                                                  on_loop_thread = on_loop_thread && std::this_thread::get_id() == test_thread;
                                                  ASSERT_TRUE(r2.ok()) << r2.what();
                                                  second_token = r2->token();
                                                  kept = std::move(*r2);
                                                }).ok());
                       }).ok());

  // The application's loop: run until the handover happened (bounded).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (second_token == 0 && std::chrono::steady_clock::now() < deadline) uv_run(&loop, UV_RUN_ONCE);
  EXPECT_TRUE(on_loop_thread);
  EXPECT_EQ(blocking_on_loop, Errc::invalid_argument);
  ASSERT_GT(first_token, 0u);
  ASSERT_GT(second_token, first_token);
  EXPECT_TRUE(kept.valid());

  // Stop on the loop's thread, outside callbacks; the handles close as the
  // loop keeps running, after which the loop closes with nothing left.
  for (auto& c : members) c->stop();
  EXPECT_FALSE(kept.valid());
  members.clear();
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace baton
