// SPDX-License-Identifier: Apache-2.0
// Issue 5: a holder stopped with SIGSTOP past its validity and then continued
// learns that it lost the lease, and the fencing helper rejects its write.
//
// The parent is the protected resource (a FenceGuard in front of one value)
// and members 2 and 3. A forked child is member 1: it takes the lease with
// auto-renew on (so only the stop can end it), writes once through the
// parent's guard, and reports ready. The parent stops it with SIGSTOP, waits
// well past its validity, takes the lease from member 2 with a higher token,
// writes, and continues the child. The child must see the loss (valid() false,
// on_lost) and still tries its stale write, as a buggy client would; the guard
// rejects it. Child and parent talk over a socketpair, one line per message:
//   child -> parent  "W <token>"            a write; the parent answers "A" or "R"
//   child -> parent  "READY <token>"         holding, wrote once; stop me now
//   parent -> child  "GO <boottime ns>"      (queued while stopped) you were continued
//   child -> parent  "REPORT ..." / "ERR .." what the child saw after the resume
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kResource = "row:7";
constexpr auto kTtl = 1s;

// Sends one line (appends '\n'). False on error.
bool send_line(int fd, const std::string& line) {
  const std::string s = line + "\n";
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one line (without '\n') within `timeout`; nullopt on timeout, EOF or
// error. Byte at a time: the messages are few and short.
std::optional<std::string> recv_line(int fd, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  std::string line;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char c = 0;
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    line.push_back(c);
  }
}

// ---- child: member 1, the holder that will be stopped ----

// Writes through the parent's guard; true when admitted.
std::optional<bool> child_write(int fd, std::uint64_t token) {
  if (!send_line(fd, "W " + std::to_string(token))) return std::nullopt;
  auto answer = recv_line(fd, 60s);
  if (!answer) return std::nullopt;
  return *answer == "A";
}

[[noreturn]] void child_fail(int fd, const std::string& why, int code) {
  (void)send_line(fd, "ERR " + why);
  _exit(code);
}

