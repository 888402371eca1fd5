// SPDX-License-Identifier: Apache-2.0
// FenceGuard: the resource side of fencing (DESIGN Guarantee 2, STYLE.md 14).
//
// A lease alone cannot protect a resource: a holder can pause (GC, swap,
// SIGSTOP, a suspended VM) past the end of its validity and then write as if
// it still held the lease. The protected resource closes that gap by
// remembering, per resource, the highest fencing token it has seen and
// refusing writes that carry a lower one. Baton's tokens strictly increase
// across successive leases of a resource, so a superseded holder's token is
// always below its successor's.
//
// Header-only, standard library only: a database proxy, a file server or an
// HTTP API uses it without linking libuv, libsodium or the rest of Baton.
//
// Rules (the SQL form in docs/api.md follows the same rules):
//   - A token >= the highest seen for the resource is admitted and becomes the
//     highest. Equal is admitted on purpose: the same holder writes several
//     times with the token of one lease. (A token is never shared by two
//     leases of one resource, so equality means "the same lease".)
//   - A token below the highest seen is rejected with Errc::stale_token and
//     changes nothing.
//   - Token 0 means "no token" and is rejected with Errc::invalid_argument.
//
// Bounded: at most `resources_max` entries. When a new resource arrives and
// the table is full, the entry written least recently is evicted and its
// token folded into a single `floor`; a resource without an entry behaves as
// if its highest token were `floor`. Eviction is therefore safe (it can never
// admit a token lower than one already admitted for that resource) but may
// reject a first write of a resource whose tokens happen to lie below the
// floor. Size `resources_max` above the number of resources written within
// one lease ttl and that never happens in practice.
//
// Thread-safe: every member function takes an internal mutex. To make "check
// the token, then write" atomic with respect to other writers, use
// `guarded(resource, token, write)`, which runs `write` under that mutex only
// when the token is admitted. A separate admit() followed by a write would let
// a stale writer that passed its check write after a newer holder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "baton/result.hpp"

namespace baton {

class FenceGuard {
 public:
  static constexpr std::size_t resources_max_default = 1u << 16;

  explicit FenceGuard(std::size_t resources_max = resources_max_default)
      : resources_max_(resources_max == 0 ? 1 : resources_max) {}

  FenceGuard(const FenceGuard&) = delete;
  FenceGuard& operator=(const FenceGuard&) = delete;

  // Admits `token` for `resource` (records it as the highest) or rejects it.
  // Errors: invalid_argument (token 0: the caller has no lease), stale_token
  // (a newer lease has written: the caller must stop and re-acquire).
  Result<void> admit(std::string_view resource, std::uint64_t token) {
    std::lock_guard<std::mutex> lock(mutex_);
    return admit_locked(resource, token);
  }

  // admit(), and when admitted, runs `write()` before the lock is released, so
  // no write with a lower token can slip in between the check and the write.
  // `write` must not call back into this guard (the mutex is not recursive).
  template <typename Write>
  Result<void> guarded(std::string_view resource, std::uint64_t token, Write&& write) {
    std::lock_guard<std::mutex> lock(mutex_);
    Result<void> r = admit_locked(resource, token);
    if (r.ok()) std::forward<Write>(write)();
    return r;
  }

  // The highest token admitted for `resource` (the floor if it has no entry).
  std::uint64_t highest(std::string_view resource) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(resource);
    return it == entries_.end() ? floor_ : it->second.token;
  }

  // Entries currently held (<= resources_max).
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }

  // The highest token ever evicted: the effective fence of every resource
  // without an entry.
  std::uint64_t floor() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return floor_;
  }

 private:
  struct Entry {
    std::uint64_t token = 0;                        // highest token admitted for the resource
    std::list<std::string>::iterator recency;       // position in recency_ (front: least recent)
  };

  Result<void> admit_locked(std::string_view resource, std::uint64_t token) {
    if (token == 0) return Error{Errc::invalid_argument, "fence: token 0 is not a lease's token"};
    auto it = entries_.find(resource);
    if (it == entries_.end()) {
      // Guarantee 2 carried to the resource: an evicted resource's last token
      // is at most floor_, so admitting only tokens >= floor_ stays safe.
      if (token < floor_) return Error{Errc::stale_token, "fence: token below the evicted floor"};
      if (entries_.size() >= resources_max_) evict_one();
      recency_.emplace_back(resource);
      entries_.emplace(recency_.back(), Entry{token, std::prev(recency_.end())});
      return {};
    }
    Entry& e = it->second;
    if (token < e.token) return Error{Errc::stale_token, "fence: a newer lease has written"};
    e.token = token;
    recency_.splice(recency_.end(), recency_, e.recency);  // most recent to the back
    return {};
  }

  void evict_one() {
    auto it = entries_.find(recency_.front());
    if (it->second.token > floor_) floor_ = it->second.token;
    entries_.erase(it);
    recency_.pop_front();
  }

  mutable std::mutex mutex_;
  std::size_t resources_max_;                            // entries kept before evicting
  std::map<std::string, Entry, std::less<>> entries_;    // resource -> highest admitted token
  std::list<std::string> recency_;                       // resources, least recently written first
  std::uint64_t floor_ = 0;                              // highest token ever evicted
};

}  // namespace baton
