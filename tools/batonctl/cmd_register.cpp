// SPDX-License-Identifier: Apache-2.0
// batonctl register: the fenced register of shared/HISTORY.md on top of
// baton::FenceGuard. Single-threaded: one datagram at a time, so the log's
// order is the order of admission.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "baton/fence.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "history.hpp"
#include "register_proto.hpp"

namespace batonctl {

namespace {

int bind_udp(const HostPort& hp) {
  sockaddr_storage ss{};
  const socklen_t len = to_sockaddr(hp.host, hp.port, ss);
  if (len == 0) return -1;
  const int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int cmd_register(const Args& args) {
  FlagSet flags("register", "--listen HOST:PORT --log FILE",
                "Runs the fenced register (shared/HISTORY.md): it answers each datagram\n"
                "  W <resource> <token> <node> <incarnation> <req_id> <true_sent_ns>\n"
                "with `A <highest> <req_id>` when the token is at or above the highest token it accepted\n"
                "for the resource, else `R <highest> <req_id>`, and appends one JSON line per write to FILE.\n"
                "Runs until SIGTERM or SIGINT.");
  std::string listen, log_path;
  flags.add_string("listen", &listen, "UDP address to listen on (required)");
  flags.add_string("log", &log_path, "JSON-lines log of every write (required; appended to)");
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  if (listen.empty()) throw UsageError{"--listen is required"};
  if (log_path.empty()) throw UsageError{"--log is required"};
  const HostPort hp = parse_host_port(listen, "--listen");

  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    std::fprintf(stderr, "batonctl register: cannot open --log '%s': %s\n", log_path.c_str(), std::strerror(errno));
    return exit_failure;
  }
  const int fd = bind_udp(hp);
  if (fd < 0) {
    std::fprintf(stderr, "batonctl register: cannot bind %s: %s\n", listen.c_str(), std::strerror(errno));
    ::close(log_fd);
    return exit_failure;
  }
  std::fprintf(stderr, "batonctl register: listening on %s\n", listen.c_str());

  baton::FenceGuard guard;
  std::uint64_t malformed = 0;
  char buf[2048];
  bool log_failed = false;
  while (!stop_requested()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n <= 0) continue;
    const std::int64_t true_ns = true_now_ns();
    const auto w = parse_request(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!w) {
      if (malformed++ == 0) std::fprintf(stderr, "batonctl register: ignoring a malformed datagram\n");
      continue;
    }
    const std::uint64_t max_before = guard.highest(w->resource);
    auto record = [&](bool accepted) {
      Json j;
      j.num("v", 1)
          .str("type", "register")
          .str("resource", w->resource)
          .str("writer", w->node)
          .unum("incarnation", w->incarnation)
          .unum("token", w->token)
          .num("true_ns", true_ns)
          .num("true_sent_ns", w->true_sent_ns)
          .boolean("accepted", accepted)
          .unum("max_before", max_before)
          .unum("req_id", w->req_id);
      const std::string line = j.done() + "\n";
      if (::write(log_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) log_failed = true;
    };
    // Logged under the guard's lock, before the answer leaves (write-ahead).
    const baton::Result<void> r = guard.guarded(w->resource, w->token, [&] { record(true); });
    if (!r) record(false);
    const std::string answer =
        format_answer({.accepted = r.ok(), .highest = guard.highest(w->resource), .req_id = w->req_id});
    ::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
  ::close(fd);
  ::close(log_fd);
  if (log_failed) {
    std::fprintf(stderr, "batonctl register: some log lines could not be written\n");
    return exit_failure;
  }
  return exit_ok;
}

}  // namespace batonctl
