// SPDX-License-Identifier: Apache-2.0
#include "runtime/mailbox.hpp"

#include "core/assert.hpp"

namespace baton::runtime {

Mailbox::Mailbox(std::size_t capacity, std::function<void()> on_batch)
    : queue_(capacity), on_batch_(std::move(on_batch)) {}

Result<void> Mailbox::start(uv_loop_t* loop) {
  if (uv_async_init(loop, &async_, &Mailbox::on_async) != 0) return Error{Errc::io_error, "mailbox: uv_async_init failed"};
  async_.data = this;
  return {};
}

Result<void> Mailbox::result_of(PushResult r) {
  switch (r) {
    case PushResult::ok: return {};
    case PushResult::full: return Error{Errc::overloaded, "too many calls queued for the loop"};
    case PushResult::closed: return Error{Errc::stopped, "the cluster is stopping"};
  }
  return Error{Errc::stopped, "the cluster is stopping"};
}

bool Mailbox::quiet_post() {
  if (std::this_thread::get_id() != loop_thread_.load(std::memory_order_relaxed)) return false;
  if (!in_batch_.load(std::memory_order_relaxed)) return false;
  queued_quietly_ = true;
  return true;
}

Result<void> Mailbox::post(Task task) {
  if (quiet_post()) return result_of(queue_.push(std::move(task)));
  return result_of(queue_.push(std::move(task), [this] { uv_async_send(&async_); }));
}

Result<void> Mailbox::post_reserved(Task task) {
  if (quiet_post()) return result_of(queue_.push_reserved(std::move(task)));
  return result_of(queue_.push_reserved(std::move(task), [this] { uv_async_send(&async_); }));
}

bool Mailbox::run_all() {
  queued_quietly_ = false;
  queue_.drain(batch_);
  const bool ran = !batch_.empty();
  const bool was_running = running_;
  running_ = true;
  for (Task& t : batch_) t();
  running_ = was_running;
  batch_.clear();
  return ran;
}

bool Mailbox::run_queued() {
  if (!queued_quietly_) return false;  // other threads' tasks woke the loop already
  return run_all();
}

void Mailbox::end_batch() {
  in_batch_.store(false, std::memory_order_relaxed);
  // Calls the last round's callbacks made: they run in the next batch.
  if (queued_quietly_) uv_async_send(&async_);
}

void Mailbox::on_async(uv_async_t* async) {
  auto* self = static_cast<Mailbox*>(async->data);
  // One batch: everything queued until now. Tasks posted while it runs wake
  // the loop again (uv_async_send coalesces) and form the next batch.
  self->run_all();
  self->on_batch_();
}

}  // namespace baton::runtime
