// SPDX-License-Identifier: Apache-2.0
#include "runtime/udp_transport.hpp"

#include <netinet/in.h>

#include <cstring>
#include <memory>

#include "core/assert.hpp"

namespace baton::runtime {

namespace {
// libuv's recvmmsg reads each datagram into its own 64 KiB chunk of the
// buffer (UV__UDP_DGRAM_MAXSIZE, the largest UDP payload, so nothing is
// truncated silently) and reads as many datagrams per system call as whole
// chunks fit, at most 20. A buffer smaller than one chunk would read
// nothing at all.
constexpr std::size_t recv_chunk_bytes = 65536;
// Datagrams per recvmmsg call: bounds the buffer at 8 x 64 KiB = 512 KiB of
// address space per member. It is allocated without being written, so only
// the pages the kernel fills become resident (the first of each chunk for
// datagrams of <= datagram_bytes_max bytes).
constexpr std::size_t recv_chunks = 8;
constexpr std::size_t scratch_bytes = recv_chunk_bytes * recv_chunks;
}  // namespace

Result<sockaddr_storage> parse_address(const std::string& host, std::uint16_t port) {
  sockaddr_storage ss{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) == 0) return ss;
  ss = sockaddr_storage{};
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) return ss;
  return Error{Errc::invalid_config, "members: host is not a numeric IPv4/IPv6 address"};
}

TrySend after_try_send(int result) {
  if (result >= 0) return TrySend::sent;
  if (result == UV_EAGAIN || result == UV_ENOBUFS) return TrySend::queue;
  return TrySend::failed;
}

UdpTransport::UdpTransport(std::size_t send_slots, std::size_t recv_slots, std::function<void()> on_receive)
    : send_pool_(send_slots),
      recv_pool_(recv_slots),
      scratch_(std::make_unique_for_overwrite<std::uint8_t[]>(scratch_bytes)),
      on_receive_(std::move(on_receive)) {
  received_.reserve(recv_slots);
}

Result<void> UdpTransport::start(uv_loop_t* loop, const sockaddr_storage& bind_to) {
  // AF_UNSPEC: the socket is made by bind, in the address's family.
  // UV_UDP_RECVMMSG: one system call reads up to recv_chunks datagrams.
  if (uv_udp_init_ex(loop, &udp_, AF_UNSPEC | UV_UDP_RECVMMSG) != 0)
    return Error{Errc::io_error, "udp: uv_udp_init_ex failed"};
  udp_.data = this;
  // libuv probes once per process whether recvmmsg works, with a socket it
  // makes and closes inside uv_once on first use. Probing here, on the
  // thread that starts the driver and before its loop thread runs, keeps
  // that descriptor number from being reused across threads unseen (libuv
  // closes it with a raw system call): ThreadSanitizer reports such a reuse
  // as a race on the descriptor (tests/tsan.supp explains the pattern).
  uv_udp_using_recvmmsg(&udp_);
  // From here the handle exists and must be closed, even if binding fails.
  if (uv_udp_bind(&udp_, reinterpret_cast<const sockaddr*>(&bind_to), 0) != 0)
    return Error{Errc::io_error, "udp: cannot bind this member's address (in use? not local?)"};
  sockaddr_storage bound{};
  int len = sizeof(bound);
  if (uv_udp_getsockname(&udp_, reinterpret_cast<sockaddr*>(&bound), &len) != 0)
    return Error{Errc::io_error, "udp: getsockname failed"};
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (uv_udp_recv_start(&udp_, &UdpTransport::on_alloc, &UdpTransport::on_recv) != 0)
    return Error{Errc::io_error, "udp: cannot start receiving"};
  return {};
}

std::uint16_t UdpTransport::local_port() const { return port_; }

