// SPDX-License-Identifier: Apache-2.0
// batonctl torture: a member (or a client, --client) that, for --duration-s
// seconds, takes leases on random resources, writes to the fenced register
// while it believes it holds them, and records every step in the history
// format of shared/HISTORY.md.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <random>

#include "commands.hpp"
#include "common.hpp"
#include "history.hpp"
#include "register_proto.hpp"

namespace batonctl {

namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

struct Settings {
  std::uint64_t resources = 4;
  std::uint64_t ttl_ms = 300;
  std::uint64_t hold_ms = 50;
  std::uint64_t duration_s = 20;
  std::uint64_t wait_ms = 1000;
  std::uint64_t think_ms = 5;
  std::uint64_t incarnation = 1;
  std::uint64_t seed = 0;
  std::string history;
  std::string register_addr;
};

// A span of work measured on both clocks.
struct Span {
  std::int64_t local_start = local_now_ns();
  std::int64_t true_start = true_now_ns();
  std::int64_t local_end = 0;
  std::int64_t true_end = 0;
  void end() {
    local_end = local_now_ns();
    true_end = true_now_ns();
  }
};

// Talks to the fenced register: one write, one answer (matched by req_id).
class RegisterClient {
 public:
  explicit RegisterClient(const HostPort& hp) {
    len_ = to_sockaddr(hp.host, hp.port, addr_);
    if (len_ != 0) fd_ = ::socket(addr_.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  ~RegisterClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  // The answer to `w`, or nothing within `timeout`.
  std::optional<WriteAnswer> write(const WriteRequest& w, nanoseconds timeout) {
    const std::string text = format_request(w);
    ::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&addr_), len_);
    const std::int64_t end = true_now_ns() + timeout.count();
    char buf[512];
    for (;;) {
      const std::int64_t left_ms = (end - true_now_ns() + 999999) / 1000000;
      if (left_ms <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left_ms)) != 1) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) continue;
      auto a = parse_answer(std::string_view(buf, static_cast<std::size_t>(n)));
      if (a && (!a->req_id || *a->req_id == w.req_id)) return a;  // else: a late answer to an earlier write
    }
  }

 private:
  int fd_ = -1;
  sockaddr_storage addr_{};
  socklen_t len_ = 0;
};

class Torture {
 public:
  Torture(const Settings& s, baton::Cluster& cluster, History& history, std::uint32_t self)
      : s_(s), cluster_(cluster), history_(history), self_(self), rng_(s.seed) {
    if (!s.register_addr.empty()) reg_ = std::make_unique<RegisterClient>(parse_host_port(s.register_addr, "--register"));
  }
  bool register_ok() const { return !reg_ || reg_->ok(); }
  void run();
  void summary() const;

 private:
  struct LeaseTag {
    std::string resource;
    std::atomic<std::uint64_t> token{0};
  };

  void hold_once(const std::string& resource);
  void hold(baton::Lease& lease, const std::string& resource, std::shared_ptr<LeaseTag> tag);
  // Writes to the register; false when the register rejected the token.
  bool register_write(const baton::Lease& lease, const std::string& resource, nanoseconds timeout);
  // One renew call, logged; its error code (ok on success).
  baton::Errc renew(baton::Lease& lease, const std::string& resource);
  void release(baton::Lease& lease, const std::string& resource);
  void note_ended(const baton::Lease& lease, const std::string& resource);
  Json op(std::string_view name, const std::string& resource, const Span& span);

  const Settings& s_;
  baton::Cluster& cluster_;
  History& history_;
  std::uint32_t self_;
  std::mt19937_64 rng_;
  std::unique_ptr<RegisterClient> reg_;
  std::uint64_t req_id_ = 0;
  // Summary counters.
  std::uint64_t acquired_ = 0, not_acquired_ = 0, renewed_ = 0, writes_ok_ = 0, writes_stale_ = 0,
                writes_timeout_ = 0, ended_early_ = 0;
};

