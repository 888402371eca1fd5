// SPDX-License-Identifier: Apache-2.0
// Command-line flags of batonctl: every subcommand declares its flags on a
// FlagSet, which parses them with CLI11 (the kept library, docs/dependencies.md),
// gives --help for free, and turns any bad flag into a message naming the flag
// and the value at fault and exit code 2; and the member flags shared by node,
// acquire, bench, torture, shell and status.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "baton/config.hpp"

namespace CLI {
class App;
}

namespace batonctl {

// Exit codes shared by every subcommand.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;   // a runtime error (bind failed, file unwritable, ...)
inline constexpr int exit_usage = 2;     // bad flags or arguments
inline constexpr int exit_not_acquired = 3;

// Thrown by parsing and by the value checks; main() prints it and exits 2.
struct UsageError {
  std::string message;
};

class FlagSet {
 public:
  FlagSet(std::string command, std::string synopsis, std::string description);
  ~FlagSet();
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Each flag is `--name VALUE` or `--name=VALUE` (bools: `--name`). A value
  // outside its bounds, or not a number, is refused naming the flag and the value.
  void add_string(std::string name, std::string* out, std::string help);
  void add_u64(std::string name, std::uint64_t* out, std::string help, std::uint64_t min = 0,
               std::uint64_t max = UINT64_MAX);
  void add_double(std::string name, double* out, std::string help, double min, double max);
  void add_bool(std::string name, bool* out, std::string help);
  // Records whether a flag was given at all (after parse()).
  bool given(std::string_view name) const;

  // Parses argv (without the subcommand). Returns false when --help was
  // asked (usage already printed to stdout). Positional arguments go to
  // positional(). Throws UsageError.
  bool parse(const std::vector<std::string>& args);
  const std::vector<std::string>& positional() const { return positional_; }
  std::string usage() const;

 private:
  std::string command_;
  std::unique_ptr<CLI::App> app_;
  std::vector<std::string> positional_;
};

// ---- values -----------------------------------------------------------------

// "1=127.0.0.1:7101,2=127.0.0.1:7102" (IPv6 as [::1]:7101). Throws UsageError.
std::vector<baton::Member> parse_members(std::string_view text);
// 64 hex characters, surrounding whitespace ignored. Throws UsageError.
baton::ClusterKey parse_key(std::string_view text, std::string_view where);
baton::ClusterKey read_key_file(const std::string& path);
std::string key_hex(const baton::ClusterKey& key);
// "HOST:PORT" (IPv6 as [::1]:PORT). Throws UsageError.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
HostPort parse_host_port(std::string_view text, std::string_view flag);
// `host` (numeric IPv4 or IPv6) and `port` as a socket address in `out`; its
// length, or 0 if `host` is not a numeric address.
socklen_t to_sockaddr(const std::string& host, std::uint16_t port, sockaddr_storage& out);

// ---- the member flags ------------------------------------------------------

// What a subcommand runs, which decides the flags it declares.
enum class Role {
  observer,          // status: no member, only --members, --key-file, --cluster-id
  member,            // node: a member, --id required
  member_or_client,  // acquire, bench, torture, shell: --id N, or --client
};

struct MemberFlags {
  std::string members;          // --members
  std::uint64_t id = 0;         // --id
  bool client = false;          // --client: run as a client of --members (Config::client), no --id
  std::string key_file;         // --key-file
  std::uint64_t cluster_id = 0; // --cluster-id
  double rho = 0.01;            // --rho
  std::uint64_t ttl_max_ms = 60000;  // --ttl-max-ms
  std::uint64_t ttl_min_ms = 10;     // --ttl-min-ms
  double margin_ms = 2;              // --margin-ms
  std::uint64_t busy_poll_us = 0;    // --busy-poll-us
  std::uint64_t clients_max = 4096;  // --clients-max: a member's Limits::clients
  std::uint64_t replicas = 5;        // --replicas: voters per resource in scale mode (Config::replicas)
  std::string state_dir;        // --state-dir (default baton-state-<id>)
  bool no_state = false;        // --no-state
  bool bootstrap = false;       // --bootstrap: first start of the cluster (Config::bootstrap)
  bool verbose = false;         // --verbose: debug logs

  void declare(FlagSet& flags, Role role);
  // The library's Config (validated): a member's, or with --client a
  // client's. Throws UsageError, naming the flags at fault.
  baton::Config config(const FlagSet& flags) const;
  // node --config FILE: the Config from baton::load_config (the file, then
  // BATON_SELF, BATON_STATE_DIR and BATON_KEY_FILE). It excludes every other
  // member flag (refused naming them) but --bootstrap (the first start only:
  // sets bootstrap on top of the file) and --verbose. Throws UsageError.
  baton::Config config_file(const FlagSet& flags, const std::string& path) const;

 private:
  Role role_ = Role::member;
};

}  // namespace batonctl
