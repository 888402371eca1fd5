// SPDX-License-Identifier: Apache-2.0
// SlotPool: a fixed set of preallocated objects handed out and taken back.
//
// The UDP transport needs memory that outlives a call: a send request and its
// bytes must stay put until libuv's send callback, and a received datagram
// until the batch that processes it. Allocating per datagram would grow
// without bound under load; a pool caps it, and running out is counted as a
// drop (STYLE.md 5: preallocate on the hot path, never grow).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/assert.hpp"

namespace baton::runtime {

template <typename T>
class SlotPool {
 public:
  explicit SlotPool(std::size_t slots) {
    storage_.reserve(slots);
    free_.reserve(slots);
    for (std::size_t i = 0; i < slots; ++i) {
      storage_.push_back(std::make_unique<T>());
      free_.push_back(storage_.back().get());
    }
  }
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;

  // A free slot, or nullptr when all are in use.
  T* acquire() {
    if (free_.empty()) return nullptr;
    T* slot = free_.back();
    free_.pop_back();
    return slot;
  }

  // Gives back a slot obtained from acquire(), exactly once.
  void release(T* slot) {
    BATON_ASSERT(slot != nullptr);
    BATON_ASSERT(free_.size() < storage_.size());
    free_.push_back(slot);
  }

  std::size_t capacity() const { return storage_.size(); }
  std::size_t in_use() const { return storage_.size() - free_.size(); }

 private:
  std::vector<std::unique_ptr<T>> storage_;  // every slot; addresses stable
  std::vector<T*> free_;                     // slots not handed out
};

}  // namespace baton::runtime