Json Torture::op(std::string_view name, const std::string& resource, const Span& span) {
  Json j = history_.begin("op");
  j.str("op", name)
      .str("resource", resource)
      .unum("ttl_ms", s_.ttl_ms)
      .num("local_start_ns", span.local_start)
      .num("local_end_ns", span.local_end)
      .num("true_start_ns", span.true_start)
      .num("true_end_ns", span.true_end)
      .unum("req_id", ++req_id_);
  return j;
}

void Torture::run() {
  const std::int64_t end = true_now_ns() + static_cast<std::int64_t>(s_.duration_s) * 1000000000;
  std::uniform_int_distribution<std::uint64_t> pick(0, s_.resources - 1);
  std::uniform_int_distribution<std::uint64_t> think(0, s_.think_ms);
  while (!stop_requested() && true_now_ns() < end) {
    hold_once("r" + std::to_string(pick(rng_)));
    if (sleep_or_stop(milliseconds(think(rng_)))) break;
  }
}

void Torture::hold_once(const std::string& resource) {
  auto tag = std::make_shared<LeaseTag>();
  tag->resource = resource;
  baton::AcquireOptions opts;
  opts.ttl = milliseconds(s_.ttl_ms);
  opts.wait = milliseconds(s_.wait_ms);
  opts.on_lost = [this, tag](baton::LostReason why) {
    // Loop thread; the history serializes with the main thread.
    history_.write(history_.begin("event")
                       .str("op", "lost")
                       .str("resource", tag->resource)
                       .unum("token", tag->token.load())
                       .str("reason", baton::lost_reason_name(why))
                       .num("local_ns", local_now_ns())
                       .num("true_ns", true_now_ns()));
  };
  Span span;
  auto lease = cluster_.acquire(resource, opts);
  span.end();
  if (!lease) {
    ++not_acquired_;
    const bool unknown = lease.code() == baton::Errc::unknown_outcome;
    Json j = op("acquire", resource, span);
    j.str("result", unknown ? "timeout" : "fail");
    if (!unknown) j.str("err", baton::errc_name(lease.code()));
    history_.write(j);
    return;
  }
  ++acquired_;
  tag->token = lease->token();
  // Write-ahead: the grant is on record before the lease is used.
  history_.write(op("acquire", resource, span)
                     .str("result", "ok")
                     .unum("token", lease->token())
                     .num("valid_until_local_ns", lease->validity_end().time_since_epoch().count()));
  hold(*lease, resource, tag);
}

void Torture::hold(baton::Lease& lease, const std::string& resource, std::shared_ptr<LeaseTag> /*tag*/) {
  const std::int64_t hold_end = local_now_ns() + static_cast<std::int64_t>(s_.hold_ms) * 1000000;
  const nanoseconds write_timeout = std::max<nanoseconds>(milliseconds(s_.hold_ms), milliseconds(50));
  bool superseded = false;
  if (reg_ && lease.valid()) superseded = !register_write(lease, resource, write_timeout);
  const std::int64_t ttl_ns = static_cast<std::int64_t>(s_.ttl_ms) * 1000000;
  bool renewing = true;  // false once a renew was refused as too late: the lease runs out
  while (!superseded && !stop_requested()) {
    const std::int64_t now = local_now_ns();
    if (now >= hold_end || !lease.valid()) break;
    const std::int64_t validity_end = lease.validity_end().time_since_epoch().count();
    // Renew when the hold outlasts the validity and half the ttl is gone.
    if (renewing && hold_end > validity_end && validity_end - now < ttl_ns / 2) {
      const baton::Errc e = renew(lease, resource);
      if (e == baton::Errc::too_late) renewing = false;
      // Back off after a failed round instead of retrying at once (a loop of
      // renew calls was a storm of RENEWs to every peer, issue 19).
      if (e != baton::Errc::ok) (void)sleep_or_stop(nanoseconds(std::clamp<std::int64_t>(ttl_ns / 50, 1000000, 20000000)));
      continue;
    }
    const std::int64_t next = std::min(hold_end, validity_end - ttl_ns / 2 > now ? validity_end - ttl_ns / 2 : hold_end);
    (void)sleep_or_stop(nanoseconds(std::clamp<std::int64_t>(next - now, 100000, 5000000)));
  }
  if (!superseded && reg_ && lease.valid()) superseded = !register_write(lease, resource, write_timeout);
  if (!lease.valid()) note_ended(lease, resource);
  release(lease, resource);
}

