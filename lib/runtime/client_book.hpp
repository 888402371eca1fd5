// SPDX-License-Identifier: Apache-2.0
// ClientBook: where to answer each client (issue 21). A client has no
// configured address: a voter answers it at the source address of its latest
// accepted datagram (authenticated, and new to the client's replay window, so
// a replayed datagram cannot move it). At most `capacity` clients, the least
// recently heard evicted first; the core's answer to an evicted client is not
// sent (counted), which the client sees as a lost datagram and retries.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <unordered_map>

#include "codec/replay_window.hpp"
#include "core/assert.hpp"
#include "core/ids.hpp"

namespace baton::runtime {

class ClientBook {
 public:
  explicit ClientBook(std::size_t capacity) : capacity_(capacity) { BATON_ASSERT(capacity_ > 0); }

  // `client` was heard from `from` just now. Full: evicts the least
  // recently heard client that `pinned` does not name (one with a hold or
  // waiter here; codec::ClientWindows keeps the same ones), else the least
  // recently heard.
  void heard(core::MemberId client, const sockaddr_storage& from,
             const std::function<bool(core::MemberId)>& pinned = {}) {
    if (auto it = index_.find(client.value); it != index_.end()) {
      it->second->addr = from;
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    if (index_.size() >= capacity_) {
      auto victim = codec::least_recent_unpinned(lru_, pinned, [](const Entry& e) { return core::MemberId(e.id); });
      if (victim == lru_.end()) victim = std::prev(lru_.end());  // an address only: the oldest goes
      index_.erase(victim->id);
      lru_.erase(victim);
      ++evictions_;
    }
    lru_.push_front(Entry{.id = client.value, .addr = from});
    index_.emplace(client.value, lru_.begin());
  }
  // Its address, or null if it is not (or no longer) known.
  const sockaddr_storage* find(core::MemberId client) const {
    auto it = index_.find(client.value);
    return it == index_.end() ? nullptr : &it->second->addr;
  }
  std::size_t size() const { return index_.size(); }
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::uint32_t id;
    sockaddr_storage addr;
  };
  std::size_t capacity_;
  std::list<Entry> lru_;  // most recently heard first
  std::unordered_map<std::uint32_t, std::list<Entry>::iterator> index_;
  std::uint64_t evictions_ = 0;
};

}  // namespace baton::runtime
