// SPDX-License-Identifier: Apache-2.0
#include "flags.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "runtime/udp_transport.hpp"

namespace batonctl {

namespace {

std::uint64_t to_u64(const std::string& flag, const std::string& v, std::uint64_t min, std::uint64_t max) {
  std::uint64_t out = 0;
  const auto* end = v.data() + v.size();
  auto [p, ec] = std::from_chars(v.data(), end, out);
  if (v.empty() || ec != std::errc{} || p != end)
    throw UsageError{"--" + flag + ": '" + v + "' is not a non-negative integer"};
  if (out < min || out > max)
    throw UsageError{"--" + flag + ": " + v + " is outside [" + std::to_string(min) + ", " + std::to_string(max) + "]"};
  return out;
}

// CLI11 converts the values; these validators refuse what it would accept
// or misread, naming the value (CLI11 puts the flag in front: "--id: ..."),
// and hand it a canonical decimal (its integer conversion reads a leading 0
// as octal).
CLI::Validator u64_in(std::uint64_t min, std::uint64_t max) {
  std::string bounds = max == UINT64_MAX ? "" : "[" + std::to_string(min) + ", " + std::to_string(max) + "]";
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        std::uint64_t out = 0;
        const auto* end = v.data() + v.size();
        auto [p, ec] = std::from_chars(v.data(), end, out);
        if (v.empty() || ec != std::errc{} || p != end) return "'" + v + "' is not a non-negative integer";
        if (out < min || out > max)
          return v + " is outside [" + std::to_string(min) + ", " + std::to_string(max) + "]";
        v = std::to_string(out);
        return {};
      },
      bounds);
}

CLI::Validator double_in(double min, double max) {
  std::ostringstream bounds;
  bounds << "[" << min << ", " << max << "]";
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        double d = 0;
        std::size_t used = 0;
        try {
          d = std::stod(v, &used);
        } catch (...) {
          used = 0;
        }
        if (v.empty() || used != v.size() || !std::isfinite(d)) return "'" + v + "' is not a number";
        if (d < min || d > max) {
          std::ostringstream o;
          o << v << " is outside [" << min << ", " << max << "]";
          return o.str();
        }
        return {};
      },
      bounds.str());
}

// batonctl's help: "usage: batonctl CMD SYNOPSIS", the description, then the
// flags (CLI11 lists them).
class Formatter : public CLI::Formatter {
 public:
  Formatter(std::string command, std::string synopsis) : command_(std::move(command)), synopsis_(std::move(synopsis)) {
    label("REQUIRED", "required");
  }
  std::string make_description(const CLI::App* app) const override {
    return "usage: batonctl " + command_ + (synopsis_.empty() ? "" : " " + synopsis_) + "\n\n" +
           app->get_description() + "\n";
  }
  std::string make_usage(const CLI::App*, std::string) const override { return {}; }

 private:
  std::string command_;
  std::string synopsis_;
};

}  // namespace

FlagSet::FlagSet(std::string command, std::string synopsis, std::string description)
    : command_(std::move(command)), app_(std::make_unique<CLI::App>(std::move(description), "batonctl " + command_)) {
  app_->formatter(std::make_shared<Formatter>(command_, std::move(synopsis)));
  app_->option_defaults()->group("flags");
  app_->set_help_flag("-h,--help", "show this help");
  // Unknown flags are collected and refused by parse(), naming them.
  app_->allow_extras();
  app_->add_option("args", positional_)->group("");  // positional arguments: hidden from the flag list
}

FlagSet::~FlagSet() = default;

void FlagSet::add_string(std::string name, std::string* out, std::string help) {
  app_->add_option("--" + name, *out, std::move(help));
}

void FlagSet::add_u64(std::string name, std::uint64_t* out, std::string help, std::uint64_t min, std::uint64_t max) {
  // transform, not check: check() would not pass the canonical value on.
  app_->add_option("--" + name, *out, std::move(help))->transform(u64_in(min, max));
}

void FlagSet::add_double(std::string name, double* out, std::string help, double min, double max) {
  app_->add_option("--" + name, *out, std::move(help))->check(double_in(min, max));
}

void FlagSet::add_bool(std::string name, bool* out, std::string help) {
  // A bool flag given twice is refused like any other flag.
  app_->add_flag("--" + name, *out, std::move(help))->multi_option_policy(CLI::MultiOptionPolicy::Throw);
}

bool FlagSet::given(std::string_view name) const {
  const CLI::Option* o = app_->get_option_no_throw("--" + std::string(name));  // null: not declared here
  return o != nullptr && o->count() > 0;
}

