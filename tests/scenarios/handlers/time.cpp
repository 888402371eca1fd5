// SPDX-License-Identifier: Apache-2.0
// advance: true time moves (or one member's clock jumps); due deadlines fire.
#include "format.hpp"
#include "handlers/handlers.hpp"

namespace baton::scenario {

using namespace baton::core;

// advance 3s [n1]
std::string cmd_advance(World& w, const Cmd& c) {
  if (c.pos.empty()) throw std::runtime_error("advance: missing duration");
  const Duration d = parse_duration(c.pos[0]);
  std::string out;
  if (c.pos.size() > 1) {
    Member& m = w.member(member_arg(c, 1));
    w.advance_member(m, d, out);
    out = fmt_member(m.id) + ": clock jumped to local " + fmt_offset(w.local_now(m) - World::kClockStart) + "\n" + out;
  } else {
    w.advance_all(d, out);
    out += "now " + fmt_offset(Duration::ns(w.true_now())) + "\n";
  }
  return out;
}

}  // namespace baton::scenario
