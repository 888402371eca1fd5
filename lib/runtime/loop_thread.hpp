// SPDX-License-Identifier: Apache-2.0
// LoopThread: a uv_loop_t on a thread Baton owns.
//
// Life: create() initializes the loop; handles are added on the calling
// thread before start() (nothing runs the loop yet, so that is safe); start()
// runs uv_run on a new thread until no handle is left; join() waits for that
// and closes the loop, asserting that nothing leaked (uv_loop_close == 0,
// libuv's MAKE_VALGRIND_HAPPY discipline).
#pragma once

#include <uv.h>

#include <memory>
#include <thread>

#include "baton/result.hpp"

namespace baton::runtime {

class LoopThread {
 public:
  static Result<std::unique_ptr<LoopThread>> create();
  ~LoopThread();  // join()
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  uv_loop_t* loop() { return &loop_; }
  void start();
  // Waits for the loop to run out of handles, then closes it. Runs the loop
  // on the calling thread if start() was never called (a failed start that
  // left closing handles behind). Idempotent.
  void join();
  std::thread::id thread_id() const { return thread_.get_id(); }

 private:
  LoopThread() = default;
  uv_loop_t loop_{};
  std::thread thread_;
  bool closed_ = false;  // uv_loop_close done
};

}  // namespace baton::runtime
