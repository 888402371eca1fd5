// SPDX-License-Identifier: Apache-2.0
// batonctl status: asks every member for its status with an observer PING
// (sender 0, see lib/codec/codec.hpp) and prints what the PONGs say,
// including whether the members agree on the voting configuration (the
// fingerprint in each PONG's envelope, and the members each one refused).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <variant>

#include "codec/codec.hpp"
#include "core/fingerprint.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "history.hpp"
#include "observer.hpp"

namespace batonctl {

namespace {

struct Row {
  baton::Member member;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::uint64_t nonce = 0;         // attempt a's PING carries nonce + a
  std::vector<std::int64_t> sent_ns;  // per attempt: when its PING left
  bool reachable = false;
  std::int64_t rtt_ns = 0;        // PING sent -> PONG received
  std::uint64_t incarnation = 0;  // from the PONG's envelope
  std::uint64_t fingerprint = 0;  // from the PONG's envelope: its voting configuration (0: an older member)
  baton::codec::Decoded reply;    // the PONG
};

bool resolve(Row& r) {
  r.addr_len = to_sockaddr(r.member.host, r.member.port, r.addr);
  return r.addr_len != 0;
}

const baton::core::Pong* pong_of(const Row& r) {
  if (!r.reachable || r.reply.messages.empty()) return nullptr;
  return std::get_if<baton::core::Pong>(&r.reply.messages[0]);
}

std::string drops_text(const baton::core::Pong& p) {
  std::string out;
  for (std::size_t i = 0; i < p.drops.size(); ++i) {
    if (p.drops[i] == 0) continue;
    if (!out.empty()) out += ",";
    out += std::string(baton::drop_reason_name(static_cast<baton::DropReason>(i))) + "=" + std::to_string(p.drops[i]);
  }
  return out.empty() ? "-" : out;
}

// ---- voting configuration ---------------------------------------------------
// Every member must run the same member ids and replicas (docs/protocol.md,
// "Voting configuration"). The reference is the fingerprint of this
// command's own --members when some member reports it, otherwise the one
// most members report (a status of only some members computes another).

struct ConfigView {
  std::uint64_t own = 0;        // the fingerprint of --members (with the default replicas)
  std::uint64_t reference = 0;  // what each member is compared with (0: no member reported one)
  bool disagree = false;        // reachable members report different fingerprints
  bool refusals = false;        // some member refused another's datagrams (now or earlier)
};

std::uint64_t fingerprint_of(const std::vector<baton::Member>& members, std::uint64_t replicas) {
  std::vector<baton::core::MemberId> ids;
  for (const auto& m : members) ids.push_back(baton::core::MemberId{m.id});
  // The members' --replicas (default: the library's).
  return baton::core::voting_fingerprint(ids, static_cast<std::uint32_t>(replicas));
}

ConfigView config_view(const std::vector<Row>& rows, std::uint64_t own) {
  ConfigView v{.own = own, .reference = 0, .disagree = false, .refusals = false};
  std::map<std::uint64_t, std::size_t> seen;  // fingerprint -> members reporting it
  for (const Row& r : rows) {
    const auto* p = pong_of(r);
    if (p == nullptr) continue;
    if (!p->mismatches.empty()) v.refusals = true;
    if (r.fingerprint != baton::codec::no_fingerprint) ++seen[r.fingerprint];
  }
  v.disagree = seen.size() > 1;
  if (seen.count(own)) {
    v.reference = own;
  } else {
    std::size_t most = 0;
    for (const auto& [fp, n] : seen) {  // ascending: ties go to the lowest
      if (n > most) v.reference = fp, most = n;
    }
  }
  return v;
}

// "ok", "DIFFERS", or why it cannot be told.
const char* config_state(const Row& r, const ConfigView& v) {
  if (pong_of(r) == nullptr) return "-";
  if (r.fingerprint == baton::codec::no_fingerprint) return "unknown";  // an older version sends none
  return r.fingerprint == v.reference ? "ok" : "DIFFERS";
}

std::string refused_text(const baton::core::Pong& p) {
  std::string out;
  for (const auto& m : p.mismatches) {
    if (!out.empty()) out += ", ";
    out += std::to_string(m.sender.value) + " (fingerprint " + baton::core::fingerprint_hex(m.fingerprint) + ", " +
           std::to_string(m.datagrams) + " datagram(s))";
  }
  return out.empty() ? "-" : out;
}

void print_config(const std::vector<Row>& rows, const ConfigView& v) {
  std::printf("\nvoting configuration (fingerprint of the member ids and replicas; must be the same on every member):\n");
  std::printf("%-4s %-16s %-8s %s\n", "id", "fingerprint", "config", "refused datagrams from");
  for (const Row& r : rows) {
    const auto* p = pong_of(r);
    const std::string fp = p == nullptr ? "-"
                           : r.fingerprint == baton::codec::no_fingerprint ? "(none: older)"
                                                                           : baton::core::fingerprint_hex(r.fingerprint);
    std::printf("%-4u %-16s %-8s %s\n", r.member.id, fp.c_str(), config_state(r, v),
                p == nullptr ? "(not reachable)" : refused_text(*p).c_str());
  }
  if (v.reference != 0 && v.reference != v.own) {
    std::printf("note: this --members list gives fingerprint %s, which no member reports (listing only some of the "
                "members gives another)\n",
                baton::core::fingerprint_hex(v.own).c_str());
  }
  if (v.disagree || v.refusals) {
    std::printf("WARNING: %s; their votes do not count for each other. Every member must have the same member ids "
                "(--members) and replicas: stop every member, make the lists equal, start them again.\n",
                v.disagree ? "members run different voting configurations"
                           : "members refused datagrams of another voting configuration");
  }
}

std::string_view start_name(baton::core::StartKind k) {
  switch (k) {
    case baton::core::StartKind::unknown: return "unknown";
    case baton::core::StartKind::first_start: return "first_start";
    case baton::core::StartKind::reservation: return "reservation";
    case baton::core::StartKind::peers: return "peers";
  }
  return "unknown";
}

// Why a member is quarantined, in words ("-" when it votes).
std::string why_text(const baton::core::Pong& p) {
  using baton::core::StartKind;
  if (!p.quarantined) return "-";
  const std::string answers = std::to_string(p.floor_answers) + " of " + std::to_string(p.floor_answers_needed);
  if (p.quarantine_left > baton::core::Duration::zero()) {
    char left[32];
    std::snprintf(left, sizeof(left), "%.1f", static_cast<double>(p.quarantine_left.count_ms()) / 1e3);
    std::string out = std::string("restart quarantine, ") + left + " s left";
    if (p.start == StartKind::reservation) out += " (floor from its state directory)";
    if (p.start == StartKind::peers) out += ", then floor answers from peers (" + answers + " needed so far)";
    return out;
  }
  if (p.start == StartKind::peers)
    return "waiting for floor answers from recovered peers: " + answers +
           " needed (quarantined for good if they cannot be reached)";
  return "quarantined (reason not reported: an older member)";
}

void print_table(const std::vector<Row>& rows) {
  std::printf("%-4s %-22s %-9s %8s %-20s %-9s %-11s %6s %7s %20s %-16s %s\n", "id", "address", "reachable", "rtt_ms",
              "incarnation", "config", "quarantined", "leases", "waiters", "floor", "drops", "why");
  for (const Row& r : rows) {
    const std::string addr = r.member.host + ":" + std::to_string(r.member.port);
    const auto* p = pong_of(r);
    if (p == nullptr) {
      std::printf("%-4u %-22s %-9s %8s %-20s %-9s %-11s %6s %7s %20s %-16s %s\n", r.member.id, addr.c_str(), "no", "-",
                  "-", "-", "-", "-", "-", "-", "-", "-");
      continue;
    }
    // The configuration it votes under, as epoch.ballot ("-": an older member).
    const std::string cfg =
        p->cfg.epoch == 0 ? "-" : std::to_string(p->cfg.epoch) + "." + std::to_string(p->cfg.ballot);
    std::printf("%-4u %-22s %-9s %8.3f %-20llu %-9s %-11s %6llu %7llu %20llu %-16s %s\n", r.member.id, addr.c_str(),
                "yes", static_cast<double>(r.rtt_ns) / 1e6, static_cast<unsigned long long>(r.incarnation), cfg.c_str(),
                p->quarantined ? "yes" : "no", static_cast<unsigned long long>(p->live_leases),
                static_cast<unsigned long long>(p->waiters), static_cast<unsigned long long>(p->floor.value),
                drops_text(*p).c_str(), why_text(*p).c_str());
  }
}

nlohmann::ordered_json mismatches_json(const baton::core::Pong& p) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& m : p.mismatches) {
    out.push_back({{"sender", m.sender.value},
                   {"fingerprint", baton::core::fingerprint_hex(m.fingerprint)},
                   {"datagrams", m.datagrams}});
  }
  return out;
}