bool Torture::register_write(const baton::Lease& lease, const std::string& resource, nanoseconds timeout) {
  Span span;
  const std::uint64_t id = req_id_ + 1;  // op() takes this number
  const auto answer = reg_->write({.resource = resource,
                                   .token = lease.token(),
                                   .node = std::to_string(self_),
                                   .incarnation = s_.incarnation,
                                   .req_id = id,
                                   .true_sent_ns = true_now_ns()},
                                  timeout);
  span.end();
  Json j = op("write", resource, span);
  j.unum("token", lease.token());
  if (!answer) {
    ++writes_timeout_;
    j.str("result", "timeout");
  } else if (answer->accepted) {
    ++writes_ok_;
    j.str("result", "ok");
  } else {
    ++writes_stale_;
    j.str("result", "fail").str("err", "stale");
  }
  if (answer) j.unum("register_highest", answer->highest);
  history_.write(j);
  return !answer || answer->accepted;
}

baton::Errc Torture::renew(baton::Lease& lease, const std::string& resource) {
  Span span;
  const baton::Result<void> r = lease.renew();
  span.end();
  Json j = op("renew", resource, span);
  j.unum("token", lease.token()).num("valid_until_local_ns", lease.validity_end().time_since_epoch().count());
  if (r.ok()) {
    ++renewed_;
    j.str("result", "ok");
  } else if (r.code() == baton::Errc::unknown_outcome) {
    j.str("result", "timeout");
  } else {
    j.str("result", "fail").str("err", r.code() == baton::Errc::lost ? "lost" : baton::errc_name(r.code()));
  }
  history_.write(j);
  return r.code();
}

void Torture::note_ended(const baton::Lease& lease, const std::string& resource) {
  ++ended_early_;
  if (lease.lost_reason()) return;  // the on_lost callback recorded it
  history_.write(history_.begin("event")
                     .str("op", "expired")
                     .str("resource", resource)
                     .unum("token", lease.token())
                     .str("reason", "deadline")
                     .num("local_ns", local_now_ns())
                     .num("true_ns", true_now_ns()));
}

void Torture::release(baton::Lease& lease, const std::string& resource) {
  const std::uint64_t token = lease.token();
  Span span;
  const baton::Result<void> r = lease.release();
  span.end();
  Json j = op("release", resource, span);
  j.unum("token", token);
  if (r.ok()) {
    j.str("result", "ok");
  } else {
    j.str("result", "fail").str("err", baton::errc_name(r.code()));
  }
  history_.write(j);
}

void Torture::summary() const {
  log_line(self_, "info",
           "torture done: acquired " + std::to_string(acquired_) + ", not acquired " + std::to_string(not_acquired_) +
               ", renewed " + std::to_string(renewed_) + ", ended early " + std::to_string(ended_early_) +
               ", writes ok " + std::to_string(writes_ok_) + " stale " + std::to_string(writes_stale_) +
               " timeout " + std::to_string(writes_timeout_));
}

}  // namespace

