// Mailbox: how calls from any thread reach the loop thread (STYLE.md 12).
// A BoundedQueue of tasks plus one uv_async_t that wakes the loop; the loop
// runs every task queued so far in one batch, then the driver flushes the
// core's output once.
//
// uv_async_send is only called under the queue's lock and only while the
// queue is open; close() shuts the queue under that lock before the handle is
// closed, so no thread can touch a closing handle.
#pragma once

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

  // Loop thread: refuses later posts and returns the tasks still queued.
  std::vector<Task> close_queue() { return queue_.close(); }
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&async_); }

 private:
  static void on_async(uv_async_t* async);
  Result<void> result_of(PushResult r);

  BoundedQueue<Task> queue_;        // tasks from any thread, oldest first
  std::function<void()> on_batch_;  // the driver's flush, after every batch
  std::vector<Task> batch_;         // tasks being run (loop thread only)
  uv_async_t async_{};              // wakes the loop; closed by the driver
};

}  // namespace baton::runtime