bool FlagSet::parse(const std::vector<std::string>& args) {
  // CLI11 takes the arguments last to first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app_->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(usage().c_str(), stdout);
    return false;
  } catch (const CLI::ParseError& e) {
    throw UsageError{std::string(e.what()) + " (see batonctl " + command_ + " --help)"};
  }
  for (const std::string& extra : app_->remaining()) {
    if (extra == "--") continue;  // the end of the flags: CLI11 keeps it here
    const std::string name = extra.substr(0, extra.find('='));
    throw UsageError{"unknown flag '" + name + "' (see batonctl " + command_ + " --help)"};
  }
  return true;
}

std::string FlagSet::usage() const { return app_->help(); }

// ---- values -----------------------------------------------------------------

HostPort parse_host_port(std::string_view text, std::string_view flag) {
  const std::string where = std::string(flag) + ": '" + std::string(text) + "'";
  HostPort hp;
  std::string_view port;
  if (text.starts_with("[")) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) throw UsageError{where + ": expected [IPv6]:PORT"};
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) throw UsageError{where + ": expected HOST:PORT"};
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, hp.host.c_str(), buf) != 1 && inet_pton(AF_INET6, hp.host.c_str(), buf) != 1)
    throw UsageError{where + ": host must be a numeric IPv4 or IPv6 address"};
  hp.port = static_cast<std::uint16_t>(to_u64(std::string(flag).substr(2), std::string(port), 1, 65535));
  return hp;
}

