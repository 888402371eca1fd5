// SPDX-License-Identifier: Apache-2.0
// The torture history writer (shared/HISTORY.md, version 1): one JSON object
// per line, each line one write(2) on an O_APPEND file, written before the
// program acts on it; and the `clock` sampler.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

namespace batonctl {

// A JSON object under construction, fields in the order added: a typed
// builder over nlohmann::ordered_json (the kept library, docs/dependencies.md).
class Json {
 public:
  Json& str(std::string_view key, std::string_view value) { return set(key, std::string(value)); }
  Json& num(std::string_view key, std::int64_t value) { return set(key, value); }
  Json& unum(std::string_view key, std::uint64_t value) { return set(key, value); }
  Json& boolean(std::string_view key, bool value) { return set(key, value); }
  Json& set(std::string_view key, nlohmann::ordered_json value) {
    j_[std::string(key)] = std::move(value);
    return *this;
  }
  // One line of JSON. Bytes that are not UTF-8 (a resource name from stdin)
  // come out as U+FFFD instead of throwing.
  std::string done() const { return dump(j_); }
  static std::string dump(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }

 private:
  nlohmann::ordered_json j_ = nlohmann::ordered_json::object();
};

class History {
 public:
  // Opens (creates, appends to) `path`. Errors: empty optional, errno in `error`.
  static std::optional<History*> open(const std::string& path, std::uint32_t node, std::uint64_t incarnation,
                                      std::string& error);
  ~History();

  // Starts a record with v, node, incarnation, seq, type; finish it with
  // write(). Records are numbered in the order they are written.
  Json begin(std::string_view type);
  // Adds seq and writes the line (one write(2)). False on a write error.
  bool write(const Json& record);

  // Samples the clocks every 10 to 50 ms on a thread of its own until stopped.
  void start_clock_sampler();
  void stop_clock_sampler();
  // One `clock` record now (if the sample is tight enough).
  void sample_clock();

 private:
  History() = default;

  int fd_ = -1;
  std::uint32_t node_ = 0;
  std::uint64_t incarnation_ = 0;
  std::mutex mutex_;      // seq and the write happen together
  std::uint64_t seq_ = 0;  // last seq written
  std::atomic<bool> sampler_stop_{false};
  std::thread sampler_;
};

}  // namespace batonctl
