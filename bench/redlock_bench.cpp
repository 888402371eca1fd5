// SPDX-License-Identifier: Apache-2.0
// Redlock (issue 7): the algorithm of the Redis distributed-lock page, run
// against 3 or 5 local redis-server instances, as the lock users would
// otherwise pick. hiredis async on a libuv loop, so the N requests of one step
// go out in parallel (the page: "multiplexing").
//
// Acquire: read t0, SET key value NX PX ttl on every instance with a fresh
// random value (20 random bytes, hex), count the OK replies; the lock is held
// iff a majority said OK and validity = ttl - elapsed - drift > 0, drift =
// ttl * 0.01 + 2 ms. The decision is taken when the majority's last reply
// arrives (the remaining replies are not awaited: the fastest correct client).
// Otherwise the client unlocks every instance and retries after a random
// delay, uniform in [0, --retry-delay-ms] (antirez's redlock-rb: 200 ms), or
// at once with --retry-delay-ms 0 ("as fast as it can").
// Release: the compare-and-delete script (EVALSHA of
//   if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end)
// on every instance. Release is fire-and-forget: redis executes one
// connection's commands in order, so this client's next SET already sees the
// delete, and Baton's release does not wait for acknowledgements either.
//
//   baton_redlock_bench --ports P1,P2,P3 --mode M [--ops N] [--seconds S]
//       [--contenders C] [--retry-delay-ms D] [--ttl-ms T] [--events FILE]
//   modes:
//     acquire     one client; times acquire alone on a new key each time (the
//                 release afterwards is not timed, and completes first)
//     cycle       one client; acquire + release on one key in a closed loop;
//                 one sample = acquire start -> release sent, or with
//                 --release-wait 1 -> every instance answered the unlock (as
//                 the blocking clients, redlock-rb and redlock-py, do)
//     contended   C clients, each with its own connections, on one key: loop
//                 acquire (retrying) -> hold (--hold-us, default 1000) ->
//                 release -> think (--think-us, default 1000) -> ...; writes
//                 "contender,event,t_ns" lines (event: start, grant, release)
//                 to FILE for bench/analyze.py, and a summary line.
//   --adapter direct|hiredis (default direct): how hiredis meets the loop.
//     hiredis: hiredis's own libuv adapter, which asks for write readiness
//     before every command and drops it after, each change an epoll_ctl
//     (38 per acquire + release at 3 instances, counted with perf stat;
//     docs/benchmarks.md). direct (this file): the socket stays
//     registered for reading only, and a command is written at once, with
//     write readiness asked for only if the socket's buffer is full, as a
//     client tuned for latency would do. Both run the same algorithm.
// Prints one JSON line (latencies in microseconds).
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli.hpp"
#include "latency.hpp"

