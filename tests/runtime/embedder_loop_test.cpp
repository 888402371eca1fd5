// SPDX-License-Identifier: Apache-2.0
// Baton on the application's own uv_loop_t: three members on one loop, run
// by the test thread; callbacks on that thread; blocking calls refused there;
// stop() between loop iterations, then the loop closes cleanly.
#include <gtest/gtest.h>
#include <uv.h>

#include <algorithm>
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

// Handles of `loop` that are idle handles and active (Driver's busy_poll).
int active_idle_handles(uv_loop_t* loop) {
  int n = 0;
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        if (h->type == UV_IDLE && uv_is_active(h) != 0) ++*static_cast<int*>(arg);
      },
      &n);
  return n;
}

// Config::busy_poll, seen from the application's loop: after a member sends
// an acquire's REQUESTs, its loop stops sleeping (an active idle handle makes
// libuv poll with timeout 0) while the answers are due and for busy_poll
// after the attempt ended, then sleeps again; without busy_poll it never
// polls. The peers are absent, so the answers never come and only the
// attempt's end starts the last window.
TEST(EmbedderLoop, BusyPollPollsWhileAnswersAreDueThenForTheWindow) {
  for (const bool busy : {false, true}) {
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    const auto ports = test::free_ports(3);
    Config cfg = test::member_config(ports, 1);
    cfg.bootstrap = true;  // no peer recovery: the peers never answer
    if (busy) cfg.busy_poll = busy_poll_max;
    auto c = Cluster::start_on_loop(cfg, &loop);
    ASSERT_TRUE(c.ok()) << c.what();
    uv_run(&loop, UV_RUN_NOWAIT);
    EXPECT_EQ(active_idle_handles(&loop), 0) << busy << ": nothing awaited yet";
    bool done = false;
    Errc failed = Errc::ok;
    AcquireOptions once;
    once.ttl = 1s;
    once.wait = 0s;
    ASSERT_TRUE((*c)->acquire("r", once, [&](Result<Lease> r) {
                      done = true;
                      failed = r.code();
                    }).ok());
    uv_run(&loop, UV_RUN_NOWAIT);  // the call runs: REQUESTs go out
    EXPECT_EQ(active_idle_handles(&loop), busy ? 1 : 0) << busy;
    if (busy) {
      EXPECT_EQ(uv_backend_timeout(&loop), 0) << "polling, not sleeping";
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done && std::chrono::steady_clock::now() < deadline) uv_run(&loop, UV_RUN_ONCE);
    ASSERT_TRUE(done);
    EXPECT_NE(failed, Errc::ok) << "no peer answered";
    // The window after the attempt's end: the loop keeps polling, then stops
    // once busy_poll has passed (the loop is run, not slept, meanwhile).
    const auto ended = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - ended < busy_poll_max + 20ms) uv_run(&loop, UV_RUN_NOWAIT);
    uv_run(&loop, UV_RUN_NOWAIT);
    EXPECT_EQ(active_idle_handles(&loop), 0) << busy << ": nothing due, the window passed";
    EXPECT_NE(uv_backend_timeout(&loop), 0) << busy << ": sleeping again";
    (*c)->stop();
    c->reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
  }
}

// Three members with busy_poll on one loop: only the acquirer polls. The
// voters send GRANTs but await nothing of their own, so they never poll; the
// acquirer polls until its grant and for busy_poll after it, not longer.
TEST(EmbedderLoop, BusyPollOnlyTheAcquirerPollsAndOnlyForTheWindow) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  const auto ports = test::free_ports(3);
  std::vector<std::unique_ptr<Cluster>> members;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    Config cfg = test::member_config(ports, id);
    cfg.busy_poll = busy_poll_max;
    auto c = Cluster::start_on_loop(cfg, &loop);
    ASSERT_TRUE(c.ok()) << c.what();
    members.push_back(std::move(*c));
  }
  Lease held;
  AcquireOptions o;
  o.ttl = 2s;
  o.wait = 5s;
  ASSERT_TRUE(members[0]->acquire("r", o, [&](Result<Lease> r) {
                            ASSERT_TRUE(r.ok()) << r.what();
                            held = std::move(*r);
                          }).ok());
  uv_run(&loop, UV_RUN_NOWAIT);
  EXPECT_EQ(active_idle_handles(&loop), 1) << "the acquirer polls for its answers";
  int most = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto before_run = std::chrono::steady_clock::now();  // the grant came after this
  while (!held.valid() && std::chrono::steady_clock::now() < deadline) {
    before_run = std::chrono::steady_clock::now();
    uv_run(&loop, UV_RUN_NOWAIT);
    most = std::max(most, active_idle_handles(&loop));
  }
  ASSERT_TRUE(held.valid());
  const auto granted = std::chrono::steady_clock::now();
  // Right after the grant the window is open: the acquirer still polls, for
  // the caller's next call. Only meaningful while the window surely lasts (a
  // slow sanitizer run may get here later).
  if (granted - before_run < busy_poll_max / 2) {
    EXPECT_EQ(active_idle_handles(&loop), 1) << "the acquirer lingers after its grant";
    EXPECT_EQ(uv_backend_timeout(&loop), 0) << "polling, not sleeping";
  }
  while (std::chrono::steady_clock::now() - granted < busy_poll_max + 20ms) {
    uv_run(&loop, UV_RUN_NOWAIT);
    most = std::max(most, active_idle_handles(&loop));
  }
  EXPECT_EQ(most, 1) << "a voter polled";
  uv_run(&loop, UV_RUN_NOWAIT);
  EXPECT_EQ(active_idle_handles(&loop), 0) << "the window after the grant passed";
  held = Lease{};
  for (auto& c : members) c->stop();
  members.clear();
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace baton
