// SPDX-License-Identifier: Apache-2.0
// Driver's API calls (acquire, release, renew, set_auto_renew): the only way
// the layer above changes the Node. Each reads the clock itself, and its
// output is flushed at once outside a batch, or by the batch it runs in.
// One member on 127.0.0.1, on a loop run by the test's own thread: a
// one-member cluster votes in-process, so every outcome is known when the
// call's flush ends.
#include <gtest/gtest.h>
#include <uv.h>

#include <functional>
#include <optional>
#include <vector>

#include "core/drift.hpp"
#include "runtime/clock.hpp"
#include "runtime/driver.hpp"

namespace baton::runtime {
namespace {

using core::Duration;
using core::EventKind;

struct Recorder final : DriverHooks {
  std::vector<core::Event> events;
  std::function<void(const core::Event&)> on_each;  // runs inside the flush, as the API's hooks do
  std::function<void()> at_shutdown;
  int batches = 0;
  void on_event(const core::Event& e) override {
    events.push_back(e);
    if (on_each) on_each(e);
  }
  void on_batch_end(const core::Node& /*node*/, const DriverCounters& /*counters*/) override { ++batches; }
  void on_shutdown() override {
    if (at_shutdown) at_shutdown();
  }
  void on_new_life(const core::NewLife& /*life*/) override {}
  void log(LogLevel /*level*/, std::string_view /*text*/) override {}
};

class DriverApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    DriverConfig c;
    c.node.members = {core::MemberId{1}};
    c.node.self = core::MemberId{1};
    c.node.incarnation = core::Incarnation{1};
    c.node.recovery = core::RecoveryMode::first_start;  // votes at once
    auto addr = parse_address("127.0.0.1", 0);
    ASSERT_TRUE(addr.ok());
    c.bind_to = *addr;
    c.seed = 1;
    node_config_ = c.node;
    auto d = Driver::create(&loop_, std::move(c), &hooks_);
    ASSERT_TRUE(d.ok()) << d.what();
    driver_ = *d;
  }

