// SPDX-License-Identifier: Apache-2.0
// embedder_loop: Baton on the application's own libuv loop. The application
// runs one uv_loop_t with its own handles (here a timer ticking) and adds
// three Baton members to it: no thread of Baton's, every callback on the
// application's thread. Blocking calls are not allowed on the loop thread,
// so the callback forms are used.
#include <uv.h>

#include <baton/baton.hpp>
#include <cstdio>
#include <vector>

#include "ports.hpp"  // examples/common: free local ports

using namespace std::chrono_literals;

struct App {
  uv_loop_t loop{};
  uv_timer_t tick{};
  int ticks = 0;
  std::vector<std::unique_ptr<baton::Cluster>> members;
  baton::Lease lease;
  bool done = false;  // the lease was taken and released
  bool ok = false;
};

int main() {
  App app;
  if (uv_loop_init(&app.loop) != 0) return 1;
  const auto ports = baton::examples::free_local_ports(3);
  if (ports.size() != 3) return 1;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    baton::Config c;
    for (std::uint32_t m = 1; m <= 3; ++m) c.members.push_back({m, "127.0.0.1", ports[m - 1]});
    c.self = id;
    c.cluster_key = baton::ClusterKey{};
    c.cluster_key->fill(0x5a);
    c.bootstrap = true;
    // On the loop's thread, before (or while) the loop runs.
    auto cluster = baton::Cluster::start_on_loop(std::move(c), &app.loop);
    if (!cluster) return 1;
    app.members.push_back(std::move(*cluster));
  }

  // The application's own work on the same loop.
  app.tick.data = &app;
  uv_timer_init(&app.loop, &app.tick);
  uv_timer_start(&app.tick, [](uv_timer_t* t) { ++static_cast<App*>(t->data)->ticks; }, 10, 10);

  baton::AcquireOptions opts;
  opts.ttl = 2s;
  opts.wait = 5s;
  auto started = app.members[0]->acquire("cron:report", opts, [&app](baton::Result<baton::Lease> r) {
    // On the loop thread, between the application's own callbacks.
    if (!r) {
      std::printf("acquire failed: %s\n", std::string(r.what()).c_str());
      app.done = true;
      return;
    }
    std::printf("got cron:report with token %llu (app ticks so far: %d)\n",
                static_cast<unsigned long long>(r->token()), app.ticks);
    app.ok = r->release().ok();
    app.done = true;
  });
  if (!started) return 1;

  // Run until the callback ran (bounded), then stop Baton between iterations
  // (stop() belongs on the loop thread, outside Baton's callbacks).
  const auto deadline = baton::BootClock::now() + 20s;
  while (!app.done && baton::BootClock::now() < deadline) uv_run(&app.loop, UV_RUN_ONCE);
  for (auto& m : app.members) m->stop();
  app.members.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&app.tick), nullptr);
  uv_run(&app.loop, UV_RUN_DEFAULT);  // Baton's handles finish closing here
  const int rc = uv_loop_close(&app.loop);
  std::printf("loop closed: %s\n", rc == 0 ? "clean" : "handles left");
  return app.ok && rc == 0 ? 0 : 1;
}
