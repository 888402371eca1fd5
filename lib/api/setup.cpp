// SPDX-License-Identifier: Apache-2.0
// parse_members, parse_cluster_key, load_cluster_key, generate_cluster_key,
// cluster_key_hex (baton/config.hpp).
#include <sodium.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "baton/config.hpp"
#include "runtime/udp_transport.hpp"

namespace baton {
namespace {

Error bad(std::string text) { return Error::with_text(Errc::invalid_argument, std::move(text)); }

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// "HOST:PORT" or "[IPv6]:PORT" of one member list item.
Result<Member> parse_member(std::string_view item) {
  const std::string where = "member list item '" + std::string(item) + "'";
  const auto eq = item.find('=');
  if (eq == std::string_view::npos) return bad(where + " is not ID=HOST:PORT");
  Member m;
  const std::string_view id = item.substr(0, eq);
  std::uint64_t id_value = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), id_value);
  if (ec != std::errc{} || p != id.data() + id.size() || id_value < 1 || id_value > member_id_max)
    return bad(where + ": id '" + std::string(id) + "' is not a number in 1.." + std::to_string(member_id_max) +
               " (larger ids are client ids)");
  m.id = static_cast<std::uint32_t>(id_value);
  const std::string_view addr = item.substr(eq + 1);
  std::string_view port;
  if (addr.starts_with("[")) {
    const auto close = addr.find("]:");
    if (close == std::string_view::npos) return bad(where + ": expected [IPv6]:PORT after '='");
    m.host = std::string(addr.substr(1, close - 1));
    port = addr.substr(close + 2);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) return bad(where + ": expected HOST:PORT after '='");
    m.host = std::string(addr.substr(0, colon));
    port = addr.substr(colon + 1);
  }
  if (!runtime::parse_address(m.host, 1))
    return bad(where + ": host '" + m.host + "' is not a numeric IPv4 or IPv6 address (no DNS names)");
  std::uint64_t port_value = 0;
  auto [pp, pec] = std::from_chars(port.data(), port.data() + port.size(), port_value);
  if (pec != std::errc{} || pp != port.data() + port.size() || port_value < 1 || port_value > 65535)
    return bad(where + ": port '" + std::string(port) + "' is not a number in 1..65535");
  m.port = static_cast<std::uint16_t>(port_value);
  return m;
}

}  // namespace

Result<std::vector<Member>> parse_members(std::string_view text) {
  if (text.empty()) return bad("the member list is empty; write it as ID=HOST:PORT,..., e.g. 1=10.0.0.1:7100,2=10.0.0.2:7100");
  std::vector<Member> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    auto m = parse_member(item);
    if (!m) return m.error();
    for (const Member& o : out) {
      if (o.id == m->id) return bad("member id " + std::to_string(m->id) + " appears twice in the member list");
    }
    out.push_back(std::move(*m));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<ClusterKey> parse_cluster_key(std::string_view text) {
  const std::string_view t = trim(text);
  ClusterKey key{};
  if (t.size() != 2 * key.size())
    return bad("a cluster key is 64 hex characters (32 bytes), found " + std::to_string(t.size()) +
               " characters; make one with `batonctl keygen`");
  const char* end = nullptr;
  std::size_t len = 0;
  if (sodium_hex2bin(key.data(), key.size(), t.data(), t.size(), nullptr, &len, &end) != 0 || len != key.size()) {
    // sodium stops at the first pair it cannot read.
    const auto at = static_cast<std::size_t>((end ? end : t.data()) - t.data()) & ~std::size_t{1};
    return bad("'" + std::string(t.substr(at, 2)) + "' at character " + std::to_string(at + 1) + " is not hex");
  }
  return key;
}

Result<ClusterKey> load_cluster_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::with_text(Errc::io_error, "cannot read key file '" + path + "': " + std::strerror(errno));
  std::string text(4097, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > 4096) return bad("key file '" + path + "' is too large to be a key (over 4096 bytes)");
  auto key = parse_cluster_key(text);
  if (!key) return bad("key file '" + path + "': " + std::string(key.error().what));
  return key;
}

ClusterKey generate_cluster_key() {
  // sodium_init is idempotent and thread-safe; it fails only if the system
  // has no random source, which nothing here could work around.
  if (sodium_init() < 0) std::abort();
  ClusterKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string cluster_key_hex(const ClusterKey& key) {
  std::string out(2 * key.size() + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), key.data(), key.size());
  out.pop_back();
  return out;
}

}  // namespace baton
