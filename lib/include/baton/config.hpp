// SPDX-License-Identifier: Apache-2.0
// Config: one member's view of the static cluster and its tuning, checked by
// validate() before anything starts.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "baton/export.hpp"
#include "baton/log.hpp"
#include "baton/result.hpp"

namespace baton {

// The largest member id; larger ids are client ids (Config::client).
inline constexpr std::uint32_t member_id_max = 0x7fffffff;

// One member of the static cluster. Every member lists the same members.
struct Member {
  std::uint32_t id = 0;    // 1..member_id_max (2^31-1), unique in the cluster
  std::string host;        // numeric IPv4 or IPv6 address (no DNS), e.g. "127.0.0.1"
  std::uint16_t port = 0;  // UDP port, 1..65535
};

// The 32-byte shared secret that authenticates every datagram.
using ClusterKey = std::array<std::uint8_t, 32>;

// Bounds on every table and queue (DESIGN Guarantee 4). Defaults suit most
// uses; each must be positive.
struct Limits {
  std::size_t acquires_in_flight = 1u << 16;    // pending acquires + held leases at this member
  std::size_t leases_per_voter = 1u << 20;      // live leases this member holds as a voter
  std::size_t waiters_per_resource = 64;        // waiters a voter remembers per resource
  std::size_t waiters_per_voter = 1u << 16;     // waiters a voter remembers in total
  std::size_t calls_queued = 4096;              // API calls queued towards the loop (full: overloaded)
  std::size_t send_buffers = 1024;              // datagrams handed to the socket and not yet sent
  std::size_t receive_batch = 1024;             // datagrams received and not yet processed
  std::size_t renew_waiters_per_lease = 16;     // renew() calls waiting on one lease
  // A member: clients it keeps replay state and an address for, the least
  // recently heard evicted first (an evicted client's next datagram is
  // accepted afresh; docs/protocol.md "Clients"). About 200 bytes each.
  std::size_t clients = 4096;
};

// The longest Config::busy_poll accepted.
inline constexpr std::chrono::nanoseconds busy_poll_max = std::chrono::milliseconds{10};

struct BATON_EXPORT Config {
  std::vector<Member> members;       // the whole static cluster, this member included (a client: the voters)
  std::uint32_t self = 0;            // this member's id; one of members (a client: 0, drawn at start)
  // A client (issue 21): this process takes leases through `members` but is
  // not one of them. It has no member slot and votes on nothing, so clients
  // join and leave without changing any member's configuration. It needs the
  // members' addresses, the cluster key and id, and the same rho, ttl_min,
  // ttl_max and replicas as the members (their voting fingerprint must
  // match); self, state_dir, bootstrap and incarnation stay unset: each
  // start draws a fresh random client id and incarnation, so lease ids never
  // repeat across client restarts. Binds an ephemeral UDP port.
  bool client = false;
  std::optional<ClusterKey> cluster_key;  // unset: datagrams are NOT authenticated (warned at start)
  std::uint64_t cluster_id = 0;      // datagrams of other cluster ids are dropped
  double rho = 0.01;                 // clock-rate drift bound, (0, 0.1]
  std::chrono::nanoseconds margin = std::chrono::milliseconds{2};    // subtracted from every validity
  std::chrono::nanoseconds ttl_min = std::chrono::milliseconds{10};  // shortest ttl accepted
  std::chrono::nanoseconds ttl_max = std::chrono::seconds{60};       // longest ttl; restart quarantine
  std::uint32_t replicas = 5;        // voters per resource when there are more members (odd)
  // Floor reservations, the incarnation counter, and the longest ttl_max and
  // largest rho this member voted under live here; locked while the member
  // runs (one process per directory). It must exist, unless `bootstrap`
  // creates it. Unset: diskless, every restart recovers from peers.
  std::optional<std::string> state_dir;
  // The cluster's first start: this member may start fresh (floor 0, no
  // quarantine) where it has no state. With state_dir: the directory is
  // created if missing and initialized at once, so later starts recover from
  // it with or without bootstrap; a directory that already holds state
  // ignores bootstrap (logged). Without state_dir: no peer recovery. Set it
  // only for the first start: without it, a state directory with no state
  // (wiped) or no state_dir at all means "recover the floor from peers".
  bool bootstrap = false;
  std::optional<std::uint64_t> incarnation;  // explicit incarnation, non-zero (else derived)
  // After sending requests whose answers are due (an acquire attempt, a
  // renewal), the loop thread polls for them instead of sleeping, for at most
  // this long after the last send, and goes on polling this long after the
  // last answer came (the caller's next call, a release or the next acquire,
  // then finds it awake); in [0, busy_poll_max]. Zero (the default) sleeps at
  // once. It trades CPU for latency: on hosts where waking a sleeping thread
  // is slow (virtual machines) it saves those wake-ups per acquire
  // (docs/operations.md, docs/benchmarks.md).
  std::chrono::nanoseconds busy_poll{0};
  Limits limits;
  LogHook log;                       // null: quiet