  void TearDown() override {
    if (driver_ != nullptr) {
      bool closed = false;
      driver_->shutdown([&closed] { closed = true; });
      while (!closed) uv_run(&loop_, UV_RUN_ONCE);
      delete driver_;
    }
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  AcquireCall call(const char* resource, Duration ttl = Duration::s(1)) {
    return AcquireCall{.resource = core::ResourceName(resource), .ttl = ttl, .wait = Duration::zero(), .auto_renew = false};
  }

  // Runs the loop until `done` or 2 s on the clock.
  void run_until(const std::function<bool()>& done) {
    const core::Instant until = boot_now() + Duration::s(2);
    while (!done() && boot_now() < until) uv_run(&loop_, UV_RUN_NOWAIT);
  }

  uv_loop_t loop_{};
  Recorder hooks_;
  core::NodeConfig node_config_;
  Driver* driver_ = nullptr;
};

// Outside any batch (the loop thread, no task, no hook): each call's output is
// flushed and its events delivered before it returns.
TEST_F(DriverApi, CallsOutsideABatchFlushAtOnce) {
  const int batches = hooks_.batches;
  const core::Instant before = boot_now();
  auto id = driver_->acquire(call("seat:14A"));
  const core::Instant after = boot_now();
  ASSERT_TRUE(id.ok()) << id.what();
  ASSERT_EQ(hooks_.events.size(), 1u);
  const core::Event granted = hooks_.events[0];
  EXPECT_EQ(granted.kind, EventKind::acquired);
  EXPECT_EQ(granted.id, *id);
  EXPECT_GT(hooks_.batches, batches) << "the stats snapshot follows the flush";
  // The Driver read t0 during the call: the validity end is the one of a t0
  // between the readings taken around it.
  const auto validity_from = [&](core::Instant t0) {
    return core::drift::validity_end(t0, Duration::s(1), node_config_.rho_ppm, node_config_.margin);
  };
  EXPECT_GE(granted.validity_end, validity_from(before));
  EXPECT_LE(granted.validity_end, validity_from(after));

  // Renew: a round from a fresh t_r, so the end moves later.
  ASSERT_TRUE(driver_->renew(*id).ok());
  ASSERT_EQ(hooks_.events.size(), 2u);
  EXPECT_EQ(hooks_.events[1].kind, EventKind::renewed);
  EXPECT_GE(hooks_.events[1].validity_end, granted.validity_end);

  ASSERT_TRUE(driver_->set_auto_renew(*id, true).ok());
  ASSERT_TRUE(driver_->node().lease(*id).has_value());
  EXPECT_TRUE(driver_->node().lease(*id)->auto_renew);

  ASSERT_TRUE(driver_->release(*id).ok());
  EXPECT_FALSE(driver_->node().lease(*id).has_value());
  EXPECT_EQ(driver_->node().status().live_leases, 0u);
  // Unknown ids: the Node's errors, nothing changed.
  EXPECT_EQ(driver_->release(*id).code(), Errc::not_held);
  EXPECT_EQ(driver_->renew(*id).code(), Errc::not_held);
  EXPECT_EQ(driver_->set_auto_renew(*id, false).code(), Errc::not_held);
  EXPECT_EQ(hooks_.events.size(), 2u);
}

// A refused acquire (core::check_acquire inside Node::acquire) changes
// nothing and emits nothing.
TEST_F(DriverApi, BadAcquireIsRefusedWithTheValueAtFault) {
  const std::uint64_t acquires = driver_->node().stats().acquires;
  auto r = driver_->acquire(call("seat:14A", Duration::ms(5)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  EXPECT_EQ(r.what(), "ttl: 5ms outside [ttl_min 10ms, ttl_max 60s]");
  auto empty = driver_->acquire(call(""));
  EXPECT_EQ(empty.what(), "resource: empty name; must be 1..128 bytes");
  EXPECT_TRUE(hooks_.events.empty());
  EXPECT_EQ(driver_->node().stats().acquires, acquires);
  EXPECT_EQ(driver_->node().status().in_flight, 0u);
}

// In a posted task the calls only reach the Node; the batch the mailbox runs
// after its tasks flushes them all at once.
TEST_F(DriverApi, CallsInAPostedTaskShareTheBatchFlush) {
  std::vector<std::size_t> events_seen_in_task;
  std::vector<core::AcquireId> ids;
  ASSERT_TRUE(driver_
                  ->post([&] {
                    for (const char* r : {"seat:1", "seat:2"}) {
                      auto id = driver_->acquire(call(r));
                      ASSERT_TRUE(id.ok()) << id.what();
                      ids.push_back(*id);
                      events_seen_in_task.push_back(hooks_.events.size());
                    }
                  })
                  .ok());
  run_until([&] { return hooks_.events.size() == 2; });
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(events_seen_in_task, (std::vector<std::size_t>{0, 0})) << "no flush inside the task";
  ASSERT_EQ(hooks_.events.size(), 2u);
  EXPECT_EQ(hooks_.events[0].id, ids[0]);
  EXPECT_EQ(hooks_.events[1].id, ids[1]);
  for (const core::Event& e : hooks_.events) EXPECT_EQ(e.kind, EventKind::acquired);
}

// From a hook (inside the flush that delivers the event) a call does not
// flush again: the running flush takes its output in its next round.
TEST_F(DriverApi, CallsFromHooksRunInTheFlushThatCalledThem) {
  hooks_.on_each = [this](const core::Event& e) {
    if (e.kind == EventKind::acquired) {
      EXPECT_TRUE(driver_->release(e.id).ok());
    }
  };
  auto id = driver_->acquire(call("seat:14A"));
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(driver_->node().lease(*id).has_value()) << "released by the hook";
  EXPECT_EQ(driver_->node().status().live_leases, 0u);
}

// on_shutdown releases through the Driver; once shutdown's final flush is
// done, calls are refused with stopped.
TEST_F(DriverApi, ShutdownHookReleasesThenCallsAreStopped) {
  auto id = driver_->acquire(call("seat:14A"));
  ASSERT_TRUE(id.ok());
  std::optional<Result<void>> released;
  hooks_.at_shutdown = [&] { released = driver_->release(*id); };
  bool closed = false;
  driver_->shutdown([&closed] { closed = true; });
  ASSERT_TRUE(released.has_value());
  EXPECT_TRUE(released->ok()) << released->what();
  EXPECT_EQ(driver_->node().status().live_leases, 0u);
  EXPECT_EQ(driver_->acquire(call("seat:15B")).code(), Errc::stopped);
  EXPECT_EQ(driver_->release(*id).code(), Errc::stopped);
  while (!closed) uv_run(&loop_, UV_RUN_ONCE);
  delete driver_;
  driver_ = nullptr;
}

}  // namespace
}  // namespace baton::runtime