[[noreturn]] void run_child(const std::vector<std::uint16_t>& ports, int fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a parent that failed
  if (::getppid() == 1) _exit(20);
  auto c = Cluster::start(test::member_config(ports, 1));
  if (!c) child_fail(fd, "start: " + std::string(c.what()), 10);

  // Written on the loop thread, read here: atomics. -1: not lost. lost_at:
  // BootClock (CLOCK_BOOTTIME, the same clock in both processes) when on_lost ran.
  std::atomic<int> lost_reason{-1};
  std::atomic<std::int64_t> lost_at{0};
  AcquireOptions o;
  o.ttl = kTtl;
  o.wait = 30s;  // members 2 and 3 start meanwhile in the parent
  o.auto_renew = true;  // renewals keep it alive: only the stop ends it
  o.on_lost = [&](LostReason r) {
    lost_at.store(BootClock::now().time_since_epoch().count());
    lost_reason.store(static_cast<int>(r));
  };
  auto lease = (*c)->acquire(kResource, o);
  if (!lease) child_fail(fd, "acquire: " + std::string(lease.what()), 11);
  const std::uint64_t token = lease->token();

  auto w = child_write(fd, token);
  if (!w) child_fail(fd, "first write: no answer", 12);
  if (!*w) child_fail(fd, "first write rejected", 13);
  if (!lease->valid()) child_fail(fd, "lease invalid before the stop", 14);
  if (!send_line(fd, "READY " + std::to_string(token))) _exit(15);

  // Stopped in here by the parent; "GO <t>" is queued while we are stopped,
  // t read on BootClock before the parent continued us: nothing of ours ran
  // between t and the continue, so a loss reported at or after t was
  // reported after the resume (the loop thread may well run before this one).
  auto go = recv_line(fd, 120s);
  if (!go || go->rfind("GO ", 0) != 0) child_fail(fd, "no GO", 16);
  const std::int64_t continued_at = std::strtoll(go->c_str() + 3, nullptr, 10);

  // (a) At once, by the clock: valid() reads BootClock, which ran on while we
  // were stopped. Then the loop, running again, reports the loss.
  const bool valid_at_resume = lease->valid();
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (lost_reason.load() < 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(2ms);
  const int reason = lost_reason.load();
  const bool lost_after_resume = reason >= 0 && lost_at.load() >= continued_at;
  const bool valid_after = lease->valid();
  const bool has_lost_reason = lease->lost_reason().has_value();

  // (b) The buggy client writes anyway, with its old token.
  auto stale = child_write(fd, token);
  if (!stale) child_fail(fd, "stale write: no answer", 17);

  std::ostringstream report;
  report << "REPORT token=" << token << " valid_at_resume=" << valid_at_resume << " lost="
         << (reason < 0 ? std::string("none") : std::string(lost_reason_name(static_cast<LostReason>(reason))))
         << " lost_after_resume=" << lost_after_resume << " lost_reason_set=" << has_lost_reason
         << " valid_after=" << valid_after << " stale_write=" << (*stale ? "accepted" : "rejected");
  if (!send_line(fd, report.str())) _exit(18);
  (void)recv_line(fd, 30s);  // "BYE" (or EOF): the parent has read the report
  lease = Lease{};
  (*c)->stop();
  _exit(0);
}

// ---- parent ----

// Kills (if still running) and reaps the child on every way out of the test.
struct Child {
  pid_t pid = -1;
  bool reaped = false;
  int status = 0;
  ~Child() {
    if (pid > 0 && !reaped) {
      ::kill(pid, SIGKILL);  // also ends a stopped process
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  // Waits up to `timeout` for the child to exit.
  bool wait_exit(std::chrono::milliseconds timeout) {
    const bool done = test::eventually(
        [&] {
          const pid_t r = ::waitpid(pid, &status, WNOHANG);
          return r == pid;
        },
        timeout);
    reaped = done;
    return done;
  }
  // Waits up to `timeout` for the child to be stopped (after SIGSTOP).
  bool wait_stopped(std::chrono::milliseconds timeout) {
    return test::eventually(
        [&] {
          int st = 0;
          const pid_t r = ::waitpid(pid, &st, WNOHANG | WUNTRACED);
          return r == pid && WIFSTOPPED(st);
        },
        timeout);
  }
};

// The protected resource: one value behind a FenceGuard.
struct Resource {
  FenceGuard guard;
  std::string value;
  std::uint64_t written_by = 0;
  Result<void> write(std::uint64_t token) {
    return guard.guarded(kResource, token, [&] {
      value = "written with token " + std::to_string(token);
      written_by = token;
    });
  }
};

// Reads the child's lines, answering its writes ("W <token>") through the
// resource, until another message (returned) or the timeout/EOF (nullopt).
// Every write's outcome is appended to `writes`.
std::optional<std::string> serve_child(int fd, Resource& res, std::vector<std::string>& writes,
                                       std::chrono::milliseconds timeout) {
  for (;;) {
    auto line = recv_line(fd, timeout);
    if (!line || line->rfind("W ", 0) != 0) return line;
    const std::uint64_t token = std::strtoull(line->c_str() + 2, nullptr, 10);
    const Result<void> r = res.write(token);
    writes.push_back(std::to_string(token) + (r.ok() ? " accepted" : " rejected: " + std::string(r.what())));
    if (!send_line(fd, r.ok() ? "A" : "R")) return std::nullopt;
  }
}

TEST(SigstopHolder, StoppedPastValidityLearnsItLostAndItsWriteIsFenced) {
  // Fork before this process starts any thread (gtest_discover_tests runs
  // one test per process; gtest itself starts none).
  const auto ports = test::free_ports(3);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Child child;
  child.pid = ::fork();
  ASSERT_GE(child.pid, 0);
  if (child.pid == 0) {
    ::close(sv[0]);
    run_child(ports, sv[1]);
  }
  ::close(sv[1]);
  const int fd = sv[0];
  struct CloseFd {
    int fd;
    ~CloseFd() { ::close(fd); }
  } close_fd{fd};

  Resource res;
  auto m2 = Cluster::start(test::member_config(ports, 2));
  auto m3 = Cluster::start(test::member_config(ports, 3));
  ASSERT_TRUE(m2.ok() && m3.ok());

  // The child acquires and writes once (accepted), then is ready.
  std::vector<std::string> writes;
  auto ready = serve_child(fd, res, writes, 60s);
  ASSERT_TRUE(ready.has_value()) << "the child never got ready";
  ASSERT_EQ(ready->rfind("READY ", 0), 0u) << *ready;
  const std::uint64_t old_token = std::strtoull(ready->c_str() + 6, nullptr, 10);
  ASSERT_GT(old_token, 0u);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(res.written_by, old_token);
  // While the child holds (and renews), the resource is busy.
  EXPECT_TRUE(test::refused((*m2)->try_acquire(kResource, 500ms).code()));

  ASSERT_EQ(::kill(child.pid, SIGSTOP), 0);
  ASSERT_TRUE(child.wait_stopped(10s)) << "the child did not stop";
  const auto stopped_at = std::chrono::steady_clock::now();
  // Well past the child's validity (at most one ttl after its last renewal)
  // and the voters' holds (ttl·(1+rho)/(1−rho)): nothing to poll while the
  // child is stopped.
  std::this_thread::sleep_for(3 * kTtl);

  // Member 2 takes over with a higher token and writes.
  AcquireOptions o;
  o.ttl = 5s;  // outlives the rest of the test: the child cannot be re-granted meanwhile
  o.wait = 20s;
  auto fresh = (*m2)->acquire(kResource, o);
  ASSERT_TRUE(fresh.ok()) << fresh.what();
  EXPECT_GT(fresh->token(), old_token);
  ASSERT_TRUE(res.write(fresh->token()).ok());
  writes.push_back(std::to_string(fresh->token()) + " accepted");
  const auto takeover_after = std::chrono::steady_clock::now() - stopped_at;

  // Continue the child; "GO <now>" is already waiting for it.
  ASSERT_TRUE(send_line(fd, "GO " + std::to_string(BootClock::now().time_since_epoch().count())));
  ASSERT_EQ(::kill(child.pid, SIGCONT), 0);

  auto report = serve_child(fd, res, writes, 60s);
  ASSERT_TRUE(report.has_value()) << "the child never reported";
  ASSERT_EQ(report->rfind("REPORT ", 0), 0u) << *report;
  (void)send_line(fd, "BYE");
  std::cout << "[ child    ] " << *report << "\n[ takeover ] "
            << std::chrono::duration_cast<std::chrono::milliseconds>(takeover_after).count()
            << " ms after the stop\n";

  auto has = [&](const std::string& field) { return (" " + *report + " ").find(" " + field + " ") != std::string::npos; };
  EXPECT_TRUE(has("valid_at_resume=0")) << *report;  // by the clock, at once
  EXPECT_TRUE(has("lost=expired") || has("lost=superseded")) << *report;  // on_lost ran
  EXPECT_TRUE(has("lost_after_resume=1")) << *report;  // not lost before the stop
  EXPECT_TRUE(has("lost_reason_set=1")) << *report;
  EXPECT_TRUE(has("valid_after=0")) << *report;
  EXPECT_TRUE(has("stale_write=rejected")) << *report;
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[2].rfind(std::to_string(old_token) + " rejected", 0), 0u) << writes[2];
  EXPECT_EQ(res.written_by, fresh->token());
  EXPECT_EQ(res.guard.highest(kResource), fresh->token());

  ASSERT_TRUE(child.wait_exit(30s)) << "the child did not exit";
  EXPECT_TRUE(WIFEXITED(child.status) && WEXITSTATUS(child.status) == 0) << "status " << child.status;
}

}  // namespace
}  // namespace baton
