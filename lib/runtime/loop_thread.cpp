// SPDX-License-Identifier: Apache-2.0
#include "runtime/loop_thread.hpp"

#include "core/assert.hpp"

namespace baton::runtime {

Result<std::unique_ptr<LoopThread>> LoopThread::create() {
  std::unique_ptr<LoopThread> t(new LoopThread());
  if (uv_loop_init(&t->loop_) != 0) {
    t->closed_ = true;
    return Error{Errc::io_error, "loop: uv_loop_init failed"};
  }
  return t;
}

LoopThread::~LoopThread() { join(); }

void LoopThread::start() {
  BATON_ASSERT(!thread_.joinable());
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void LoopThread::join() {
  if (closed_) return;
  if (thread_.joinable()) {
    thread_.join();
  } else {
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  // Every handle was closed and its close callback ran: nothing leaks.
  const int rc = uv_loop_close(&loop_);
  BATON_ASSERT(rc == 0);
  closed_ = true;
}

}  // namespace baton::runtime
