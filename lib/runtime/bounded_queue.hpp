// SPDX-License-Identifier: Apache-2.0
// BoundedQueue: the thread-safe, bounded hand-off from API threads to the loop
// thread (STYLE.md 5 and 12). Producers on any thread push; the loop thread
// drains everything queued so far in one go (one wakeup, one batch).
//
// Full is an operating condition, not a bug: push() reports it and the API
// turns it into Errc::overloaded, with nothing queued. push_reserved() ignores
// the capacity for the few items whose number is bounded elsewhere (one
// release per lease, one shutdown), which must never be refused.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace baton::runtime {

enum class PushResult { ok, full, closed };

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) { items_.reserve(capacity); }

  // `after` runs under the queue's lock once the item is queued. The mailbox
  // wakes the loop there, so a wakeup can never race with close().
  template <typename After = void (*)()>
  PushResult push(T item, After after = [] {}) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return PushResult::closed;
    if (items_.size() >= capacity_) return PushResult::full;
    items_.push_back(std::move(item));
    after();
    return PushResult::ok;
  }

  // Like push() but never `full`: for items bounded by something else.
  template <typename After = void (*)()>
  PushResult push_reserved(T item, After after = [] {}) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return PushResult::closed;
    items_.push_back(std::move(item));
    after();
    return PushResult::ok;
  }

  // Moves every queued item into `out` (cleared first), oldest first.
  void drain(std::vector<T>& out) {
    out.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(out, items_);
    items_.reserve(capacity_);
  }

  // Refuses every later push; returns what was still queued.
  std::vector<T> close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    std::vector<T> rest;
    std::swap(rest, items_);
    return rest;
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  mutable std::mutex mutex_;
  const std::size_t capacity_;  // items queued at most (push_reserved aside)
  std::vector<T> items_;        // oldest first
  bool closed_ = false;         // set once by close(); pushes then fail
};

}  // namespace baton::runtime