namespace {

using baton::bench::now_ns;

constexpr const char* unlock_script =
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then return redis.call(\"del\",KEYS[1]) else return 0 end";

struct Options {
  std::vector<int> ports;
  std::string mode = "acquire";
  std::size_t ops = 10000;
  std::size_t warmup = 500;
  double seconds = 20;
  std::size_t contenders = 1;
  int retry_delay_ms = 200;
  int ttl_ms = 10000;
  std::string events;
  bool release_wait = false;  // cycle: a sample ends when every instance answered the unlock
  int hold_us = 1000;         // contended: work under the lock
  int think_us = 1000;        // contended: work between ownerships
  bool direct = true;         // --adapter: direct writes (true) or hiredis's libuv adapter
};

struct Bench;

// One Redlock client: its own connection to every instance.
struct Client {
  Bench* bench = nullptr;
  std::size_t index = 0;
  std::vector<redisAsyncContext*> conns;
  std::mt19937_64 rng;
  uv_timer_t retry{};
  // Contended mode's hold and think times: a timerfd, so that they last at
  // least what was asked, as Baton's contenders' sleeps do. A libuv timer
  // counts whole milliseconds from the loop's cached time: a 1 ms hold ran
  // 0.28-1.03 ms (p1-p99), median 0.66 ms.
  int work_fd = -1;
  uv_poll_t work{};
  void (*work_done)(Client&) = nullptr;
  std::string key;
  std::string value;
  std::uint64_t op = 0;        // current attempt; replies of older ones are ignored
  std::size_t oks = 0, fails = 0;
  bool deciding = false;       // an attempt is waiting for replies
  std::int64_t t0 = 0;         // attempt start
  std::int64_t acquire_t0 = 0; // first attempt of this acquire
  std::size_t attempts = 0;    // attempts of this acquire
  std::size_t grants = 0;
  std::size_t unlock_pending = 0;
};

struct Reply {
  Client* c;
  std::uint64_t op;
};

struct Bench {
  Options o;
  uv_loop_t* loop = nullptr;
  std::vector<std::unique_ptr<Client>> clients;
  std::string sha;
  std::vector<std::int64_t> samples;
  std::size_t attempts_total = 0;
  std::size_t failures = 0;   // failed attempts (no majority or no validity)
  std::int64_t deadline = 0;
  std::int64_t start = 0;
  std::FILE* events = nullptr;
  std::size_t key_serial = 0;
  bool stopping = false;
  uv_timer_t watchdog{};
  std::size_t majority() const { return o.ports.size() / 2 + 1; }
};

// The direct adapter (see --adapter above): reads stay registered; writes go
// out from the command call itself, and only a write that could not finish
// asks the loop for write readiness.
struct Direct {
  redisAsyncContext* ac = nullptr;
  uv_poll_t poll{};
  int events = 0;        // what the poll handle watches
  bool writing = false;  // inside redisAsyncHandleWrite (it calls addWrite again if not done)
  bool closed = false;
};

void direct_watch(Direct& d, int events) {
  if (d.closed || events == d.events) return;
  d.events = events;
  if (events == 0) {
    uv_poll_stop(&d.poll);
  } else {
    uv_poll_start(&d.poll, events, [](uv_poll_t* h, int status, int ev) {
      auto& d = *static_cast<Direct*>(h->data);
      if (status != 0 || d.closed) return;
      if (ev & UV_READABLE) redisAsyncHandleRead(d.ac);
      if (!d.closed && (ev & UV_WRITABLE)) redisAsyncHandleWrite(d.ac);
    });
  }
}

int direct_attach(redisAsyncContext* ac, uv_loop_t* loop) {
  auto* d = new Direct{};
  d->ac = ac;
  if (uv_poll_init(loop, &d->poll, ac->c.fd) != 0) {
    delete d;
    return REDIS_ERR;
  }
  d->poll.data = d;
  ac->ev.data = d;
  ac->ev.addRead = [](void* p) {
    auto& d = *static_cast<Direct*>(p);
    direct_watch(d, d.events | UV_READABLE);
  };
  ac->ev.delRead = [](void* p) {
    auto& d = *static_cast<Direct*>(p);
    direct_watch(d, d.events & ~UV_READABLE);
  };
  ac->ev.addWrite = [](void* p) {
    auto& d = *static_cast<Direct*>(p);
    // Not yet connected (the connect completes as write readiness), or a
    // write that did not finish: wait for the socket. Otherwise write now.
    if (d.writing || !(d.ac->c.flags & REDIS_CONNECTED)) return direct_watch(d, d.events | UV_WRITABLE);
    d.writing = true;
    redisAsyncHandleWrite(d.ac);  // calls delWrite when done, addWrite if not, then addRead
    d.writing = false;
  };
  ac->ev.delWrite = [](void* p) {
    auto& d = *static_cast<Direct*>(p);
    direct_watch(d, d.events & ~UV_WRITABLE);
  };
  ac->ev.cleanup = [](void* p) {
    auto* d = static_cast<Direct*>(p);
    d->closed = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&d->poll), [](uv_handle_t* h) { delete static_cast<Direct*>(h->data); });
  };
  return REDIS_OK;
}

void attempt(Client& c);
void acquired(Client& c);

// Runs `done` once `us` microseconds have passed (contended mode).
void work_after(Client& c, int us, void (*done)(Client&)) {
  c.work_done = done;
  itimerspec its{};
  its.it_value.tv_sec = us / 1'000'000;
  its.it_value.tv_nsec = static_cast<long>(us % 1'000'000) * 1000L;
  timerfd_settime(c.work_fd, 0, &its, nullptr);
}

