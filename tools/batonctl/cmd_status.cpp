// SPDX-License-Identifier: Apache-2.0
// batonctl status: asks every member for its status with an observer PING
// (sender 0, see lib/codec/codec.hpp) and prints what the PONGs say,
// including whether the members agree on the voting configuration (the
// fingerprint in each PONG's envelope, and the members each one refused).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <variant>

#include "codec/codec.hpp"
#include "core/fingerprint.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "history.hpp"

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

std::uint64_t fingerprint_of(const std::vector<baton::Member>& members) {
  std::vector<baton::core::MemberId> ids;
  for (const auto& m : members) ids.push_back(baton::core::MemberId{m.id});
  // batonctl members run the library's default replica count.
  return baton::core::voting_fingerprint(ids, baton::Config{}.replicas);
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

std::string mismatches_json(const baton::core::Pong& p) {
  std::string out = "[";
  for (std::size_t i = 0; i < p.mismatches.size(); ++i) {
    const auto& m = p.mismatches[i];
    Json j;
    j.unum("sender", m.sender.value).str("fingerprint", baton::core::fingerprint_hex(m.fingerprint))
        .unum("datagrams", m.datagrams);
    out += (i ? "," : "") + j.done();
  }
  return out + "]";
}

void print_json(const std::vector<Row>& rows, const ConfigView& v) {
  std::string out = "{\"members\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    Json j;
    j.unum("id", r.member.id).str("address", r.member.host + ":" + std::to_string(r.member.port));
    const auto* p = pong_of(r);
    j.boolean("reachable", p != nullptr);
    std::string body;
    if (p != nullptr) {
      j.num("rtt_us", r.rtt_ns / 1000)
          .unum("incarnation", r.incarnation)
          .boolean("quarantined", p->quarantined)
          .unum("live_leases", p->live_leases)
          .unum("waiters", p->waiters)
          .unum("floor", p->floor.value)
          .str("start", start_name(p->start))
          .num("quarantine_left_ms", p->quarantine_left.count_ms())
          .unum("floor_answers", p->floor_answers)
          .unum("floor_answers_needed", p->floor_answers_needed)
          .unum("cfg_epoch", p->cfg.epoch)
          .unum("cfg_ballot", p->cfg.ballot);
      std::string drops = "{";
      for (std::size_t d = 0; d < p->drops.size(); ++d) {
        if (d > 0) drops += ",";
        drops += json_quote(baton::drop_reason_name(static_cast<baton::DropReason>(d))) + ":" +
                 std::to_string(p->drops[d]);
      }
      drops += "}";
      body = j.done();
      body.pop_back();
      body += ",\"drops\":" + drops;
      // Voting configuration: "" when the member is too old to send one.
      body += ",\"config_fingerprint\":" +
              json_quote(r.fingerprint == baton::codec::no_fingerprint ? "" : baton::core::fingerprint_hex(r.fingerprint)) +
              ",\"config\":" + json_quote(config_state(r, v)) + ",\"config_mismatches\":" + mismatches_json(*p) + "}";
    } else {
      body = j.done();
    }
    out += (i ? "," : "") + body;
  }
  Json c;
  c.str("fingerprint_of_members", baton::core::fingerprint_hex(v.own))
      .str("reference", v.reference == 0 ? "" : baton::core::fingerprint_hex(v.reference))
      .boolean("agree", !v.disagree)
      .boolean("refusals", v.refusals);
  out += "],\"config\":" + c.done() + "}";
  std::printf("%s\n", out.c_str());
}

}  // namespace

int cmd_status(const Args& args) {
  FlagSet flags("status", "--members ... [--key-file F] [--json]",
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
  bool json = false;
  std::uint64_t timeout_ms = 1000, attempts = 3;
  flags.add_bool("json", &json, "print JSON instead of a table");
  flags.add_u64("timeout-ms", &timeout_ms, "how long to wait for answers per attempt (default 1000)", 1, 600000);
  flags.add_u64("attempts", &attempts, "PINGs sent to a silent member (default 3)", 1, 100);
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  std::vector<Row> rows;
  const std::vector<baton::Member> listed = parse_members(member.members);
  for (const auto& m : listed) {
    Row r;
    r.member = m;
    rows.push_back(std::move(r));
  }
  std::optional<baton::codec::ClusterKey> key;
  if (!member.key_file.empty()) key = baton::codec::ClusterKey{read_key_file(member.key_file)};

  const int fd4 = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int fd6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
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
      const baton::codec::Header h{.version = baton::codec::wire_version, .cluster_id = member.cluster_id,
                                   .sender = baton::codec::observer_id, .incarnation = baton::core::Incarnation{1},
                                   .seq = attempt + 1};
      const baton::core::Message ping[] = {baton::core::Ping{.nonce = r.nonce + attempt}};
      std::vector<std::uint8_t> bytes(baton::core::limits::datagram_bytes_max);
      auto n = baton::codec::encode(h, ping, key ? &*key : nullptr, bytes);
      if (!n) return exit_failure;
      r.sent_ns.push_back(true_now_ns());
      const int fd = r.addr.ss_family == AF_INET6 ? fd6 : fd4;
      ::sendto(fd, bytes.data(), *n, 0, reinterpret_cast<sockaddr*>(&r.addr), r.addr_len);
    }
    if (waiting == 0) break;
    const std::int64_t end = true_now_ns() + static_cast<std::int64_t>(timeout_ms) * 1000000;
    while (waiting > 0) {
      const std::int64_t left_ms = (end - true_now_ns()) / 1000000;
      if (left_ms <= 0) break;
      pollfd p[2] = {{fd4, POLLIN, 0}, {fd6, POLLIN, 0}};
      if (::poll(p, 2, static_cast<int>(left_ms)) <= 0) continue;
      for (const pollfd& pf : p) {
        if ((pf.revents & POLLIN) == 0) continue;
        std::vector<std::uint8_t> buf(65536);
        const ssize_t got = ::recv(pf.fd, buf.data(), buf.size(), 0);
        const std::int64_t now = true_now_ns();
        if (got <= 0) continue;
        buf.resize(static_cast<std::size_t>(got));
        if (baton::codec::decode(buf, key ? &*key : nullptr, member.cluster_id, d)) continue;
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
  }
  if (fd4 >= 0) ::close(fd4);
  if (fd6 >= 0) ::close(fd6);
  const ConfigView view = config_view(rows, fingerprint_of(listed));
  if (json) {
    print_json(rows, view);
  } else {
    print_table(rows);
    print_config(rows, view);
  }
  for (const Row& r : rows)
    if (!r.reachable) return exit_failure;
  return view.disagree ? exit_failure : exit_ok;
}

}  // namespace batonctl
