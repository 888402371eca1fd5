// SPDX-License-Identifier: Apache-2.0
#include "common.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace batonctl {

namespace {
std::atomic<bool> g_stop{false};
std::mutex g_stop_mutex;
std::condition_variable g_stop_cv;

// How often the member's drop counters are compared (a log line per rise).
constexpr auto monitor_period = std::chrono::seconds(1);
}  // namespace

std::int64_t true_now_ns() {
  timespec ts{};
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::int64_t local_now_ns() { return baton::BootClock::now().time_since_epoch().count(); }

void install_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    {
      std::lock_guard<std::mutex> lock(g_stop_mutex);
      g_stop = true;
    }
    g_stop_cv.notify_all();
  }).detach();
}

bool stop_requested() { return g_stop.load(); }

bool sleep_or_stop(std::chrono::nanoseconds d) {
  std::unique_lock<std::mutex> lock(g_stop_mutex);
  return g_stop_cv.wait_for(lock, d, [] { return g_stop.load(); });
}

void log_line(std::uint32_t id, std::string_view level, std::string_view text) {
  const std::string who = id == 0 ? "client" : std::to_string(id);
  std::string line = "batonctl[" + who + "] " + std::string(level) + ": " + std::string(text) + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

std::unique_ptr<Member> Member::start(baton::Config config, bool verbose) {
  // A client's id is drawn inside Cluster::start: lines logged before it is
  // known say "client", later ones the id.
  auto id = std::make_shared<std::atomic<std::uint32_t>>(config.self);
  config.log = [id, verbose](baton::LogLevel level, std::string_view text) {
    if (level == baton::LogLevel::debug && !verbose) return;
    log_line(id->load(), baton::log_level_name(level), text);
  };
  auto c = baton::Cluster::start(std::move(config));
  if (!c) {
    log_line(id->load(), "error", std::string("cannot start: ") + std::string(baton::errc_name(c.code())) + ": " +
                                      std::string(c.what()));
    return nullptr;
  }
  id->store((*c)->self());
  std::unique_ptr<Member> m(new Member());
  m->id_ = id->load();
  m->cluster_ = std::move(*c);
  m->monitor_ = std::make_unique<std::thread>([p = m.get()] { p->monitor(); });
  return m;
}

Member::~Member() {
  done_ = true;
  if (monitor_) monitor_->join();
  if (cluster_) cluster_->stop();
}

void Member::monitor() {
  baton::Stats last = cluster_->stats();
  auto next = std::chrono::steady_clock::now() + monitor_period;
  while (!done_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (std::chrono::steady_clock::now() < next) continue;
    next += monitor_period;
    const baton::Stats s = cluster_->stats();
    for (std::size_t i = 0; i < baton::drop_reason_count; ++i) {
      if (s.drops[i] == last.drops[i]) continue;
      const auto reason = static_cast<baton::DropReason>(i);
      std::string text = "dropped " + std::to_string(s.drops[i] - last.drops[i]) + " datagram(s): " +
                         std::string(baton::drop_reason_name(reason)) + " (total " + std::to_string(s.drops[i]) + ")";
      if (reason == baton::DropReason::bad_auth)
        text += ": a peer (or this member) has the wrong --key-file; members with another key are ignored";
      if (reason == baton::DropReason::config_mismatch)
        text += ": a peer (or this member) runs another --members list or replica count; its votes are refused "
                "(see the error lines and `batonctl status`)";
      log_line(id_, "warn", text);
    }
    last = s;
  }
}

}  // namespace batonctl
