// SPDX-License-Identifier: Apache-2.0
// batonctl shell: run a member (or a client, --client) that takes lease
// commands on stdin, one per line, and answers each with one JSON line on
// stdout. For trying Baton out
// by hand and for test drivers that need a long-lived member they can pause
// (tests/multiproc/pause_heal.py).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "common.hpp"
#include "history.hpp"

namespace batonctl {
namespace {

constexpr std::size_t kLeasesMax = 1024;  // leases one shell holds at once
constexpr std::size_t kLineMax = 4096;    // bytes per command line

std::mutex out_mutex;  // stdout lines come from the stdin thread and on_lost callbacks

void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// {"op":...,"resource":...}: the start of every answer (history.hpp's builder).
Json answer(std::string_view op, std::string_view resource) {
  Json j;
  j.str("op", op).str("resource", resource);
  return j;
}

std::string error_line(std::string_view op, std::string_view resource, std::string_view what) {
  return answer(op, resource).boolean("ok", false).str("error", "invalid_argument").str("what", what).done();
}

// ok, or ok=false with the error's name.
std::string result_line(std::string_view op, std::string_view resource, const baton::Result<void>& r) {
  Json j = answer(op, resource).boolean("ok", r.ok());
  if (!r) j.str("error", baton::errc_name(r.code()));
  return j.done();
}

// "300" -> 300; anything else, or out of [lo, hi]: nullopt.
std::optional<std::uint64_t> number(const std::string& s, std::uint64_t lo, std::uint64_t hi) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::uint64_t v = std::stoull(s);
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

class Shell {
 public:
  Shell(Member& m, std::uint64_t ttl_min_ms, std::uint64_t ttl_max_ms)
      : m_(m), ttl_min_ms_(ttl_min_ms), ttl_max_ms_(ttl_max_ms) {}

  // One command line; false on `quit`.
  bool run(const std::string& line) {
    std::istringstream in(line);
    std::string op, resource;
    in >> op;
    if (op.empty() || op[0] == '#') return true;
    if (op == "quit") return false;
    in >> resource;
    std::vector<std::string> rest;
    for (std::string w; in >> w;) rest.push_back(w);
    if (op == "acquire") {
      acquire(resource, rest);
    } else if (op == "release") {
      release(resource);
    } else if (op == "renew") {
      renew(resource);
    } else {
      say(error_line(op, resource, "unknown command '" + op + "' (acquire, release, renew, quit)"));
    }
    return true;
  }