bool work_init(Client& c, uv_loop_t* loop) {
  c.work_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (c.work_fd < 0 || uv_poll_init(loop, &c.work, c.work_fd) != 0) return false;
  c.work.data = &c;
  return uv_poll_start(&c.work, UV_READABLE, [](uv_poll_t* h, int status, int) {
           auto& c = *static_cast<Client*>(h->data);
           std::uint64_t expirations = 0;
           if (status != 0 || read(c.work_fd, &expirations, sizeof expirations) != sizeof expirations) return;
           if (c.work_done) c.work_done(c);
         }) == 0;
}
void release_contended(Client& c);

void stop(Bench& b) {
  if (b.stopping) return;
  b.stopping = true;
  for (auto& c : b.clients) {
    uv_timer_stop(&c->retry);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->retry), nullptr);
    uv_poll_stop(&c->work);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->work), nullptr);
    for (auto* ac : c->conns) redisAsyncDisconnect(ac);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&b.watchdog), nullptr);
}

void event(Client& c, const char* what, std::int64_t t) {
  if (c.bench->events) std::fprintf(c.bench->events, "%zu,%s,%lld\n", c.index, what, static_cast<long long>(t));
}

std::string random_value(std::mt19937_64& rng) {
  static const char hex[] = "0123456789abcdef";
  std::string v(40, '0');
  for (std::size_t i = 0; i < 40; i += 16) {
    std::uint64_t x = rng();
    for (std::size_t j = i; j < std::min<std::size_t>(i + 16, 40); ++j, x >>= 4) v[j] = hex[x & 15];
  }
  return v;
}

// Unlock every instance (fire-and-forget unless `counted`).
void unlock_all(Client& c, bool counted) {
  for (auto* ac : c.conns) {
    if (counted) ++c.unlock_pending;
    redisAsyncCommand(
        ac,
        counted ? +[](redisAsyncContext*, void*, void* p) {
          auto* c = static_cast<Client*>(p);
          if (--c->unlock_pending == 0 && !c->bench->stopping) attempt(*c);
        }
                : nullptr,
        &c, "EVALSHA %s 1 %s %s", c.bench->sha.c_str(), c.key.c_str(), c.value.c_str());
  }
}

void schedule_retry(Client& c) {
  Bench& b = *c.bench;
  if (b.o.retry_delay_ms <= 0) return attempt(c);
  std::uniform_int_distribution<std::uint64_t> d(0, static_cast<std::uint64_t>(b.o.retry_delay_ms));
  uv_timer_start(&c.retry, [](uv_timer_t* t) { attempt(*static_cast<Client*>(t->data)); }, d(c.rng), 0);
}

void decide(Client& c, bool majority_ok) {
  Bench& b = *c.bench;
  c.deciding = false;
  if (b.stopping) return;
  const std::int64_t now = now_ns();
  const std::int64_t drift = static_cast<std::int64_t>(b.o.ttl_ms) * 10'000 + 2'000'000;  // ttl*0.01 + 2 ms
  const std::int64_t validity = static_cast<std::int64_t>(b.o.ttl_ms) * 1'000'000 - (now - c.t0) - drift;
  if (majority_ok && validity > 0) return acquired(c);
  ++b.failures;
  unlock_all(c, false);  // "even the instances it believed it was not able to lock"
  if (now > b.deadline) return stop(b);
  schedule_retry(c);
}

void on_set(redisAsyncContext*, void* r, void* p) {
  std::unique_ptr<Reply> rep(static_cast<Reply*>(p));
  Client& c = *rep->c;
  if (rep->op != c.op || !c.deciding) return;
  auto* reply = static_cast<redisReply*>(r);
  const bool ok = reply && reply->type == REDIS_REPLY_STATUS && std::strcmp(reply->str, "OK") == 0;
  ok ? ++c.oks : ++c.fails;
  const std::size_t n = c.conns.size(), maj = c.bench->majority();
  if (c.oks >= maj) return decide(c, true);
  if (c.fails > n - maj) return decide(c, false);
}

void attempt(Client& c) {
  Bench& b = *c.bench;
  if (b.stopping) return;
  ++c.op;
  ++c.attempts;
  ++b.attempts_total;
  c.oks = c.fails = 0;
  c.deciding = true;
  c.value = random_value(c.rng);
  c.t0 = now_ns();
  for (auto* ac : c.conns)
    redisAsyncCommand(ac, on_set, new Reply{&c, c.op}, "SET %s %s NX PX %d", c.key.c_str(), c.value.c_str(),
                      b.o.ttl_ms);
}

