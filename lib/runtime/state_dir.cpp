#include "runtime/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace baton::runtime {

namespace {

Error io(std::string_view what) { return Error{Errc::io_error, what}; }

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

}  // namespace

Result<std::optional<std::uint64_t>> read_value(const std::string& dir, const char* name) {
  const std::string path = dir + "/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::uint64_t>{};
    return io("state dir: cannot open a state file");
  }
  char buf[32];
  std::size_t len = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf + len, sizeof(buf) - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return io("state dir: cannot read a state file");
    }
    if (n == 0 || len + static_cast<std::size_t>(n) == sizeof(buf)) {
      len += static_cast<std::size_t>(n);
      break;
    }
    len += static_cast<std::size_t>(n);
  }
  ::close(fd);
  // Exactly digits and one trailing newline: anything else is corruption.
  if (len < 2 || len == sizeof(buf) || buf[len - 1] != '\n') return io("state dir: state file is corrupted");
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(buf, buf + len - 1, value);
  if (ec != std::errc{} || end != buf + len - 1) return io("state dir: state file is corrupted");
  return std::optional<std::uint64_t>{value};
}

Result<void> write_value(const std::string& dir, const char* name, std::uint64_t value) {
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf) - 1, value);
  if (ec != std::errc{}) return io("state dir: cannot format value");
  *end++ = '\n';
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io("state dir: cannot create a temporary state file");
  const bool written = write_all(fd, buf, static_cast<std::size_t>(end - buf)) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return io("state dir: cannot write or sync a state file");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return io("state dir: cannot rename a state file into place");
  }
  // The rename is durable only once the directory entry is synced.
  if (!fsync_path(dir, O_RDONLY | O_DIRECTORY)) return io("state dir: cannot sync the directory");
  return {};
}

StartPlan decide_start(const StartInputs& in, std::optional<std::uint64_t> stored_floor,
                       std::optional<std::uint64_t> stored_incarnation) {
  StartPlan plan;
  if (in.state_dir) {
    plan.persist = true;
    if (stored_floor) {
      plan.recovery = core::RecoveryMode::reservation;
      plan.recovered_reservation = core::Token{*stored_floor};
    } else {
      plan.recovery = core::RecoveryMode::first_start;
    }
  } else {
    plan.persist = false;
    plan.recovery = in.bootstrap ? core::RecoveryMode::first_start : core::RecoveryMode::peers;
  }
  std::uint64_t inc = in.realtime_ns;
  if (in.incarnation) {
    inc = *in.incarnation;
  } else if (in.state_dir && stored_incarnation) {
    inc = std::max(*stored_incarnation + 1, in.realtime_ns);
  }
  plan.incarnation = core::Incarnation{inc == 0 ? 1 : inc};
  return plan;
}

Result<StartPlan> plan_start(const StartInputs& in) {
  std::optional<std::uint64_t> floor;
  std::optional<std::uint64_t> incarnation;
  if (in.state_dir) {
    struct stat st{};
    if (::stat(in.state_dir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return io("state dir: not an existing directory");
    auto f = read_value(*in.state_dir, floor_file_name);
    if (!f) return f.error();
    floor = *f;
    auto i = read_value(*in.state_dir, incarnation_file_name);
    if (!i) return i.error();
    incarnation = *i;
  }
  StartPlan plan = decide_start(in, floor, incarnation);
  if (in.state_dir && !in.incarnation) {
    // Persist before use: a crash right after start must not reuse it.
    auto w = write_value(*in.state_dir, incarnation_file_name, plan.incarnation.value);
    if (!w) return w.error();
  }
  return plan;
}

}  // namespace baton::runtime