void print_json(const std::vector<Row>& rows, const ConfigView& v) {
  nlohmann::ordered_json members = nlohmann::ordered_json::array();
  for (const Row& r : rows) {
    nlohmann::ordered_json j;
    j["id"] = r.member.id;
    j["address"] = r.member.host + ":" + std::to_string(r.member.port);
    const auto* p = pong_of(r);
    j["reachable"] = p != nullptr;
    if (p != nullptr) {
      j["rtt_us"] = r.rtt_ns / 1000;
      j["incarnation"] = r.incarnation;
      j["quarantined"] = p->quarantined;
      j["live_leases"] = p->live_leases;
      j["waiters"] = p->waiters;
      j["floor"] = p->floor.value;
      j["start"] = start_name(p->start);
      j["quarantine_left_ms"] = p->quarantine_left.count_ms();
      j["floor_answers"] = p->floor_answers;
      j["floor_answers_needed"] = p->floor_answers_needed;
      j["cfg_epoch"] = p->cfg.epoch;
      j["cfg_ballot"] = p->cfg.ballot;
      nlohmann::ordered_json drops = nlohmann::ordered_json::object();
      for (std::size_t d = 0; d < p->drops.size(); ++d)
        drops[std::string(baton::drop_reason_name(static_cast<baton::DropReason>(d)))] = p->drops[d];
      j["drops"] = std::move(drops);
      // Voting configuration: "" when the member is too old to send one.
      j["config_fingerprint"] =
          r.fingerprint == baton::codec::no_fingerprint ? "" : baton::core::fingerprint_hex(r.fingerprint);
      j["config"] = config_state(r, v);
      j["config_mismatches"] = mismatches_json(*p);
    }
    members.push_back(std::move(j));
  }
  nlohmann::ordered_json out;
  out["members"] = std::move(members);
  out["config"] = {{"fingerprint_of_members", baton::core::fingerprint_hex(v.own)},
                   {"reference", v.reference == 0 ? "" : baton::core::fingerprint_hex(v.reference)},
                   {"agree", !v.disagree},
                   {"refusals", v.refusals}};
  std::printf("%s\n", Json::dump(out).c_str());
}

