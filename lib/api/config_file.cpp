// SPDX-License-Identifier: Apache-2.0
// load_config and apply_env (baton/config.hpp): a Config from a TOML file and
// the environment. toml11 stays in this file: no public header includes it and
// the installed package does not depend on it.
#include <toml.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "baton/config.hpp"
#include "runtime/udp_transport.hpp"

namespace baton {
namespace {

using Value = toml::value;

Error invalid(std::string text) { return Error::with_text(Errc::invalid_config, std::move(text)); }

// A value as the error messages show it: its TOML type and, for scalars, the
// value itself ("integer 70000", "string \"60 s\"").
std::string describe(const Value& v) {
  std::ostringstream o;
  o << v.type();
  switch (v.type()) {
    case toml::value_t::string: o << " \"" << v.as_string().str << "\""; break;
    case toml::value_t::integer: o << " " << v.as_integer(); break;
    case toml::value_t::floating: o << " " << v.as_floating(); break;
    case toml::value_t::boolean: o << " " << (v.as_boolean() ? "true" : "false"); break;
    default: break;
  }
  return o.str();
}

// Reads one file into a Config: each key's value checked on its own (type,
// range); relations between fields are validate()'s.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  // "PATH:LINE: KEY: " for a value of the file.
  std::string at(const Value& v, const std::string& key) const {
    return path_ + ":" + std::to_string(v.location().line()) + ": " + key + ": ";
  }
  Error fail(const Value& v, const std::string& key, const std::string& expected) const {
    return invalid(at(v, key) + describe(v) + "; expected " + expected);
  }

  Result<std::uint64_t> integer(const Value& v, const std::string& key, std::uint64_t min, std::uint64_t max) {
    const std::string range = "an integer in " + std::to_string(min) + ".." + std::to_string(max);
    if (!v.is_integer()) return fail(v, key, range);
    const std::int64_t i = v.as_integer();
    if (i < 0 || static_cast<std::uint64_t>(i) < min || static_cast<std::uint64_t>(i) > max) return fail(v, key, range);
    return static_cast<std::uint64_t>(i);
  }

  Result<bool> boolean(const Value& v, const std::string& key) {
    if (!v.is_boolean()) return fail(v, key, "true or false");
    return v.as_boolean();
  }

  Result<std::string> string(const Value& v, const std::string& key, const char* what) {
    if (!v.is_string() || v.as_string().str.empty()) return fail(v, key, what);
    return v.as_string().str;
  }

