// SPDX-License-Identifier: Apache-2.0
#include "register_proto.hpp"

#include <charconv>
#include <vector>

namespace batonctl {

namespace {

std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\r') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

template <typename T>
bool number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::string format_request(const WriteRequest& w) {
  return "W " + w.resource + " " + std::to_string(w.token) + " " + w.node + " " + std::to_string(w.incarnation) + " " +
         std::to_string(w.req_id) + " " + std::to_string(w.true_sent_ns);
}

std::optional<WriteRequest> parse_request(std::string_view text) {
  const auto f = fields(text);
  if (f.size() != 7 || f[0] != "W") return std::nullopt;
  WriteRequest w;
  w.resource = std::string(f[1]);
  w.node = std::string(f[3]);
  if (w.resource.size() > 128 || w.node.size() > 32) return std::nullopt;
  if (!number(f[2], w.token) || !number(f[4], w.incarnation) || !number(f[5], w.req_id) ||
      !number(f[6], w.true_sent_ns))
    return std::nullopt;
  return w;
}

std::string format_answer(const WriteAnswer& a) {
  std::string s = std::string(a.accepted ? "A " : "R ") + std::to_string(a.highest);
  if (a.req_id) s += " " + std::to_string(*a.req_id);
  return s;
}

std::optional<WriteAnswer> parse_answer(std::string_view text) {
  const auto f = fields(text);
  if (f.size() < 2 || f.size() > 3 || (f[0] != "A" && f[0] != "R")) return std::nullopt;
  WriteAnswer a;
  a.accepted = f[0] == "A";
  if (!number(f[1], a.highest)) return std::nullopt;
  if (f.size() == 3) {
    std::uint64_t id = 0;
    if (!number(f[2], id)) return std::nullopt;
    a.req_id = id;
  }
  return a;
}

}  // namespace batonctl