// ---- --prometheus: the text exposition format (version 0.0.4) ----------------
// Written from the PONGs directly, so batonctl needs no prometheus-cpp. One
// family per line group: # HELP, # TYPE, then one sample per member (per
// member and reason for drops); an unreachable member has only
// baton_member_up 0.

// A label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

struct Family {
  const char* name;
  const char* type;  // gauge or counter
  const char* help;
};

void print_prometheus(const std::vector<Row>& rows, const ConfigView& v) {
  std::string out;
  auto head = [&](const Family& f) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
  };
  auto sample = [&](const char* name, const Row& r, std::string_view extra_labels, double value) {
    char num[64];
    std::snprintf(num, sizeof num, "%.17g", value);
    out += std::string(name) + "{member=\"" + std::to_string(r.member.id) + "\"" + std::string(extra_labels) + "} " +
           num + "\n";
  };
  head({"baton_member_up", "gauge", "1 if the member answered the status PING, else 0."});
  for (const Row& r : rows) {
    const std::string addr = ",address=\"" + label_value(r.member.host + ":" + std::to_string(r.member.port)) + "\"";
    sample("baton_member_up", r, addr, pong_of(r) != nullptr ? 1 : 0);
  }
  using Get = double (*)(const Row&, const baton::core::Pong&);
  struct Gauge {
    Family family;
    Get get;
  };
  const Gauge gauges[] = {
      {{"baton_member_rtt_seconds", "gauge", "Round-trip time of the status PING."},
       [](const Row& r, const baton::core::Pong&) { return static_cast<double>(r.rtt_ns) / 1e9; }},
      {{"baton_member_incarnation", "gauge", "The member's incarnation (its lives since the state began)."},
       [](const Row& r, const baton::core::Pong&) { return static_cast<double>(r.incarnation); }},
      {{"baton_member_quarantined", "gauge", "1 while the member does not vote (restart quarantine, floor recovery)."},
       [](const Row&, const baton::core::Pong& p) { return p.quarantined ? 1.0 : 0.0; }},
      {{"baton_member_quarantine_left_seconds", "gauge", "Restart quarantine time left."},
       [](const Row&, const baton::core::Pong& p) { return static_cast<double>(p.quarantine_left.count_ms()) / 1e3; }},
      {{"baton_member_live_leases", "gauge", "Leases live at the member as a voter."},
       [](const Row&, const baton::core::Pong& p) { return static_cast<double>(p.live_leases); }},
      {{"baton_member_waiters", "gauge", "Waiters the member remembers as a voter."},
       [](const Row&, const baton::core::Pong& p) { return static_cast<double>(p.waiters); }},
      {{"baton_member_floor", "gauge", "The member's token floor."},
       [](const Row&, const baton::core::Pong& p) { return static_cast<double>(p.floor.value); }},
  };
  for (const Gauge& g : gauges) {
    head(g.family);
    for (const Row& r : rows)
      if (const auto* p = pong_of(r)) sample(g.family.name, r, "", g.get(r, *p));
  }
  head({"baton_member_config_ok", "gauge",
        "1 if the member runs the reference voting configuration (member ids and replicas), else 0."});
  for (const Row& r : rows)
    if (pong_of(r) != nullptr) sample("baton_member_config_ok", r, "", std::string_view(config_state(r, v)) == "ok");
  head({"baton_member_drops_total", "counter", "Datagrams the member received and dropped, by reason."});
  for (const Row& r : rows) {
    const auto* p = pong_of(r);
    if (p == nullptr) continue;
    for (std::size_t d = 0; d < p->drops.size(); ++d) {
      const std::string reason =
          ",reason=\"" + std::string(baton::drop_reason_name(static_cast<baton::DropReason>(d))) + "\"";
      sample("baton_member_drops_total", r, reason, static_cast<double>(p->drops[d]));
    }
  }
  std::fputs(out.c_str(), stdout);
}

}  // namespace