  // "10ms": a whole number and a unit, at most about 292 years in ns.
  Result<std::chrono::nanoseconds> duration(const Value& v, const std::string& key) {
    static constexpr const char* expected =
        "a string of a whole number and a unit ns, us, ms or s, e.g. \"10ms\" or \"60s\"";
    if (!v.is_string()) return fail(v, key, expected);
    const std::string& s = v.as_string().str;
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || p == s.data()) return fail(v, key, expected);
    const std::string_view unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
    const std::pair<std::string_view, std::uint64_t> units[] = {
        {"ns", 1}, {"us", 1000}, {"ms", 1000 * 1000}, {"s", 1000 * 1000 * 1000}};
    for (const auto& [name, scale] : units) {
      if (unit != name) continue;
      if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / scale)
        return fail(v, key, "a duration below 2^63 ns (about 292 years)");
      return std::chrono::nanoseconds{static_cast<std::int64_t>(n * scale)};
    }
    return fail(v, key, expected);
  }

  // Each table's keys in file order (toml11 keeps them in a hash map), so
  // the first fault reported is the first in the file.
  static std::vector<std::pair<std::string, const Value*>> in_order(const Value& table) {
    std::vector<std::pair<std::string, const Value*>> out;
    for (const auto& [k, v] : table.as_table()) out.emplace_back(k, &v);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      const auto la = a.second->location().line(), lb = b.second->location().line();
      return la != lb ? la < lb : a.first < b.first;
    });
    return out;
  }

  Error unknown(const Value& v, const std::string& key, const std::vector<std::string>& known) const {
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    return invalid(at(v, key) + "unknown key; expected one of " + list);
  }

  Result<Member> member(const Value& v, const std::string& key) {
    static const std::vector<std::string> known = {"id", "host", "port"};
    if (!v.is_table()) return fail(v, key, "a table {id = N, host = \"10.0.0.1\", port = 7101}");
    Member m;
    bool seen[3] = {};
    for (const auto& [k, item] : in_order(v)) {
      const std::string name = key + "." + k;
      if (k == "id") {
        auto id = integer(*item, name, 1, member_id_max);
        if (!id) return id.error();
        m.id = static_cast<std::uint32_t>(*id);
        seen[0] = true;
      } else if (k == "host") {
        auto host = string(*item, name, "a numeric IPv4 or IPv6 address (no DNS), e.g. \"10.0.0.1\"");
        if (!host) return host.error();
        if (!runtime::parse_address(*host, 1))
          return fail(*item, name, "a numeric IPv4 or IPv6 address (no DNS), e.g. \"10.0.0.1\"");
        m.host = *host;
        seen[1] = true;
      } else if (k == "port") {
        auto port = integer(*item, name, 1, 65535);
        if (!port) return port.error();
        m.port = static_cast<std::uint16_t>(*port);
        seen[2] = true;
      } else {
        return unknown(*item, name, known);
      }
    }
    for (std::size_t i = 0; i < 3; ++i) {
      if (!seen[i]) return invalid(at(v, key) + "'" + known[i] + "' missing; every member has id, host and port");
    }
    return m;
  }

  Result<void> members(const Value& v, Config& c) {
    if (!v.is_array() || v.as_array().empty())
      return fail(v, "members", "a non-empty array of {id, host, port} tables");
    std::vector<Member> out;
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
      const Value& item = v.as_array()[i];
      auto m = member(item, "members[" + std::to_string(i) + "]");
      if (!m) return m.error();
      for (const Member& o : out) {
        if (o.id == m->id) return invalid(at(item, "members[" + std::to_string(i) + "].id") + "integer " +
                                          std::to_string(m->id) + " given twice; expected unique ids");
      }
      out.push_back(std::move(*m));
    }
    c.members = std::move(out);
    return {};
  }

  Result<void> limits(const Value& v, Limits& l) {
    if (!v.is_table()) return fail(v, "limits", "a table of limits ([limits])");
    const std::pair<const char*, std::size_t Limits::*> fields[] = {
        {"acquires_in_flight", &Limits::acquires_in_flight},
        {"leases_per_voter", &Limits::leases_per_voter},
        {"waiters_per_resource", &Limits::waiters_per_resource},
        {"waiters_per_voter", &Limits::waiters_per_voter},
        {"calls_queued", &Limits::calls_queued},
        {"send_buffers", &Limits::send_buffers},
        {"receive_batch", &Limits::receive_batch},
        {"renew_waiters_per_lease", &Limits::renew_waiters_per_lease},
        {"clients", &Limits::clients}};
    for (const auto& [k, item] : in_order(v)) {
      const std::string name = "limits." + k;
      lines_[name] = item->location().line();
      bool found = false;
      for (const auto& [field, member] : fields) {
        if (k != field) continue;
        auto n = integer(*item, name, 1, std::numeric_limits<std::int64_t>::max());
        if (!n) return n.error();
        l.*member = static_cast<std::size_t>(*n);
        found = true;
      }
      if (!found) {
        std::vector<std::string> known;
        for (const auto& f : fields) known.emplace_back(f.first);
        return unknown(*item, name, known);
      }
    }
    return {};
  }

  // The whole file. The key file is only named here (key_file()): it is read
  // after the environment had its say.
  Result<void> read(const Value& root, Config& c) {
    using Set = std::function<Result<void>(const Value&, Config&)>;
    auto to = [](auto parse, auto assign) -> Set {
      return [parse, assign](const Value& v, Config& cfg) -> Result<void> {
        auto r = parse(v);
        if (!r) return r.error();
        assign(cfg, *r);
        return {};
      };
    };
    auto dur = [this, to](const char* key, std::chrono::nanoseconds Config::*field) {
      return to([this, key](const Value& v) { return duration(v, key); },
                [field](Config& cfg, std::chrono::nanoseconds d) { cfg.*field = d; });
    };
    const std::vector<std::pair<std::string, Set>> keys = {
        {"members", [this](const Value& v, Config& cfg) { return members(v, cfg); }},
        {"self", to([this](const Value& v) { return integer(v, "self", 1, member_id_max); },
                    [](Config& cfg, std::uint64_t n) { cfg.self = static_cast<std::uint32_t>(n); })},
        {"client", to([this](const Value& v) { return boolean(v, "client"); },
                      [](Config& cfg, bool b) { cfg.client = b; })},
        {"key_file", to([this](const Value& v) { return string(v, "key_file", "a path to a key file (batonctl keygen)"); },
                        [this](Config&, const std::string& s) { key_file_ = s; })},
        {"cluster_id", to([this](const Value& v) { return integer(v, "cluster_id", 0, std::numeric_limits<std::int64_t>::max()); },
                          [](Config& cfg, std::uint64_t n) { cfg.cluster_id = n; })},
        {"state_dir", to([this](const Value& v) { return string(v, "state_dir", "a directory path (leave the key out: diskless)"); },
                         [](Config& cfg, const std::string& s) { cfg.state_dir = s; })},
        {"bootstrap", to([this](const Value& v) { return boolean(v, "bootstrap"); },
                         [](Config& cfg, bool b) { cfg.bootstrap = b; })},
        {"rho", to([this](const Value& v) -> Result<double> {
                     if (!v.is_floating()) return fail(v, "rho", "a float in (0, 0.1], e.g. 0.01");
                     return v.as_floating();
                   },
                   [](Config& cfg, double d) { cfg.rho = d; })},
        {"replicas", to([this](const Value& v) { return integer(v, "replicas", 1, 0xffffffffu); },
                        [](Config& cfg, std::uint64_t n) { cfg.replicas = static_cast<std::uint32_t>(n); })},
        {"ttl_min", dur("ttl_min", &Config::ttl_min)},
        {"ttl_max", dur("ttl_max", &Config::ttl_max)},
        {"margin", dur("margin", &Config::margin)},
        {"busy_poll", dur("busy_poll", &Config::busy_poll)},
        {"limits", [this](const Value& v, Config& cfg) { return limits(v, cfg.limits); }},
    };
    for (const auto& entry : in_order(root)) {
      // Not a structured binding: clang 14 refuses to capture one in a lambda.
      const std::string& k = entry.first;
      const auto& item = entry.second;
      lines_[k] = item->location().line();
      const auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& e) { return e.first == k; });
      if (it == keys.end()) {
        std::vector<std::string> known;
        for (const auto& e : keys) known.push_back(e.first);
        return unknown(*item, k, known);
      }
      if (auto r = it->second(*item, c); !r) return r;
    }
    if (!root.as_table().count("members"))
      return invalid(path_ + ": members: missing; expected members = [{id = 1, host = \"10.0.0.1\", port = 7101}, ...]");
    return {};
  }

  const std::string& key_file() const { return key_file_; }
  // The line of a key (or "limits.KEY") in the file, 0 if it is not there.
  unsigned line(const std::string& key) const {
    const auto it = lines_.find(key);
    return it == lines_.end() ? 0 : static_cast<unsigned>(it->second);
  }

 private:
  std::string path_;
  std::string key_file_;  // empty: no key_file in the file
  std::map<std::string, std::uint_least32_t> lines_;
};

