// SPDX-License-Identifier: Apache-2.0
#include "runtime/state_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/assert.hpp"
#include "core/limits.hpp"
#include "runtime/clock.hpp"

namespace baton::runtime {

namespace {

Error io(std::string text) { return Error::with_text(Errc::io_error, std::move(text)); }

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// "'<path>': <what the OS said>", for errors that name the file.
std::string os_error(const std::string& path, int err) { return quoted(path) + ": " + std::strerror(err); }

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
bool write_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

bool fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// The directory holding `path` ("." for a bare name).
std::string parent_of(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

// Reads up to `cap` bytes of `fd` from its start.
std::string read_prefix(int fd, std::size_t cap) {
  std::string out(cap, '\0');
  std::size_t len = 0;
  while (len < cap) {
    const ssize_t n = ::pread(fd, out.data() + len, cap - len, static_cast<off_t>(len));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<std::size_t>(n);
  }
  out.resize(len);
  return out;
}

}  // namespace

Result<std::optional<std::uint64_t>> read_value(const std::string& dir, const char* name) {
  const std::string path = dir + "/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::uint64_t>{};
    return io("state directory: cannot open " + os_error(path, errno));
  }
  char buf[32];
  std::size_t len = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf + len, sizeof(buf) - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return io("state directory: cannot read " + os_error(path, err));
    }
    if (n == 0 || len + static_cast<std::size_t>(n) == sizeof(buf)) {
      len += static_cast<std::size_t>(n);
      break;
    }
    len += static_cast<std::size_t>(n);
  }
  ::close(fd);
  // Exactly digits and one trailing newline: anything else is corruption.
  const std::string corrupted = "state directory: " + quoted(path) +
                                " is corrupted (not a decimal number and a newline); an operator must repair or "
                                "restore it: a guessed value could break fencing";
  if (len < 2 || len == sizeof(buf) || buf[len - 1] != '\n') return io(corrupted);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(buf, buf + len - 1, value);
  if (ec != std::errc{} || end != buf + len - 1) return io(corrupted);
  return std::optional<std::uint64_t>{value};
}

namespace {

// Durably replaces `dir`/`name` with `text`: a temporary file, fsynced,
// renamed over the old one, then the directory fsynced.
Result<void> write_file(const std::string& dir, const char* name, std::string_view text) {
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io("state directory: cannot create " + os_error(tmp, errno));
  const bool written = write_all(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  const int write_err = errno;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return io("state directory: cannot write or sync " + os_error(tmp, write_err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return io("state directory: cannot rename " + quoted(tmp) + " to " + os_error(path, err));
  }
  // The rename is durable only once the directory entry is synced.
  if (!fsync_path(dir, O_RDONLY | O_DIRECTORY)) return io("state directory: cannot sync " + os_error(dir, errno));
  return {};
}

}  // namespace

Result<void> write_value(const std::string& dir, const char* name, std::uint64_t value) {
  return write_file(dir, name, std::to_string(value) + "\n");
}

// The configuration file (issue 21): six lines, each a key and its values,
// in this order; ids in decimal, separated by single spaces:
//   epoch <E>\nballot <b>\nvoters <id>...\nnew_voters [<id>...]\nfloor <F>\npromised <p>\njoin_floor <J>\n
// (J: the highest F ever adopted, applied at every start).
std::string format_config(const core::CfgState& s) {
  auto ids = [](const std::vector<core::MemberId>& v) {
    std::string out;
    for (core::MemberId m : v) out += " " + std::to_string(m.value);
    return out;
  };
  return "epoch " + std::to_string(s.record.id.epoch) + "\nballot " + std::to_string(s.record.id.ballot) +
         "\nvoters" + ids(s.record.old_voters) + "\nnew_voters" + ids(s.record.new_voters) + "\nfloor " +
         std::to_string(s.record.floor.value) + "\npromised " + std::to_string(s.promised) + "\njoin_floor " +
         std::to_string(s.join_floor.value) + "\n";
}

std::optional<core::CfgState> parse_config(std::string_view text) {
  std::vector<std::vector<std::uint64_t>> values;
  static constexpr std::string_view keys[] = {"epoch", "ballot", "voters", "new_voters", "floor", "promised",
                                              "join_floor"};
  for (std::string_view key : keys) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line.substr(0, key.size()) != key) return std::nullopt;
    line.remove_prefix(key.size());
    std::vector<std::uint64_t> nums;
    while (!line.empty()) {
      if (line.front() != ' ' || line.size() < 2) return std::nullopt;
      line.remove_prefix(1);
      std::uint64_t v = 0;
      const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
      if (ec != std::errc{} || end == line.data()) return std::nullopt;
      line.remove_prefix(static_cast<std::size_t>(end - line.data()));
      if (nums.size() > core::limits::members_max) return std::nullopt;
      nums.push_back(v);
    }
    values.push_back(std::move(nums));
  }
  if (!text.empty()) return std::nullopt;
  for (std::size_t i : {0, 1, 4, 5, 6}) {
    if (values[i].size() != 1) return std::nullopt;
  }
  core::CfgState s;
  s.record.id = core::CfgId{values[0][0], values[1][0]};
  for (std::size_t i : {2, 3}) {
    auto& out = i == 2 ? s.record.old_voters : s.record.new_voters;
    for (std::uint64_t v : values[i]) {
      if (v > core::member_id_max) return std::nullopt;
      out.push_back(core::MemberId(static_cast<std::uint32_t>(v)));
    }
  }
  s.record.floor = core::Token(values[4][0]);
  s.promised = values[5][0];
  s.join_floor = core::Token(values[6][0]);
  if (!core::validate_state(s)) return std::nullopt;
  return s;
}