bool UdpTransport::send(const sockaddr_storage& to, std::span<const std::uint8_t> bytes) {
  if (bytes.size() > core::limits::datagram_bytes_max) {
    ++counters_.send_failures;
    return false;
  }
  // Fast path: one sendto now, no request, no callback, no slot. libuv
  // answers UV_EAGAIN while earlier sends are still queued (so datagrams keep
  // their order) or the socket buffer is full; ENOBUFS is the kernel's
  // transient shortage. Both fall back to the queued send below.
  uv_buf_t now = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                             static_cast<unsigned>(bytes.size()));
  switch (after_try_send(uv_udp_try_send(&udp_, &now, 1, reinterpret_cast<const sockaddr*>(&to)))) {
    case TrySend::sent:
      ++counters_.sent;
      return true;
    case TrySend::queue:
      return send_queued(to, bytes);
    case TrySend::failed:
      // A socket error now (unreachable network, ...): the datagram is lost,
      // which the protocol tolerates, as when the queued send reports it.
      ++counters_.send_failures;
      return false;
  }
  BATON_ASSERT(false);
  return false;
}

bool UdpTransport::send_queued(const sockaddr_storage& to, std::span<const std::uint8_t> bytes) {
  SendSlot* slot = send_pool_.acquire();
  if (slot == nullptr) {
    ++counters_.send_failures;
    return false;
  }
  std::memcpy(slot->bytes.data(), bytes.data(), bytes.size());
  slot->owner = this;
  slot->req.data = slot;
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(slot->bytes.data()), static_cast<unsigned>(bytes.size()));
  if (uv_udp_send(&slot->req, &udp_, &buf, 1, reinterpret_cast<const sockaddr*>(&to), &UdpTransport::on_sent) != 0) {
    // Failed synchronously: the callback will not run (libuv rule), so the slot comes back here.
    send_pool_.release(slot);
    ++counters_.send_failures;
    return false;
  }
  ++counters_.sent;
  return true;
}

void UdpTransport::on_sent(uv_udp_send_t* req, int status) {
  auto* slot = static_cast<SendSlot*>(req->data);
  UdpTransport* self = slot->owner;
  // ECANCELED at close, or an ICMP error (peer down): the datagram is lost,
  // which the protocol tolerates. Count everything but the close.
  if (status != 0 && status != UV_ECANCELED) ++self->counters_.send_failures;
  self->send_pool_.release(slot);
  if (self->send_pool_.in_use() == 0 && self->on_drained_) self->on_drained_();
}

void UdpTransport::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<UdpTransport*>(h->data);
  *buf = uv_buf_init(reinterpret_cast<char*>(self->scratch_.get()), static_cast<unsigned>(scratch_bytes));
}

void UdpTransport::on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned flags) {
  auto* self = static_cast<UdpTransport*>(h->data);
  // After the chunks of one recvmmsg, libuv hands back the whole buffer
  // (UV_UDP_MMSG_FREE) so that it can be freed: ours is reused, nothing to do.
  if ((flags & UV_UDP_MMSG_FREE) != 0) return;
  if (nread <= 0 || addr == nullptr) return;  // nothing read, or a transient socket error
  const auto n = static_cast<std::size_t>(nread);
  if (n > core::limits::datagram_bytes_max || (flags & UV_UDP_PARTIAL) != 0) {
    ++self->counters_.oversized;
    return;
  }
  RecvSlot* slot = self->recv_pool_.acquire();
  if (slot == nullptr) {
    ++self->counters_.overflow;
    return;
  }
  // The datagram is at buf->base: the start of the buffer for recvmsg, its
  // chunk of the buffer for recvmmsg (UV_UDP_MMSG_CHUNK).
  std::memcpy(slot->bytes.data(), buf->base, n);
  slot->len = n;
  slot->from = sockaddr_storage{};
  std::memcpy(&slot->from, addr, addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  self->received_.push_back(slot);
  self->on_receive_();
}

void UdpTransport::take_received(std::vector<RecvSlot*>& out) {
  out.clear();
  std::swap(out, received_);
}

TransportCounters UdpTransport::take_counters() {
  TransportCounters c = counters_;
  counters_ = TransportCounters{};
  return c;
}

}  // namespace baton::runtime