  // Checks every field and their relations without side effects. Errors:
  // invalid_config, with `what` naming the field. Fix the config; nothing ran.
  Result<void> validate() const;
};

// ---- setup helpers (what every service would otherwise write itself) -------

// The member list as operators write it: "ID=HOST:PORT,..." with numeric IPv4
// hosts, or IPv6 in brackets ("1=10.0.0.1:7100,2=[::1]:7100"). No spaces, no
// DNS. Errors: invalid_argument, naming the item at fault (not ID=HOST:PORT,
// an id out of 1..member_id_max or given twice, a host that is not numeric, a port
// out of 1..65535); an empty list too.
BATON_EXPORT Result<std::vector<Member>> parse_members(std::string_view text);

// A cluster key as text: 64 hex characters (32 bytes), whitespace around them
// ignored. Errors: invalid_argument, naming the length found or the first
// character that is not hex and its position.
BATON_EXPORT Result<ClusterKey> parse_cluster_key(std::string_view text);

// The same, read from a key file (at most 4096 bytes; `batonctl keygen`
// writes one). Errors: io_error (the file cannot be read: path and reason),
// invalid_argument (its content, as parse_cluster_key, with the path).
BATON_EXPORT Result<ClusterKey> load_cluster_key(const std::string& path);

// ---- configuration file (issue 22) -----------------------------------------

// One member's (or client's) Config from a TOML file, then the environment
// overrides below, then validate(). The format (docs/api.md "Configuration
// file", examples/node.toml): top-level keys `members` (an array of
// {id, host, port} tables, required), `self` (required unless `client`),
// `client`, `key_file` (read with load_cluster_key), `cluster_id`,
// `state_dir`, `bootstrap`, `rho`, `replicas`, the durations `ttl_min`,
// `ttl_max`, `margin` and `busy_poll` as strings of a whole number and a unit
// ("10ms", "60s"; ns, us, ms, s), and a `[limits]` table with the Limits
// fields. Keys left out keep Config's defaults; unknown keys are refused.
// Precedence: defaults < file < environment. Errors (nothing is returned
// half-filled): io_error (the file cannot be read: path and reason; also an
// unreadable key file); invalid_config otherwise, naming the file, the line,
// the key, the value found and what is expected (not TOML, an unknown key, a
// wrong type, an out-of-range value, a bad key file, validate()'s fault).
BATON_EXPORT Result<Config> load_config(const std::string& path);

// The environment overrides for the values that differ per host, applied to
// `config` (load_config calls it; call it yourself for a Config built in
// code). An unset or empty variable changes nothing.
//   BATON_SELF       self (1..member_id_max)
//   BATON_STATE_DIR  state_dir
//   BATON_KEY_FILE   cluster_key, read with load_cluster_key
// Does not validate. Errors: invalid_config naming the variable and its value
// (or the key file's content), io_error (the key file cannot be read); then
// `config` is unchanged.
BATON_EXPORT Result<void> apply_env(Config& config);

// A fresh key from libsodium's random source, and a key as 64 lower-case hex
// characters (what load_cluster_key reads).
BATON_EXPORT ClusterKey generate_cluster_key();
BATON_EXPORT std::string cluster_key_hex(const ClusterKey& key);

}  // namespace baton
