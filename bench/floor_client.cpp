// SPDX-License-Identifier: Apache-2.0
// The floor's client (issue 7): sends one datagram to each of the responders
// (separate baton_floor_responder processes) and waits until `need` of them
// answered, then starts the next round at once; one sample = one round's
// time, from just before the first send to the need-th reply.
//
//   baton_floor_client --ports P1,P2[,...] --need K [--rounds N] [--warmup W]
//                      [--bytes B] [--label L] [--seconds S]
//
// Members m, a majority needs (m/2 + 1) grants, one of which is the sender's
// own (in-process): 3 members = 2 responders, need 1; 5 members = 4
// responders, need 2. A single responder with need 1 is a plain round trip.
// B (default 200) is the size of an authenticated Baton REQUEST datagram.
// Prints one JSON line with p50/p99/p99.9 in microseconds.
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "latency.hpp"

namespace {

struct Client {
  uv_loop_t* loop = nullptr;
  uv_udp_t udp{};
  uv_timer_t watchdog{};
  std::vector<sockaddr_in> peers;
  std::size_t need = 1;
  std::size_t rounds = 20000;
  std::size_t warmup = 1000;
  std::vector<char> payload;
  std::uint64_t round = 0;       // current round number, carried in the first 8 bytes
  std::size_t replies = 0;       // replies of the current round
  std::int64_t t0 = 0;           // round start, ns
  std::int64_t deadline_ns = 0;  // give up at
  std::size_t resends = 0;       // rounds restarted after 100 ms without a majority
  std::vector<std::int64_t> samples;
  char buf[2048];
  bool done = false;
};

void send_round(Client& c) {
  ++c.round;
  c.replies = 0;
  std::memcpy(c.payload.data(), &c.round, sizeof c.round);
  c.t0 = baton::bench::now_ns();
  uv_buf_t b = uv_buf_init(c.payload.data(), static_cast<unsigned>(c.payload.size()));
  for (auto& p : c.peers) (void)uv_udp_try_send(&c.udp, &b, 1, reinterpret_cast<const sockaddr*>(&p));
}

void finish(Client& c) {
  if (c.done) return;
  c.done = true;
  uv_udp_recv_stop(&c.udp);
  uv_close(reinterpret_cast<uv_handle_t*>(&c.udp), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&c.watchdog), nullptr);
}

void on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* b) {
  auto* c = static_cast<Client*>(h->data);
  *b = uv_buf_init(c->buf, sizeof c->buf);
}

void on_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* b, const sockaddr*, unsigned) {
  auto& c = *static_cast<Client*>(h->data);
  if (n < 8 || c.done) return;
  std::uint64_t r = 0;
  std::memcpy(&r, b->base, sizeof r);
  if (r != c.round) return;  // a late reply of an earlier round
  if (++c.replies != c.need) return;
  const std::int64_t t = baton::bench::now_ns();
  if (c.round > c.warmup) c.samples.push_back(t - c.t0);
  if (c.samples.size() >= c.rounds || t > c.deadline_ns) return finish(c);
  send_round(c);
}

}  // namespace

int main(int argc, char** argv) {
  Client c;
  std::string label = "floor";
  std::size_t bytes = 200;
  double seconds = 30;
  std::vector<int> ports;
  CLI::App app("baton_floor_client: raw libuv UDP rounds to baton_floor_responder processes (see bench/floor_client.cpp)",
               "baton_floor_client");
  app.add_option("--ports", ports, "the responders' UDP ports on 127.0.0.1")
      ->required()
      ->delimiter(',')
      ->check(CLI::Range(1, 65535));
  app.add_option("--need", c.need, "replies that end a round")->required();
  app.add_option("--rounds", c.rounds, "rounds to sample (default 20000)");
  app.add_option("--warmup", c.warmup, "rounds to drop first");
  app.add_option("--bytes", bytes, "datagram size (default 200)")->check(CLI::Range(8, 1400));
  app.add_option("--label", label, "the label in the JSON line (default floor)");
  app.add_option("--seconds", seconds, "how long to run at most (default 30)")->check(CLI::PositiveNumber);
  if (const int rc = baton::bench::parse_flags(app, argc, argv); rc >= 0) return rc;
  for (const int port : ports) {
    sockaddr_in a{};
    uv_ip4_addr("127.0.0.1", port, &a);
    c.peers.push_back(a);
  }
  if (c.need < 1 || c.need > c.peers.size()) {
    std::fprintf(stderr, "baton_floor_client: --need %zu is not in 1..%zu (the --ports given)\n", c.need,
                 c.peers.size());
    return 2;
  }
  c.payload.assign(bytes, 'x');
  c.deadline_ns = baton::bench::now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  c.loop = uv_default_loop();
  c.udp.data = &c;
  uv_udp_init(c.loop, &c.udp);
  sockaddr_in any{};
  uv_ip4_addr("127.0.0.1", 0, &any);
  uv_udp_bind(&c.udp, reinterpret_cast<const sockaddr*>(&any), 0);
  uv_udp_recv_start(&c.udp, on_alloc, on_recv);
  // A round without a majority after 100 ms (a dropped datagram) is restarted
  // and not sampled; the whole run ends at --seconds.
  c.watchdog.data = &c;
  uv_timer_init(c.loop, &c.watchdog);
  uv_timer_start(
      &c.watchdog,
      [](uv_timer_t* t) {
        auto& c = *static_cast<Client*>(t->data);
        const std::int64_t now = baton::bench::now_ns();
        if (now > c.deadline_ns) return finish(c);
        if (now - c.t0 > 100'000'000) {
          ++c.resends;
          send_round(c);
        }
      },
      50, 50);
  send_round(c);
  uv_run(c.loop, UV_RUN_DEFAULT);
  uv_loop_close(c.loop);
  auto p = baton::bench::percentiles(c.samples);
  nlohmann::ordered_json out = {{"bench", "floor"},
                                {"label", label},
                                {"responders", c.peers.size()},
                                {"need", c.need},
                                {"bytes", bytes},
                                {"resends", c.resends}};
  baton::bench::add_fields(out, p);
  std::printf("%s\n", out.dump().c_str());
  return p.n == 0 ? 1 : 0;
}