Result<void> write_config(const std::string& dir, const core::CfgState& state) {
  return write_file(dir, config_file_name, format_config(state));
}

Result<std::optional<core::CfgState>> read_config(const std::string& dir) {
  const std::string path = dir + "/" + config_file_name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<core::CfgState>{};
    return io("state directory: cannot open " + os_error(path, errno));
  }
  // 128 voters of 10 digits and a space, and six short lines, fit in 2 KiB.
  constexpr std::size_t cap = 4096;
  const std::string text = read_prefix(fd, cap);
  ::close(fd);
  std::optional<core::CfgState> s;
  if (text.size() < cap) s = parse_config(text);
  if (!s) {
    return io("state directory: " + quoted(path) +
              " is corrupted (not a valid configuration record: epoch, ballot, voters, new_voters, floor, promised, "
              "join_floor); "
              "an operator must repair or restore it: a guessed configuration could break mutual exclusion");
  }
  return s;
}

// ---- lock -------------------------------------------------------------------

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

StateDirLock::StateDirLock(StateDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

StateDirLock& StateDirLock::operator=(StateDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Result<StateDirLock> StateDirLock::acquire(const std::string& dir) {
  const std::string path = dir + "/" + lock_file_name;
  // The lock file stays (never unlinked): removing it would let a third
  // process lock a new file while the second still holds the old one.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io("state directory " + quoted(dir) + ": cannot open its lock file " + os_error(path, errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return io("state directory " + quoted(dir) + ": cannot lock " + os_error(path, err));
    }
    // The holder wrote its pid right after locking (empty if it is just now doing so).
    std::string pid = read_prefix(fd, 24);
    ::close(fd);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    const bool digits = !pid.empty() && std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
    // flock conflicts between two opens in one process too: say which it is.
    const std::string holder = !digits                            ? "another process (pid unknown)"
                               : pid == std::to_string(::getpid()) ? "another member of this process (pid " + pid + ")"
                                                                   : "another process (pid " + pid + ")";
    return io("state directory " + quoted(dir) + " is locked by " + holder +
              ": one directory serves one member process; two would overwrite each other's floor reservations. "
              "Stop the other one, or give this member its own directory");
  }
  // For the error message of the next process that tries; not synced, not
  // needed for safety (the flock is).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock holds regardless; only the pid in a rival's message is lost.
  }
  return StateDirLock(fd);
}

// ---- start plan ---------------------------------------------------------------

StartPlan decide_start(const StartInputs& in, const StoredState& stored) {
  StartPlan plan;
  if (in.state_dir) {
    plan.persist = true;
    if (stored.floor) {
      plan.recovery = core::RecoveryMode::reservation;
      plan.recovered_reservation = core::Token{*stored.floor};
      plan.bootstrap_ignored = in.bootstrap;
    } else if (in.bootstrap) {
      plan.recovery = core::RecoveryMode::first_start;
      plan.write_initial_floor = true;
    } else {
      // Guarantee 2 (fencing): no floor and no bootstrap means this member's
      // state is lost; floor 0 would grant tokens it already granted.
      plan.recovery = core::RecoveryMode::peers;
    }
    // Guarantee 1 across a configuration change: quarantine for the longest
    // ttl_max and the largest rho any earlier life voted under.
    const std::uint64_t stored_ttl = stored.ttl_max_ns.value_or(0);
    plan.prior_ttl_max = core::Duration::ns(static_cast<std::int64_t>(stored_ttl));
    plan.prior_rho_ppm = static_cast<std::uint32_t>(stored.rho_ppm.value_or(0));
    plan.ttl_max_to_store = max(plan.prior_ttl_max, in.ttl_max);
    plan.rho_ppm_to_store = std::max(plan.prior_rho_ppm, in.rho_ppm);
    plan.cfg = stored.cfg;
  } else {
    plan.persist = false;
    plan.recovery = in.bootstrap ? core::RecoveryMode::first_start : core::RecoveryMode::peers;
  }
  BATON_ASSERT(in.realtime_ns.has_value());  // plan_start fills it in
  std::uint64_t inc = *in.realtime_ns;
  if (in.incarnation) {
    inc = *in.incarnation;
  } else if (in.state_dir && stored.incarnation) {
    inc = std::max(*stored.incarnation + 1, *in.realtime_ns);
  }
  plan.incarnation = core::Incarnation{inc == 0 ? 1 : inc};
  return plan;
}

