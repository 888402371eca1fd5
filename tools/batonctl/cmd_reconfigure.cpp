// SPDX-License-Identifier: Apache-2.0
// batonctl reconfigure: asks one member, as an observer (sender 0, with the
// cluster key), to move the voters to --voters, and waits for the outcome
// (issue 21 step 4; docs/operations.md "Changing the members"). The member
// drives the change itself; this process only asks and polls:
//
//   1. PING the chosen member (--member, or every member and take the
//      lowest-id one that answers): its PONG says which record it votes
//      under, the `expect` of the request.
//   2. CONFIG_CHANGE{nonce, expect, voters} every --interval-ms. The first
//      one starts the run (or is refused, with the reason); the re-sends
//      carry the same nonce and only ask how far it got (running, done), so a
//      lost datagram either way costs one interval.
//   3. Print the outcome. Exit 0 only when committed.
#include <sys/random.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <variant>

#include "commands.hpp"
#include "common.hpp"
#include "history.hpp"
#include "observer.hpp"

namespace batonctl {

namespace {

using baton::core::ChangeState;

// "1,2,4": member ids of --members, no repeats, sorted. Throws UsageError naming the value.
std::vector<baton::core::MemberId> parse_voters(std::string_view text, const std::vector<baton::Member>& members) {
  std::vector<baton::core::MemberId> out;
  if (text.empty()) throw UsageError{"--voters is required: the new voters' member ids, e.g. --voters 1,2,4"};
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item(text.substr(start, comma - start));
    const bool digits = !item.empty() && item.size() <= 10 && item.find_first_not_of("0123456789") == std::string::npos;
    const std::uint64_t id = digits ? std::stoull(item) : 0;
    if (!digits || id == 0 || id > baton::member_id_max) {
      throw UsageError{"--voters: '" + item + "' is not a member id (1.." + std::to_string(baton::member_id_max) + ")"};
    }
    if (std::none_of(members.begin(), members.end(), [&](const baton::Member& m) { return m.id == id; })) {
      throw UsageError{"--voters: " + item + " is not one of --members (a new voter must be in every member's list "
                       "before it can vote; docs/operations.md \"Changing the members\")"};
    }
    const baton::core::MemberId m(static_cast<std::uint32_t>(id));
    if (std::find(out.begin(), out.end(), m) != out.end()) throw UsageError{"--voters: " + item + " is listed twice"};
    out.push_back(m);
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Target {
  baton::Member member;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  baton::core::CfgId cfg{};  // from its PONG
};

std::string voters_text(const std::vector<baton::core::MemberId>& v) {
  std::string out;
  for (auto m : v) out += (out.empty() ? "" : ",") + std::to_string(m.value);
  return "[" + out + "]";
}

// PINGs the candidates every interval for up to `timeout_ms` and returns the
// lowest-id one that answered (with the record id it votes under).
std::optional<Target> find_target(ObserverSocket& sock, std::vector<Target> candidates, std::uint64_t nonce,
                                  std::uint64_t interval_ms, std::uint64_t timeout_ms) {
  std::map<std::uint32_t, Target> answered;
  const std::int64_t end = true_now_ns() + static_cast<std::int64_t>(timeout_ms) * 1000000;
  std::uint64_t seq = 0;
  baton::codec::Decoded d;
  while (answered.empty() && true_now_ns() < end) {
    ++seq;
    for (const Target& t : candidates) {
      const baton::core::Message ping[] = {baton::core::Ping{.nonce = nonce}};
      sock.send(t.addr, t.addr_len, seq, ping);
    }
    // Collect answers for one interval; a slower member still counts in the next.
    const std::int64_t round_end = std::min(end, true_now_ns() + static_cast<std::int64_t>(interval_ms) * 1000000);
    for (;;) {
      const std::int64_t left_ms = (round_end - true_now_ns()) / 1000000;
      if (left_ms <= 0 || !sock.receive(static_cast<int>(left_ms), d)) break;
      const auto* pong = d.messages.size() == 1 ? std::get_if<baton::core::Pong>(&d.messages[0]) : nullptr;
      if (pong == nullptr || pong->nonce != nonce) continue;
      for (Target t : candidates) {
        if (t.member.id != d.header.sender.value) continue;
        t.cfg = pong->cfg;
        answered.emplace(t.member.id, t);
      }
    }
  }
  if (answered.empty()) return std::nullopt;
  return answered.begin()->second;
}

void print_outcome(const Target& t, const baton::core::ConfigChangeReply& r, std::int64_t elapsed_ns, bool json) {
  const bool done = r.state == ChangeState::done;
  const char* outcome = done ? baton::core::to_string(r.outcome) : "refused";
  if (json) {
    nlohmann::ordered_json j;
    j["member"] = t.member.id;
    j["outcome"] = outcome;
    j["epoch"] = r.record.id.epoch;
    j["ballot"] = r.record.id.ballot;
    std::vector<std::uint32_t> voters, joining;
    for (auto m : r.record.old_voters) voters.push_back(m.value);
    for (auto m : r.record.new_voters) joining.push_back(m.value);
    j["voters"] = voters;
    j["new_voters"] = joining;
    j["run_ballot"] = r.ballot;
    j["detail"] = r.detail;
    j["elapsed_ms"] = elapsed_ns / 1000000;
    std::printf("%s\n", Json::dump(j).c_str());
    return;
  }
  std::printf("reconfigure: %s at member %u after %.3f s: %s%s%s\n", outcome, t.member.id,
              static_cast<double>(elapsed_ns) / 1e9, baton::core::to_string(r.record).c_str(),
              r.detail.empty() ? "" : "; ", r.detail.c_str());
}

}  // namespace

int cmd_reconfigure(const Args& args) {
  FlagSet flags("reconfigure", "--members ... --voters ID,ID,... [--member ID] [--key-file F] [--timeout-ms N]",
                "Changes the voters online (issue 21; docs/operations.md \"Changing the members\"). Asks one member\n"
                "(--member, default: the lowest-id member that answers a PING) to move the voters to --voters, as\n"
                "an observer (sender id 0) authenticated with the cluster key: any holder of the key may ask.\n"
                "The member drives the change itself (a joint configuration of the old and new voters, a wait of\n"
                "ttl_max so that every lease of the old voters alone has ended, then the new voters' own), while\n"
                "leases are held, acquired, renewed and released. This command re-sends the request every\n"
                "--interval-ms as a poll (same nonce: it starts nothing twice) until the outcome or --timeout-ms.\n"
                "The request carries the configuration id the member reported, so it is refused if the\n"
                "configuration moved on meanwhile (ask again). A change takes about ttl_max*(1+rho)/(1-rho) plus\n"
                "a few round trips. Every id in --voters must be one of --members, on every member.\n"
                "Exit 0 when the change committed; 1 when it was refused, superseded, timed out, or no outcome\n"
                "came within --timeout-ms (the change may still complete: see batonctl status); 2 for bad flags.");
  MemberFlags member;
  member.declare(flags, Role::observer);
  std::string voters_flag;
  std::uint64_t target_id = 0, timeout_ms = 300000, interval_ms = 150;
  bool json = false;
  flags.add_string("voters", &voters_flag, "the new voters: member ids of --members, comma-separated (required)");
  flags.add_u64("member", &target_id, "the member to ask to drive the change (default: the lowest-id one that answers)",
                1, baton::member_id_max);
  flags.add_u64("timeout-ms", &timeout_ms,
                "give up waiting for the outcome after this long (default 300000; a change takes about ttl_max)", 1,
                24ull * 3600 * 1000);
  flags.add_u64("interval-ms", &interval_ms, "re-send (poll) interval (default 150)", 10, 10000);
  flags.add_bool("json", &json, "print the outcome as one JSON object");
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  if (member.members.empty()) throw UsageError{"--members is required"};
  const std::vector<baton::Member> listed = parse_members(member.members);
  const auto voters = parse_voters(voters_flag, listed);
  std::vector<Target> candidates;
  for (const auto& m : listed) {
    if (flags.given("member") && m.id != target_id) continue;
    Target t{.member = m};
    t.addr_len = to_sockaddr(m.host, m.port, t.addr);
    if (t.addr_len == 0) throw UsageError{"--members: bad address for member " + std::to_string(m.id)};
    candidates.push_back(t);
  }
  if (candidates.empty()) throw UsageError{"--member " + std::to_string(target_id) + " is not one of --members"};
  std::optional<baton::codec::ClusterKey> key;
  if (!member.key_file.empty()) key = baton::codec::ClusterKey{read_key_file(member.key_file)};

  ObserverSocket sock(member.cluster_id, key);
  std::uint64_t nonce = 0;
  while (nonce == 0) (void)!getrandom(&nonce, sizeof(nonce), 0);
  const std::int64_t started = true_now_ns();
  const std::int64_t end = started + static_cast<std::int64_t>(timeout_ms) * 1000000;
  auto target = find_target(sock, candidates, nonce, interval_ms, std::min<std::uint64_t>(timeout_ms, 3000));
  if (!target) {
    std::fprintf(stderr, "reconfigure: no member answered (%s); check --members, --key-file, --cluster-id\n",
                 flags.given("member") ? ("member " + std::to_string(target_id)).c_str() : "none of --members");
    return exit_failure;
  }
  if (target->cfg.epoch == 0) {
    std::fprintf(stderr, "reconfigure: member %u runs a version without configuration records; upgrade it first\n",
                 target->member.id);
    return exit_failure;
  }
  const baton::core::Message request[] = {
      baton::core::ConfigChange{.nonce = nonce, .expect = target->cfg, .voters = voters}};
  baton::codec::Decoded d;
  std::optional<baton::core::ConfigChangeReply> last;
  std::uint64_t seq = 0;
  while (true_now_ns() < end && !stop_requested()) {
    sock.send(target->addr, target->addr_len, ++seq, request);
    const std::int64_t round_end = std::min(end, true_now_ns() + static_cast<std::int64_t>(interval_ms) * 1000000);
    for (;;) {
      const std::int64_t left_ms = (round_end - true_now_ns()) / 1000000;
      if (left_ms <= 0 || !sock.receive(static_cast<int>(left_ms), d)) break;
      const auto* r = d.messages.size() == 1 ? std::get_if<baton::core::ConfigChangeReply>(&d.messages[0]) : nullptr;
      if (r == nullptr || r->nonce != nonce || d.header.sender.value != target->member.id) continue;
      if (!last || last->state != r->state) {
        // Progress on stderr, once per state: stdout carries only the outcome.
        std::fprintf(stderr, "reconfigure: member %u: %s %s%s\n", target->member.id,
                     r->state == ChangeState::started ? "started"
                     : r->state == ChangeState::running ? "running"
                     : r->state == ChangeState::done    ? "done"
                                                        : "refused",
                     voters_text(voters).c_str(), r->detail.empty() ? "" : (": " + r->detail).c_str());
      }
      last = *r;
      if (r->state == ChangeState::done || r->state == ChangeState::refused) {
        print_outcome(*target, *r, true_now_ns() - started, json);
        return r->state == ChangeState::done && r->outcome == baton::core::ReconfigOutcome::committed ? exit_ok
                                                                                                       : exit_failure;
      }
    }
  }
  std::fprintf(stderr,
               "reconfigure: no outcome from member %u within %llu ms (%s); the change may still be under way or "
               "complete: see batonctl status, and run reconfigure again if it did not\n",
               target->member.id, static_cast<unsigned long long>(timeout_ms),
               last ? ("last heard: " + std::string(last->state == ChangeState::started ? "started" : "running") +
                       (last->detail.empty() ? "" : ", " + last->detail))
                          .c_str()
                    : "it never answered the request");
  return exit_failure;
}

}  // namespace batonctl
