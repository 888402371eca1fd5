// SPDX-License-Identifier: Apache-2.0
// deliver, drop, duplicate, partition, heal: the network between members.
#include <stdexcept>

#include "format.hpp"
#include "handlers/handlers.hpp"

namespace baton::scenario {

using namespace baton::core;

namespace {
// Removes and returns up to `max` queued messages that pass `keep`, in order.
template <typename Pred>
std::vector<InFlight> take(World& w, std::size_t max, Pred keep) {
  std::vector<InFlight> out;
  auto& q = w.queue();
  for (auto it = q.begin(); it != q.end() && out.size() < max;) {
    if (keep(*it)) {
      out.push_back(std::move(*it));
      it = q.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::size_t count_arg(const Cmd& c) { return std::stoul(value_arg(c, "count", "1000000")); }
}  // namespace

// deliver [n1->n2] [count=K] [age=100ms]: delivers the messages queued now
// (not the answers they cause), oldest first; with age=, only those queued
// at least that long ago (a network with that one-way delay). Messages to a
// paused member stay queued.
std::string cmd_deliver(World& w, const Cmd& c) {
  const LinkFilter f = link_arg(c);
  const std::int64_t age = parse_duration(value_arg(c, "age", "0s")).count_ns();
  auto msgs = take(w, count_arg(c), [&](const InFlight& m) {
    return f.matches(m) && !w.member(m.to).paused && w.true_now() - m.sent_at >= age;
  });
  if (msgs.empty()) return "no messages";
  std::string out;
  for (const InFlight& m : msgs) w.deliver(m, out);
  return out;
}

std::string cmd_drop(World& w, const Cmd& c) {
  const LinkFilter f = link_arg(c);
  auto msgs = take(w, count_arg(c), [&](const InFlight& m) { return f.matches(m); });
  if (msgs.empty()) return "no messages";
  std::string out;
  for (const InFlight& m : msgs) out += "dropped: " + w.link(m) + " " + fmt_message(m.msg) + "\n";
  return out;
}

// duplicate n1->n2: queues a second copy of every queued message on the link.
std::string cmd_duplicate(World& w, const Cmd& c) {
  const LinkFilter f = link_arg(c);
  std::vector<InFlight> copies;
  for (const InFlight& m : w.queue())
    if (f.matches(m)) copies.push_back(m);
  if (copies.empty()) return "no messages";
  std::string out;
  for (InFlight& m : copies) {
    out += "duplicated: " + w.link(m) + " " + fmt_message(m.msg) + "\n";
    w.queue().push_back(std::move(m));
  }
  return out;
}

// delay n1->n2 [count=K]: moves matching queued messages behind all others
// (reordering: they will be delivered after what is queued now).
std::string cmd_delay(World& w, const Cmd& c) {
  const LinkFilter f = link_arg(c);
  auto msgs = take(w, count_arg(c), [&](const InFlight& m) { return f.matches(m); });
  if (msgs.empty()) return "no messages";
  std::string out;
  for (InFlight& m : msgs) {
    out += "delayed: " + w.link(m) + " " + fmt_message(m.msg) + "\n";
    w.queue().push_back(std::move(m));
  }
  return out;
}

// partition n1 | n2 n3: messages between sides are dropped when delivered.
std::string cmd_partition(World& w, const Cmd& c) {
  std::vector<std::set<MemberId>> sides(1);
  for (const std::string& p : c.pos) {
    if (p == "|") {
      sides.emplace_back();
    } else {
      sides.back().insert(parse_member(p));
    }
  }
  if (sides.size() < 2) throw std::runtime_error("partition: expected `a b | c d`");
  w.set_partition(sides);
  std::string out = "partition:";
  for (std::size_t i = 0; i < sides.size(); ++i) {
    if (i) out += " |";
    for (MemberId m : sides[i]) out += " " + fmt_member(m);
  }
  return out;
}

std::string cmd_heal(World& w, const Cmd&) {
  w.set_partition({});
  return "healed";
}

}  // namespace baton::scenario