void begin_acquire(Client& c) {
  Bench& b = *c.bench;
  if (b.stopping) return;
  if (now_ns() > b.deadline) return stop(b);
  if (b.o.mode == "acquire") c.key = "bench:acq:" + std::to_string(b.key_serial++);
  c.acquire_t0 = now_ns();
  c.attempts = 0;
  event(c, "start", c.acquire_t0);
  attempt(c);
}

void acquired(Client& c) {
  Bench& b = *c.bench;
  const std::int64_t t = now_ns();
  ++c.grants;
  event(c, "grant", t);
  if (b.o.mode == "acquire") {
    if (b.attempts_total > b.o.warmup) b.samples.push_back(t - c.acquire_t0);
    if (b.samples.size() >= b.o.ops) return stop(b);
    // Release (untimed) and wait for it, then the next acquire.
    c.unlock_pending = 0;
    for (auto* ac : c.conns) {
      ++c.unlock_pending;
      redisAsyncCommand(
          ac,
          [](redisAsyncContext*, void*, void* p) {
            auto* c = static_cast<Client*>(p);
            if (--c->unlock_pending == 0) begin_acquire(*c);
          },
          &c, "EVALSHA %s 1 %s %s", b.sha.c_str(), c.key.c_str(), c.value.c_str());
    }
    return;
  }
  if (b.o.mode == "contended") {
    if (b.o.hold_us <= 0) return release_contended(c);
    work_after(c, b.o.hold_us, release_contended);
    return;
  }
  // cycle
  if (b.o.release_wait) {
    c.unlock_pending = 0;
    for (auto* ac : c.conns) {
      ++c.unlock_pending;
      redisAsyncCommand(
          ac,
          [](redisAsyncContext*, void*, void* p) {
            auto* c = static_cast<Client*>(p);
            if (--c->unlock_pending != 0 || c->bench->stopping) return;
            Bench& b = *c->bench;
            if (b.attempts_total > b.o.warmup) b.samples.push_back(now_ns() - c->acquire_t0);
            if (b.samples.size() >= b.o.ops) return stop(b);
            begin_acquire(*c);
          },
          &c, "EVALSHA %s 1 %s %s", b.sha.c_str(), c.key.c_str(), c.value.c_str());
    }
    return;
  }
  unlock_all(c, false);
  const std::int64_t rel = now_ns();
  if (b.attempts_total > b.o.warmup) b.samples.push_back(rel - c.acquire_t0);
  if (b.samples.size() >= b.o.ops) return stop(b);
  begin_acquire(c);
}

void release_contended(Client& c) {
  Bench& b = *c.bench;
  if (b.stopping) return;
  event(c, "release", now_ns());
  unlock_all(c, false);
  if (b.o.think_us <= 0) return begin_acquire(c);
  work_after(c, b.o.think_us, begin_acquire);
}