int cmd_status(const Args& args) {
  FlagSet flags("status", "--members ... [--key-file F] [--json | --prometheus]",
                "Sends every member a status PING (as observer, sender id 0, authenticated with the cluster\n"
                "key) and prints one row per member: reachable, round-trip time, incarnation, the configuration\n"
                "record it votes under (epoch.ballot; issue 21), quarantined,\n"
                "live leases (at it as a voter), waiters, floor, datagrams dropped by reason, and why it is\n"
                "quarantined (restart quarantine time left, floor answers from peers received and needed); then\n"
                "each member's voting configuration fingerprint (member ids and replicas) and the members whose\n"
                "datagrams it refused for carrying another one.\n"
                "Exit 0 when every member answered and all report the same configuration, 1 otherwise.");
  MemberFlags member;
  member.declare(flags, Role::observer);
  bool json = false, prometheus = false;
  std::uint64_t timeout_ms = 1000, attempts = 3;
  flags.add_bool("json", &json, "print JSON instead of a table");
  flags.add_bool("prometheus", &prometheus,
                 "print the Prometheus text exposition format instead of a table (one sample per member; an "
                 "unreachable member has only baton_member_up 0)");
  flags.add_u64("timeout-ms", &timeout_ms, "how long to wait for answers per attempt (default 1000)", 1, 600000);
  flags.add_u64("attempts", &attempts, "PINGs sent to a silent member (default 3)", 1, 100);
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  if (json && prometheus) throw UsageError{"--json and --prometheus exclude each other"};
  std::vector<Row> rows;
  const std::vector<baton::Member> listed = parse_members(member.members);
  for (const auto& m : listed) {
    Row r;
    r.member = m;
    rows.push_back(std::move(r));
  }
  std::optional<baton::codec::ClusterKey> key;
  if (!member.key_file.empty()) key = baton::codec::ClusterKey{read_key_file(member.key_file)};

  ObserverSocket sock(member.cluster_id, key);
  std::uint64_t base_nonce = 0;
  (void)!getrandom(&base_nonce, sizeof(base_nonce), 0);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!resolve(rows[i])) throw UsageError{"--members: bad address for member " + std::to_string(rows[i].member.id)};
    rows[i].nonce = base_nonce + (static_cast<std::uint64_t>(i) << 16);
  }

  baton::codec::Decoded d;
  for (std::uint64_t attempt = 0; attempt < attempts; ++attempt) {
    std::size_t waiting = 0;
    for (Row& r : rows) {
      if (r.reachable) continue;
      ++waiting;
      const baton::core::Message ping[] = {baton::core::Ping{.nonce = r.nonce + attempt}};
      r.sent_ns.push_back(true_now_ns());
      if (!sock.send(r.addr, r.addr_len, attempt + 1, ping)) return exit_failure;
    }
    if (waiting == 0) break;
    const std::int64_t end = true_now_ns() + static_cast<std::int64_t>(timeout_ms) * 1000000;
    while (waiting > 0) {
      const std::int64_t left_ms = (end - true_now_ns()) / 1000000;
      if (left_ms <= 0 || !sock.receive(static_cast<int>(left_ms), d)) break;
      const std::int64_t now = true_now_ns();
      const auto* pong = d.messages.size() == 1 ? std::get_if<baton::core::Pong>(&d.messages[0]) : nullptr;
      if (pong == nullptr) continue;
      for (Row& r : rows) {
        if (r.reachable || r.member.id != d.header.sender.value) continue;
        // A late answer to an earlier attempt counts, timed from its own PING.
        const std::uint64_t a = pong->nonce - r.nonce;
        if (pong->nonce < r.nonce || a >= r.sent_ns.size()) continue;
        r.reachable = true;
        r.rtt_ns = now - r.sent_ns[a];
        r.incarnation = d.header.incarnation.value;
        r.fingerprint = d.header.config_fingerprint;
        r.reply = d;
        --waiting;
      }
    }
  }
  const ConfigView view = config_view(rows, fingerprint_of(listed, member.replicas));
  if (json) {
    print_json(rows, view);
  } else if (prometheus) {
    print_prometheus(rows, view);
  } else {
    print_table(rows);
    print_config(rows, view);
  }
  for (const Row& r : rows)
    if (!r.reachable) return exit_failure;
  return view.disagree ? exit_failure : exit_ok;
}

}  // namespace batonctl
