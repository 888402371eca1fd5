// SPDX-License-Identifier: Apache-2.0
// The fenced register's datagrams (shared/HISTORY.md, "The fenced register"):
//
//   request: W <resource> <token> <node> <incarnation> <req_id> <true_sent_ns>
//   answer:  A <highest> <req_id>   (accepted)   or   R <highest> <req_id>   (rejected)
//
// The answer's trailing req_id is an addition to HISTORY.md's `A <highest>`:
// a writer whose previous write timed out can tell a late answer from the
// current one. Readers that take only the first two fields still work.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace batonctl {

struct WriteRequest {
  std::string resource;
  std::uint64_t token = 0;
  std::string node;
  std::uint64_t incarnation = 0;
  std::uint64_t req_id = 0;
  std::int64_t true_sent_ns = 0;
};

struct WriteAnswer {
  bool accepted = false;
  std::uint64_t highest = 0;
  std::optional<std::uint64_t> req_id;
};

std::string format_request(const WriteRequest& w);
std::optional<WriteRequest> parse_request(std::string_view text);
std::string format_answer(const WriteAnswer& a);
std::optional<WriteAnswer> parse_answer(std::string_view text);

}  // namespace batonctl