// SCRIPT LOAD synchronously on every instance (setup, not measured).
bool load_script(Bench& b) {
  for (int port : b.o.ports) {
    redisContext* ctx = redisConnect("127.0.0.1", port);
    if (!ctx || ctx->err) {
      std::fprintf(stderr, "redlock_bench: cannot connect to 127.0.0.1:%d\n", port);
      return false;
    }
    auto* r = static_cast<redisReply*>(redisCommand(ctx, "SCRIPT LOAD %s", unlock_script));
    if (!r || r->type != REDIS_REPLY_STRING) return false;
    b.sha = r->str;
    freeReplyObject(r);
    r = static_cast<redisReply*>(redisCommand(ctx, "FLUSHALL"));
    if (r) freeReplyObject(r);
    redisFree(ctx);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Bench b;
  std::string adapter = "direct";
  CLI::App app("baton_redlock_bench: Redlock against local redis-server instances (see bench/redlock_bench.cpp)",
               "baton_redlock_bench");
  app.add_option("--ports", b.o.ports, "the redis-server instances' ports on 127.0.0.1")
      ->required()
      ->delimiter(',')
      ->check(CLI::Range(1, 65535));
  app.add_option("--mode", b.o.mode, "acquire|cycle|contended (default acquire)")
      ->check(CLI::IsMember({"acquire", "cycle", "contended"}));
  app.add_option("--ops", b.o.ops, "samples to take (default 10000)");
  app.add_option("--warmup", b.o.warmup, "samples to drop first (default 500)");
  app.add_option("--seconds", b.o.seconds, "how long to run at most (default 20)")->check(CLI::PositiveNumber);
  app.add_option("--contenders", b.o.contenders, "contended: clients (default 1)");
  app.add_option("--retry-delay-ms", b.o.retry_delay_ms, "wait before retrying a failed lock (default 200)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ttl-ms", b.o.ttl_ms, "lock ttl (default 10000)")->check(CLI::Range(1, 3600000));
  app.add_option("--events", b.o.events, "contended: write contender,event,t_ns lines here");
  app.add_option("--release-wait", b.o.release_wait, "cycle: 1 to end a sample when every instance answered the unlock");
  app.add_option("--hold-us", b.o.hold_us, "contended: work under the lock (default 1000)")->check(CLI::NonNegativeNumber);
  app.add_option("--think-us", b.o.think_us, "contended: work between ownerships (default 1000)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--adapter", adapter, "direct|hiredis (default direct)")->check(CLI::IsMember({"direct", "hiredis"}));
  if (const int rc = baton::bench::parse_flags(app, argc, argv); rc >= 0) return rc;
  b.o.direct = adapter == "direct";
  if (b.o.mode != "contended") b.o.contenders = 1;
  if (!load_script(b)) return 1;
  if (!b.o.events.empty()) b.events = std::fopen(b.o.events.c_str(), "w");
  b.loop = uv_default_loop();
  std::random_device rd;
  for (std::size_t i = 0; i < b.o.contenders; ++i) {
    auto c = std::make_unique<Client>();
    c->bench = &b;
    c->index = i;
    c->rng.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ i);
    c->key = "bench:cycle";
    c->retry.data = c.get();
    uv_timer_init(b.loop, &c->retry);
    if (!work_init(*c, b.loop)) {
      std::fprintf(stderr, "redlock_bench: timerfd for the hold and think times failed\n");
      return 1;
    }
    for (int port : b.o.ports) {
      redisAsyncContext* ac = redisAsyncConnect("127.0.0.1", port);
      if (!ac || ac->err) {
        std::fprintf(stderr, "redlock_bench: connect %d failed\n", port);
        return 1;
      }
      if ((b.o.direct ? direct_attach(ac, b.loop) : redisLibuvAttach(ac, b.loop)) != REDIS_OK) {
        std::fprintf(stderr, "redlock_bench: attaching connection %d to the loop failed\n", port);
        return 1;
      }
      c->conns.push_back(ac);
    }
    b.clients.push_back(std::move(c));
  }
  b.start = now_ns();
  b.deadline = b.start + static_cast<std::int64_t>(b.o.seconds * 1e9);
  // Ends the run at the deadline even if every client is asleep or stuck.
  b.watchdog.data = &b;
  uv_timer_init(b.loop, &b.watchdog);
  uv_timer_start(
      &b.watchdog,
      [](uv_timer_t* t) {
        auto& b = *static_cast<Bench*>(t->data);
        if (now_ns() > b.deadline) stop(b);
      },
      100, 100);
  for (auto& c : b.clients) begin_acquire(*c);
  uv_run(b.loop, UV_RUN_DEFAULT);
  const double elapsed_s = static_cast<double>(now_ns() - b.start) / 1e9;
  uv_loop_close(b.loop);
  for (auto& c : b.clients) close(c->work_fd);
  if (b.events) std::fclose(b.events);
  std::size_t grants = 0;
  for (auto& c : b.clients) grants += c->grants;
  auto p = baton::bench::percentiles(b.samples);
  nlohmann::ordered_json out;
  out["bench"] = "redlock";
  out["adapter"] = b.o.direct ? "direct" : "hiredis";
  out["mode"] = b.o.mode;
  out["members"] = b.o.ports.size();
  out["contenders"] = b.o.contenders;
  out["retry_delay_ms"] = b.o.retry_delay_ms;
  out["release_wait"] = b.o.release_wait ? 1 : 0;
  out["ttl_ms"] = b.o.ttl_ms;
  out["grants"] = grants;
  out["attempts"] = b.attempts_total;
  out["failed_attempts"] = b.failures;
  out["seconds"] = std::round(elapsed_s * 1000) / 1000;
  out["grants_per_s"] = baton::bench::tenths(static_cast<double>(grants) / elapsed_s);
  baton::bench::add_fields(out, p);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
