// SPDX-License-Identifier: Apache-2.0
#include "history.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "common.hpp"

namespace batonctl {

namespace {
// shared/HISTORY.md: keep a clock sample only if the two true readings
// around the local one are within 50 us.
constexpr std::int64_t clock_sample_spread_max_ns = 50'000;
}  // namespace

std::optional<History*> History::open(const std::string& path, std::uint32_t node, std::uint64_t incarnation,
                                      std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  auto* h = new History();
  h->fd_ = fd;
  h->node_ = node;
  h->incarnation_ = incarnation;
  return h;
}

History::~History() {
  stop_clock_sampler();
  if (fd_ >= 0) ::close(fd_);
}

Json History::begin(std::string_view type) {
  Json j;
  j.num("v", 1).str("node", std::to_string(node_)).unum("incarnation", incarnation_);
  // seq is added in write(), under the lock, so file order is seq order.
  j.str("type", type);
  return j;
}

bool History::write(const Json& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  Json copy = record;
  copy.unum("seq", ++seq_);
  const std::string line = copy.done() + "\n";
  // One write(2) on an O_APPEND file: a SIGKILL tears at most this line.
  const ssize_t n = ::write(fd_, line.data(), line.size());
  return n == static_cast<ssize_t>(line.size());
}

void History::sample_clock() {
  // A preemption between the readings spoils a sample: try a few times.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::int64_t t1 = true_now_ns();
    const std::int64_t local = local_now_ns();
    const std::int64_t t2 = true_now_ns();
    if (t2 - t1 > clock_sample_spread_max_ns) continue;
    write(begin("clock").num("local_ns", local).num("true_ns", t1 + (t2 - t1) / 2));
    return;
  }
}

void History::start_clock_sampler() {
  sample_clock();
  sampler_ = std::thread([this] {
    std::mt19937 rng(static_cast<unsigned>(true_now_ns()));
    std::uniform_int_distribution<int> period_ms(10, 50);
    while (!sampler_stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(period_ms(rng)));
      sample_clock();
    }
  });
}

void History::stop_clock_sampler() {
  sampler_stop_ = true;
  if (sampler_.joinable()) sampler_.join();
}

}  // namespace batonctl