namespace {

// Reads every value of the locked directory `dir`, and checks the ranges the
// core accepts (a value out of range is as corrupted as a non-number).
Result<StoredState> read_state(const std::string& dir) {
  StoredState s;
  auto f = read_value(dir, floor_file_name);
  if (!f) return f.error();
  s.floor = *f;
  auto i = read_value(dir, incarnation_file_name);
  if (!i) return i.error();
  s.incarnation = *i;
  auto t = read_value(dir, ttl_max_file_name);
  if (!t) return t.error();
  s.ttl_max_ns = *t;
  auto r = read_value(dir, rho_file_name);
  if (!r) return r.error();
  s.rho_ppm = *r;
  auto c = read_config(dir);
  if (!c) return c.error();
  s.cfg = *c;
  if (s.ttl_max_ns && *s.ttl_max_ns > static_cast<std::uint64_t>(core::limits::ttl_ceiling.count_ns()))
    return io("state directory: " + quoted(dir + "/" + ttl_max_file_name) + " holds " + std::to_string(*s.ttl_max_ns) +
              " ns, above the longest ttl_max (1 hour): corrupted; an operator must repair it");
  if (s.floor && *s.floor > core::limits::token_max)
    return io("state directory: " + quoted(dir + "/" + floor_file_name) + " holds " + std::to_string(*s.floor) +
              ", above the largest token (" + std::to_string(core::limits::token_max) +
              "): corrupted; an operator must repair it");
  if (s.rho_ppm && *s.rho_ppm > core::limits::rho_ppm_max)
    return io("state directory: " + quoted(dir + "/" + rho_file_name) + " holds " + std::to_string(*s.rho_ppm) +
              " ppm, above the largest rho (100000 ppm): corrupted; an operator must repair it");
  return s;
}

// Writes what `plan` says before the member votes.
Result<void> write_state(const std::string& dir, const StartInputs& in, const StartPlan& plan) {
  // The floor first: its presence is what marks the directory as holding state.
  if (plan.write_initial_floor) {
    if (auto w = write_value(dir, floor_file_name, 0); !w) return w;
  }
  if (auto w = write_value(dir, ttl_max_file_name, static_cast<std::uint64_t>(plan.ttl_max_to_store.count_ns())); !w)
    return w;
  if (auto w = write_value(dir, rho_file_name, plan.rho_ppm_to_store); !w) return w;
  // Persist before use: a crash right after start must not reuse it.
  if (!in.incarnation) {
    if (auto w = write_value(dir, incarnation_file_name, plan.incarnation.value); !w) return w;
  }
  return {};
}

// The directory exists (or, with bootstrap, was created: `created`).
Result<void> ensure_dir(const std::string& dir, bool bootstrap, bool& created) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return io("state directory " + quoted(dir) + " exists but is not a directory");
    return {};
  }
  const int err = errno;
  if (err != ENOENT) return io("state directory: cannot stat " + os_error(dir, err));
  if (!bootstrap)
    return io("state directory " + quoted(dir) +
              " does not exist. On the cluster's first start pass --bootstrap (Config::bootstrap), which creates "
              "it; if this member ran before, its state is lost: create the directory empty, and the member "
              "recovers its floor from its peers");
  if (::mkdir(dir.c_str(), 0700) != 0) return io("state directory: cannot create " + os_error(dir, errno));
  created = true;
  // The new entry survives a crash only once its parent is synced.
  if (!fsync_path(parent_of(dir), O_RDONLY | O_DIRECTORY))
    return io("state directory: cannot sync the parent of " + os_error(dir, errno));
  return {};
}

}  // namespace

Result<StartPlan> plan_start(const StartInputs& given) {
  StartInputs in = given;
  // Wall time, only to derive an incarnation unique across restarts.
  if (!in.realtime_ns) in.realtime_ns = realtime_ns();
  if (!in.state_dir) {
    StartPlan plan = decide_start(in, {});
    if (plan.recovery == core::RecoveryMode::peers && !in.has_peers)
      return Error::with_text(Errc::invalid_config,
                              "bootstrap: a single member without a state directory must set bootstrap "
                              "(peer recovery needs peers)");
    return plan;
  }
  const std::string& dir = *in.state_dir;
  bool created = false;
  auto undo = [&] {
    // Only what this call created: a refused start leaves no trace.
    if (!created) return;
    ::unlink((dir + "/" + lock_file_name).c_str());
    ::rmdir(dir.c_str());
  };
  if (auto d = ensure_dir(dir, in.bootstrap, created); !d) {
    undo();
    return d.error();
  }
  auto lock = StateDirLock::acquire(dir);
  if (!lock) {
    undo();
    return lock.error();
  }
  auto stored = read_state(dir);
  if (!stored) return stored.error();
  StartPlan plan = decide_start(in, *stored);
  if (plan.recovery == core::RecoveryMode::peers && !in.has_peers)
    return Error::with_text(Errc::invalid_config,
                            "state directory " + quoted(dir) +
                                " holds no state (no floor file) and a single member has no peers to recover "
                                "the floor from: if this is its first start, set bootstrap (--bootstrap)");
  if (auto w = write_state(dir, in, plan); !w) return w.error();
  plan.created_dir = created;
  plan.lock = std::move(*lock);
  return plan;
}

}  // namespace baton::runtime