int cmd_torture(const Args& args) {
  FlagSet flags("torture",
                "--members ... (--id N | --client) --history FILE [--resources K] [--ttl-ms T] [--hold-ms H]\n"
                "                         [--duration-s D] [--register HOST:PORT] [--incarnation N] [flags]",
                "Runs member N for D seconds: acquires a random one of K resources (r0..r{K-1}), holds it about\n"
                "H ms (renewing when H outlasts the validity), writes to the fenced register right after\n"
                "acquiring and just before releasing while it believes it holds the lease, and releases.\n"
                "Every step goes to FILE in the history format of shared/HISTORY.md (appended: a restarted\n"
                "member passes the same FILE and --incarnation one higher). --ttl-max-ms defaults to --ttl-ms,\n"
                "so a restarted member's quarantine is short.\n"
                "With --client it runs as a client of --members instead (no member slot, no --id, no state):\n"
                "its records carry the client id drawn at start (a number above 2^31-1, logged as it starts)\n"
                "as \"node\", so a restarted client is a new node in the history and --incarnation can stay 1.");
  MemberFlags member;
  member.declare(flags, Role::member_or_client);
  Settings s;
  flags.add_u64("resources", &s.resources, "number of resources, named r0..r{K-1} (default 4)", 1, 1000000);
  flags.add_u64("ttl-ms", &s.ttl_ms, "lease ttl (default 300)", 1, 3600000);
  flags.add_u64("hold-ms", &s.hold_ms, "how long to hold each lease (default 50)", 0, 3600000);
  flags.add_u64("duration-s", &s.duration_s, "how long to run (default 20)", 1, 7 * 24 * 3600);
  flags.add_u64("wait-ms", &s.wait_ms, "how long one acquire waits while the resource is held (default 1000)", 0,
                3600000);
  flags.add_u64("think-ms", &s.think_ms, "random pause up to this between holds (default 5)", 0, 3600000);
  flags.add_string("history", &s.history, "history file, appended to (required)");
  flags.add_string("register", &s.register_addr, "fenced register to write to (batonctl register)");
  flags.add_u64("incarnation", &s.incarnation, "this life of the member in the history, 1 for the first (default 1)",
                1, UINT32_MAX);
  flags.add_u64("seed", &s.seed, "seed of the random choices (default: random)");
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  if (s.history.empty()) throw UsageError{"--history is required"};
  if (!s.register_addr.empty()) (void)parse_host_port(s.register_addr, "--register");
  if (!flags.given("ttl-max-ms")) member.ttl_max_ms = s.ttl_ms;
  if (s.ttl_ms > member.ttl_max_ms)
    throw UsageError{"--ttl-ms " + std::to_string(s.ttl_ms) + " is above --ttl-max-ms " + std::to_string(member.ttl_max_ms)};
  if (s.ttl_ms < member.ttl_min_ms)
    throw UsageError{"--ttl-ms " + std::to_string(s.ttl_ms) + " is below --ttl-min-ms " + std::to_string(member.ttl_min_ms)};
  if (!flags.given("seed")) (void)!getrandom(&s.seed, sizeof(s.seed), 0);
  baton::Config config = member.config(flags);
  // A client's id is drawn as it starts, and its records carry that id: it
  // starts before the history opens. A member's id is known, and it starts
  // only once the history is open.
  std::unique_ptr<Member> m;
  if (config.client) {
    m = Member::start(std::move(config), member.verbose);
    if (!m) return exit_failure;
  }
  const std::uint32_t self = m ? m->id() : config.self;

  std::string error;
  auto opened = History::open(s.history, self, s.incarnation, error);
  if (!opened) {
    log_line(self, "error", "cannot open --history '" + s.history + "': " + error);
    return exit_failure;
  }
  std::unique_ptr<History> history(*opened);
  history->start_clock_sampler();
  if (!m) {
    m = Member::start(std::move(config), member.verbose);
    if (!m) return exit_failure;
  }
  Torture t(s, m->cluster(), *history, self);
  if (!t.register_ok()) {
    log_line(self, "error", "cannot open a socket for --register");
    m.reset();  // declared before the history: stop it first here too
    return exit_failure;
  }
  t.run();
  t.summary();
  m.reset();  // stop the member before the history closes (no callback after)
  history->stop_clock_sampler();
  return exit_ok;
}

}  // namespace batonctl
