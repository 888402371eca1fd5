// SPDX-License-Identifier: Apache-2.0
// The floor's responder (issue 7): a separate process that answers every UDP
// datagram it receives on 127.0.0.1 with the same bytes, through libuv, the
// way a Baton voter's socket would (libuv loop, one uv_udp_t). It does no
// protocol work, so a round trip through it is the least any UDP lock on this
// machine can cost.
//
//   baton_floor_responder [--port P] [--seconds S]
//
// Prints {"port":P} on stdout once bound (P may be chosen by the OS with
// --port 0), then runs until SIGTERM/SIGINT or S seconds (default 600).
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace {

struct Responder {
  uv_loop_t* loop = nullptr;
  uv_udp_t udp{};
  uv_timer_t deadline{};
  uv_signal_t sigterm{};
  uv_signal_t sigint{};
  char buf[2048];
};

void on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* b) {
  auto* r = static_cast<Responder*>(h->data);
  *b = uv_buf_init(r->buf, sizeof r->buf);
}

void on_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* b, const sockaddr* from, unsigned) {
  if (n <= 0 || from == nullptr) return;
  uv_buf_t out = uv_buf_init(b->base, static_cast<unsigned>(n));
  // Loopback sends complete at once; try_send avoids a request allocation.
  if (uv_udp_try_send(h, &out, 1, from) < 0) {
    static int warned = 0;
    if (!warned++) std::fprintf(stderr, "floor_responder: send failed\n");
  }
}

void stop_all(Responder* r) {
  uv_udp_recv_stop(&r->udp);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->udp), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->deadline), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->sigterm), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->sigint), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  double seconds = 600;
  CLI::App app("baton_floor_responder: answers every UDP datagram at once (see bench/floor_responder.cpp)",
               "baton_floor_responder");
  app.add_option("--port", port, "UDP port on 127.0.0.1 (default 0: the kernel picks; printed as JSON)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--seconds", seconds, "stop after this long (default 600)")->check(CLI::PositiveNumber);
  if (const int rc = baton::bench::parse_flags(app, argc, argv); rc >= 0) return rc;
  Responder r;
  r.loop = uv_default_loop();
  r.udp.data = &r;
  uv_udp_init(r.loop, &r.udp);
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", port, &addr);
  if (int rc = uv_udp_bind(&r.udp, reinterpret_cast<const sockaddr*>(&addr), 0); rc != 0) {
    std::fprintf(stderr, "floor_responder: bind: %s\n", uv_strerror(rc));
    return 1;
  }
  sockaddr_in bound{};
  int len = sizeof bound;
  uv_udp_getsockname(&r.udp, reinterpret_cast<sockaddr*>(&bound), &len);
  std::printf("%s\n", nlohmann::ordered_json{{"port", ntohs(bound.sin_port)}}.dump().c_str());
  std::fflush(stdout);
  uv_udp_recv_start(&r.udp, on_alloc, on_recv);

  r.deadline.data = &r;
  uv_timer_init(r.loop, &r.deadline);
  uv_timer_start(
      &r.deadline, [](uv_timer_t* t) { stop_all(static_cast<Responder*>(t->data)); },
      static_cast<std::uint64_t>(seconds * 1000), 0);
  for (uv_signal_t* s : {&r.sigterm, &r.sigint}) {
    s->data = &r;
    uv_signal_init(r.loop, s);
    uv_signal_start(s, [](uv_signal_t* h, int) { stop_all(static_cast<Responder*>(h->data)); },
                    s == &r.sigterm ? SIGTERM : SIGINT);
  }
  uv_run(r.loop, UV_RUN_DEFAULT);
  uv_loop_close(r.loop);
  return 0;
}
