// SPDX-License-Identifier: Apache-2.0
// Mailbox: how calls from any thread reach the loop thread (STYLE.md 12).
// A BoundedQueue of tasks plus one uv_async_t that wakes the loop; the loop
// runs every task queued so far in one batch, then the driver flushes the
// core's output once.
//
// uv_async_send is only called under the queue's lock and only while the
// queue is open; close() shuts the queue under that lock before the handle is
// closed, so no thread can touch a closing handle.
#pragma once

#include <atomic>
#include <thread>

#include <uv.h>

#include <functional>
#include <vector>

#include "baton/result.hpp"
#include "runtime/bounded_queue.hpp"

namespace baton::runtime {

class Mailbox {
 public:
  using Task = std::function<void()>;

  // `capacity`: tasks queued at most (post_reserved aside). `on_batch` runs on
  // the loop after each batch of tasks.
  Mailbox(std::size_t capacity, std::function<void()> on_batch);
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Loop thread, once. Errors: io_error.
  Result<void> start(uv_loop_t* loop);

  // Any thread. Errors: overloaded (queue full, nothing queued), stopped.
  Result<void> post(Task task);
  // Any thread; never overloaded. Only for tasks bounded elsewhere (one
  // release per lease, the shutdown). Errors: stopped.
  Result<void> post_reserved(Task task);

  // Loop thread. Between begin_batch() and end_batch(), while the driver
  // delivers a batch's events, a task posted from the loop thread itself (a
  // callback calling acquire or release) is queued without waking the loop:
  // the driver runs it in the same batch with run_queued(), and end_batch()
  // wakes the loop for any left. That saves the eventfd write, the wakeup
  // and its read per call, and sends the call's messages with the batch's.
  void begin_batch() {
    // The loop thread is known here, not in start(): the driver is made, and
    // start() runs, on the thread that starts the cluster. Only the loop
    // thread calls this (the driver's batches after start()).
    loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    in_batch_.store(true, std::memory_order_relaxed);
  }
  void end_batch();
  // Loop thread: runs the tasks queued without a wakeup (and any others
  // queued by then); false if none ran.
  bool run_queued();

  // Loop thread: a batch of tasks is running (the driver flushes after it).
  bool running() const { return running_; }

  // Loop thread: refuses later posts and returns the tasks still queued.
  std::vector<Task> close_queue() { return queue_.close(); }
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&async_); }

 private:
  static void on_async(uv_async_t* async);
  // Runs every task queued now; false if there was none.
  bool run_all();
  // On the loop thread inside a batch: the post needs no wakeup (noted).
  bool quiet_post();
  Result<void> result_of(PushResult r);

  BoundedQueue<Task> queue_;        // tasks from any thread, oldest first
  std::function<void()> on_batch_;  // the driver's flush, after every batch
  std::vector<Task> batch_;         // tasks being run (loop thread only)
  uv_async_t async_{};              // wakes the loop; closed by the driver
  // The thread that runs batches (begin_batch); never equal to any other
  // thread's id, whatever value another thread reads.
  std::atomic<std::thread::id> loop_thread_{};
  // Written by the loop thread only, read by post() only on the loop thread;
  // atomic because a compiler may load it before the thread check.
  std::atomic<bool> in_batch_{false};  // between begin_batch and end_batch
  bool queued_quietly_ = false;     // loop thread only: a post skipped the wakeup
  bool running_ = false;            // loop thread only: run_all() is running tasks
};

}  // namespace baton::runtime