// A key file's errors, as a configuration error (io_error stays io_error).
Error key_error(const Error& e, const std::string& origin) {
  return Error::with_text(e.code == Errc::io_error ? Errc::io_error : Errc::invalid_config,
                          origin + ": " + std::string(e.what));
}

// apply_env, saying which variables it used (for load_config's errors).
Result<void> apply_env_noting(Config& config, std::vector<std::string>& used) {
  auto var = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  Config out = config;
  if (const std::string v = var("BATON_SELF"); !v.empty()) {
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n < 1 || n > member_id_max)
      return invalid("BATON_SELF: '" + v + "'; expected a member id in 1.." + std::to_string(member_id_max));
    out.self = static_cast<std::uint32_t>(n);
    used.push_back("BATON_SELF=" + v);
  }
  if (const std::string v = var("BATON_STATE_DIR"); !v.empty()) {
    out.state_dir = v;
    used.push_back("BATON_STATE_DIR=" + v);
  }
  if (const std::string v = var("BATON_KEY_FILE"); !v.empty()) {
    auto key = load_cluster_key(v);
    if (!key) return key_error(key.error(), "BATON_KEY_FILE");
    out.cluster_key = *key;
    used.push_back("BATON_KEY_FILE=" + v);
  }
  config = std::move(out);
  return {};
}

// The whole file as text: io_error with the path and the system's reason.
Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::with_text(Errc::io_error, "cannot read config file '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad() || text.bad())
    return Error::with_text(Errc::io_error, "cannot read config file '" + path + "': " + std::strerror(errno));
  return text.str();
}

}  // namespace

Result<void> apply_env(Config& config) {
  std::vector<std::string> used;
  return apply_env_noting(config, used);
}

Result<Config> load_config(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  Value root;
  try {
    std::istringstream in(*text);
    root = toml::parse(in, path);
  } catch (const std::exception& e) {
    // toml11's message names the file and shows the line at fault.
    return invalid("config file '" + path + "' is not valid TOML: " + e.what());
  }
  Reader reader(path);
  Config c;
  if (auto r = reader.read(root, c); !r) return r.error();
  std::vector<std::string> env;
  if (auto r = apply_env_noting(c, env); !r) return r.error();
  std::string env_note;
  for (const std::string& e : env) env_note += (env_note.empty() ? " (environment: " : ", ") + e;
  if (!env_note.empty()) env_note += ")";
  if (!c.client && c.self == 0)
    return invalid(path + ": self: missing; expected this member's id, one of members (or BATON_SELF, or "
                          "client = true)");
  if (!reader.key_file().empty() && !c.cluster_key) {
    auto key = load_cluster_key(reader.key_file());
    if (!key) return key_error(key.error(), path + ":" + std::to_string(reader.line("key_file")) + ": key_file");
    c.cluster_key = *key;
  }
  if (auto v = c.validate(); !v) {
    // validate() names the field first ("rho: ..."): add where it came from.
    const std::string what(v.what());
    const unsigned line = reader.line(what.substr(0, what.find(':')));
    return invalid(path + (line ? ":" + std::to_string(line) : "") + ": " + what + env_note);
  }
  return c;
}

}  // namespace baton