socklen_t to_sockaddr(const std::string& host, std::uint16_t port, sockaddr_storage& out) {
  const auto addr = baton::runtime::parse_address(host, port);  // what the members bind and send to
  out = addr ? *addr : sockaddr_storage{};
  if (!addr) return 0;
  return out.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

// The library's helpers (baton/config.hpp), with the flag that carried the value.
std::vector<baton::Member> parse_members(std::string_view text) {
  if (text.empty()) throw UsageError{"--members is required, e.g. --members 1=127.0.0.1:7101,2=127.0.0.1:7102"};
  auto members = baton::parse_members(text);
  if (!members) throw UsageError{"--members: " + std::string(members.error().what)};
  return std::move(*members);
}

baton::ClusterKey parse_key(std::string_view text, std::string_view where) {
  auto key = baton::parse_cluster_key(text);
  if (!key) throw UsageError{std::string(where) + ": " + std::string(key.error().what)};
  return *key;
}

baton::ClusterKey read_key_file(const std::string& path) {
  auto key = baton::load_cluster_key(path);
  if (!key) throw UsageError{"--key-file: " + std::string(key.error().what)};
  return *key;
}

std::string key_hex(const baton::ClusterKey& key) { return baton::cluster_key_hex(key); }

// ---- member flags ----------------------------------------------------------

void MemberFlags::declare(FlagSet& f, Role role) {
  role_ = role;
  const bool runs = role != Role::observer;  // runs a member or a client: takes its tuning flags
  if (role == Role::member_or_client) {
    f.add_string("members", &members,
                 "the static cluster: ID=HOST:PORT,... (required; the same on every member; a client lists the "
                 "members exactly as they do)");
    f.add_u64("id", &id, "this member's id, one of --members (required unless --client)", 1, baton::member_id_max);
    f.add_bool("client", &client,
               "run as a client of --members instead of as a member: no member slot and no --id (a random client "
               "id above 2^31-1 is drawn at start), no state, an ephemeral UDP port; needs the members' "
               "--key-file, --cluster-id, --rho, --ttl-min-ms and --ttl-max-ms");
  } else {
    f.add_string("members", &members, "the static cluster: ID=HOST:PORT,... (required; the same on every member)");
    if (role == Role::member) f.add_u64("id", &id, "this member's id, one of --members (required)", 1, baton::member_id_max);
  }
  f.add_string("key-file", &key_file,
               "file holding the cluster key: 64 hex characters (batonctl keygen); without it datagrams are "
               "NOT authenticated");
  f.add_u64("cluster-id", &cluster_id, "cluster id stamped on every datagram (default 0)");
  f.add_u64("replicas", &replicas,
            "voters per resource when there are more members than this (odd; default 5; the same on every member "
            "and client, it is part of the voting fingerprint). The voters can be changed online (batonctl "
            "reconfigure) only while the members are at most this many",
            1, 63);
  if (!runs) return;
  f.add_double("rho", &rho, "clock-rate drift bound (default 0.01)", 1e-6, 0.1);
  f.add_u64("ttl-max-ms", &ttl_max_ms, "longest ttl this member grants; also its restart quarantine (default 60000)",
            1, 24ull * 3600 * 1000);
  f.add_u64("ttl-min-ms", &ttl_min_ms, "shortest ttl this member grants (default 10)", 1, 24ull * 3600 * 1000);
  f.add_double("margin-ms", &margin_ms, "subtracted from every validity (default 2)", 0, 60000);
  f.add_u64("busy-poll-us", &busy_poll_us,
            "after sending an acquire's or renewal's requests, poll this long for the answers instead of "
            "sleeping, and this long after they came: less latency for more CPU (default 0: off)",
            0, 10000);
  f.add_u64("clients-max", &clients_max,
            "a member: clients it keeps replay state and an address for (Limits::clients, default 4096; those "
            "holding or waiting are never evicted, so keep it above the clients active at once)",
            1, 1u << 24);
  f.add_string("state-dir", &state_dir,
               "where the floor reservation is persisted (default baton-state-<id>); must exist unless "
               "--bootstrap; a directory without state means this member lost it: recover the floor from peers");
  f.add_bool("no-state", &no_state, "run diskless: after a restart, recover the floor from peers");
  f.add_bool("bootstrap", &bootstrap,
             "the cluster's first start: start fresh where there is no state (creates and initializes the state "
             "directory; with --no-state: no peer recovery). Ignored where the directory holds state. Remove it "
             "after the first start");
  f.add_bool("verbose", &verbose, "log debug messages too");
}

baton::Config MemberFlags::config(const FlagSet& f) const {
  baton::Config c;
  c.members = parse_members(members);
  if (client) {
    // A client has no member slot: the member-only flags would be ignored, so
    // they are refused, naming the flag (issue 21).
    if (f.given("id"))
      throw UsageError{"--client and --id exclude each other: a client has no member id (it draws one at start)"};
    if (f.given("state-dir")) throw UsageError{"--client and --state-dir exclude each other: a client keeps no state"};
    if (bootstrap) throw UsageError{"--client and --bootstrap exclude each other: only members bootstrap a cluster"};
    if (f.given("clients-max"))
      throw UsageError{"--client and --clients-max exclude each other: only members keep state for clients"};
    c.client = true;
  } else {
    if (!f.given("id"))
      throw UsageError{role_ == Role::member_or_client ? "--id is required (or --client to run as a client)"
                                                       : "--id is required"};
    c.self = static_cast<std::uint32_t>(id);
    bool found = false;
    for (const auto& m : c.members) found = found || m.id == c.self;
    if (!found) throw UsageError{"--id " + std::to_string(id) + " is not one of --members"};
  }
  if (!key_file.empty()) c.cluster_key = read_key_file(key_file);
  c.cluster_id = cluster_id;
  c.rho = rho;
  c.ttl_max = std::chrono::milliseconds(ttl_max_ms);
  c.ttl_min = std::chrono::milliseconds(std::min(ttl_min_ms, ttl_max_ms));
  c.margin = std::chrono::nanoseconds(static_cast<std::int64_t>(margin_ms * 1e6));
  c.busy_poll = std::chrono::microseconds(busy_poll_us);
  c.limits.clients = clients_max;
  c.replicas = static_cast<std::uint32_t>(replicas);
  if (no_state && f.given("state-dir")) throw UsageError{"--no-state and --state-dir exclude each other"};
  if (!no_state && !client) c.state_dir = state_dir.empty() ? "baton-state-" + std::to_string(id) : state_dir;
  c.bootstrap = bootstrap;
  if (auto v = c.validate(); !v) throw UsageError{"invalid configuration: " + std::string(v.what())};
  return c;
}


baton::Config MemberFlags::config_file(const FlagSet& f, const std::string& path) const {
  // Two sources for one field would need a precedence nobody remembers:
  // with --config the file (and the environment) say it all.
  static const char* const excluded[] = {"members",    "id",           "client",      "key-file",
                                         "cluster-id", "rho",          "ttl-max-ms",  "ttl-min-ms",
                                         "margin-ms",  "busy-poll-us", "clients-max", "state-dir",
                                         "no-state",   "replicas"};
  std::string given;
  for (const char* name : excluded) {
    if (f.given(name)) given += (given.empty() ? "--" : ", --") + std::string(name);
  }
  if (!given.empty())
    throw UsageError{"--config excludes " + given + ": set them in the file (per host: BATON_SELF, BATON_STATE_DIR, "
                     "BATON_KEY_FILE); only --bootstrap and --verbose go with --config"};
  auto c = baton::load_config(path);
  if (!c) throw UsageError{"--config: " + std::string(c.what())};
  if (c->client) throw UsageError{"--config: " + path + " sets client = true, but batonctl node runs a member"};
  if (bootstrap && !c->bootstrap) {
    c->bootstrap = true;
    if (auto v = c->validate(); !v) throw UsageError{"--config " + path + " with --bootstrap: " + std::string(v.what())};
  }
  return std::move(*c);
}

}  // namespace batonctl