 private:
  void acquire(const std::string& resource, const std::vector<std::string>& rest) {
    if (resource.empty() || resource.size() > 128) {
      return say(error_line("acquire", resource, "RESOURCE must be 1..128 bytes"));
    }
    if (rest.size() > 3) return say(error_line("acquire", resource, "usage: acquire RESOURCE [TTL_MS [WAIT_MS [renew]]]"));
    baton::AcquireOptions opts;
    std::uint64_t ttl_ms = std::min<std::uint64_t>(10000, ttl_max_ms_);
    if (rest.size() >= 1) {
      auto v = number(rest[0], ttl_min_ms_, ttl_max_ms_);
      if (!v) {
        return say(error_line("acquire", resource, "TTL_MS '" + rest[0] + "' must be a whole number in [" +
                                                       std::to_string(ttl_min_ms_) + ", " +
                                                       std::to_string(ttl_max_ms_) + "]"));
      }
      ttl_ms = *v;
    }
    std::uint64_t wait_ms = 0;
    if (rest.size() >= 2) {
      auto v = number(rest[1], 0, 24ull * 3600 * 1000);
      if (!v) return say(error_line("acquire", resource, "WAIT_MS '" + rest[1] + "' must be a whole number of ms"));
      wait_ms = *v;
    }
    if (rest.size() == 3 && rest[2] != "renew") {
      return say(error_line("acquire", resource, "the fourth word must be 'renew', not '" + rest[2] + "'"));
    }
    if (auto it = leases_.find(resource); it != leases_.end()) {
      // A lease that ended (lost, or past its validity) is forgotten; a live one is kept.
      if (it->second.valid()) return say(error_line("acquire", resource, "this shell already holds it"));
      leases_.erase(it);
    }
    if (leases_.size() >= kLeasesMax) return say(error_line("acquire", resource, "too many leases held (1024)"));
    opts.ttl = std::chrono::milliseconds(ttl_ms);
    opts.wait = std::chrono::milliseconds(wait_ms);
    opts.auto_renew = rest.size() == 3;
    opts.on_lost = [resource](baton::LostReason why) {
      say(answer("lost", resource).str("reason", baton::lost_reason_name(why)).num("at_ns", true_now_ns()).done());
    };
    const std::int64_t start = true_now_ns();
    auto lease = m_.cluster().acquire(resource, opts);
    const std::int64_t took_us = (true_now_ns() - start) / 1000;
    if (!lease) {
      return say(answer("acquire", resource)
                     .boolean("ok", false)
                     .str("error", baton::errc_name(lease.code()))
                     .str("what", lease.what())
                     .num("latency_us", took_us)
                     .num("at_ns", start)
                     .done());
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lease->time_left()).count();
    say(answer("acquire", resource)
            .boolean("ok", true)
            .unum("token", lease->token())
            .num("validity_ms", left)
            .num("latency_us", took_us)
            .num("at_ns", start)
            .done());
    leases_.emplace(resource, std::move(*lease));
  }

  void release(const std::string& resource) {
    auto it = leases_.find(resource);
    if (it == leases_.end()) return say(error_line("release", resource, "this shell holds no lease on it"));
    auto r = it->second.release();
    leases_.erase(it);
    say(result_line("release", resource, r));
  }

  void renew(const std::string& resource) {
    auto it = leases_.find(resource);
    if (it == leases_.end()) return say(error_line("renew", resource, "this shell holds no lease on it"));
    say(result_line("renew", resource, it->second.renew()));
  }

  Member& m_;
  std::uint64_t ttl_min_ms_;
  std::uint64_t ttl_max_ms_;
  std::map<std::string, baton::Lease> leases_;
};

}  // namespace

int cmd_shell(const Args& args) {
  FlagSet flags("shell", "--members ... (--id N | --client) [flags]",
                "Runs member N, or with --client a client of --members (no member slot, no --id, no state),\n"
                "and reads lease commands from stdin, one per line; answers each with one JSON line on stdout\n"
                "({\"op\":...,\"ok\":true|false,...}, with latency_us for acquire). The first line is\n"
                "{\"op\":\"ready\",\"id\":N,\"client\":false|true}, with a client's drawn id. Commands:\n"
                "  acquire RESOURCE [TTL_MS [WAIT_MS [renew]]]   (defaults 10000 and 0; renew: auto-renew)\n"
                "  release RESOURCE\n"
                "  renew RESOURCE\n"
                "  quit                                          (or end of input)\n"
                "A lost lease prints {\"op\":\"lost\",...} when it happens. Bad commands answer ok=false\n"
                "with error invalid_argument and change nothing. Leases still held at the end are released.");
  MemberFlags member;
  member.declare(flags, Role::member_or_client);
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"shell takes no positional arguments (commands come on stdin)"};
  baton::Config config = member.config(flags);
  auto m = Member::start(std::move(config), member.verbose);
  if (!m) return exit_failure;
  say(Json().str("op", "ready").unum("id", m->id()).boolean("client", m->cluster().is_client()).done());
  Shell shell(*m, member.ttl_min_ms, member.ttl_max_ms);
  std::string line;
  while (!stop_requested() && std::getline(std::cin, line)) {
    if (line.size() > kLineMax) {
      say(error_line("?", "", "command line longer than 4096 bytes"));
      continue;
    }
    if (!shell.run(line)) break;
  }
  return exit_ok;
}

}  // namespace batonctl
