// SPDX-License-Identifier: Apache-2.0
// UdpTransport: one uv_udp_t, bounded send and receive buffers.
//
// Receive: libuv reads with recvmmsg (UV_UDP_RECVMMSG), several datagrams
// per system call, into one bounded scratch buffer of 64 KiB chunks, each
// larger than any valid datagram, so an oversized datagram is seen whole (or
// flagged partial) and dropped as `oversized` instead of being truncated
// into something that might parse. A datagram of valid size is copied into a
// slot of the receive pool and queued for the driver's next batch; when the
// pool is empty it is dropped as `overflow`. Where recvmmsg is missing,
// libuv reads one datagram per recvmsg into the same buffer.
//
// Send: first uv_udp_try_send, one sendto with no request and no callback
// (issue 7: the common case on an idle socket). Only when that would block
// (UV_EAGAIN: the socket buffer is full, or earlier sends are still queued
// and order must hold) or the kernel is short of buffers (UV_ENOBUFS) does
// the datagram take a slot (its uv_udp_send_t and its bytes) from the send
// pool for a queued uv_udp_send; the slot returns to the pool in the send
// callback, which libuv also runs (with UV_ECANCELED) for sends pending when
// the handle closes. No slot free: the datagram is not sent and counted; the
// protocol treats it as lost, which it must tolerate anyway.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "baton/result.hpp"
#include "core/limits.hpp"
#include "runtime/slot_pool.hpp"

namespace baton::runtime {

class UdpTransport;

struct SendSlot {
  uv_udp_send_t req{};                                          // in flight while the slot is taken
  std::array<std::uint8_t, core::limits::datagram_bytes_max> bytes{};  // the datagram
  UdpTransport* owner = nullptr;                                // returns the slot in the callback
};

struct RecvSlot {
  std::array<std::uint8_t, core::limits::datagram_bytes_max> bytes{};  // the datagram
  std::size_t len = 0;                                          // bytes used
  sockaddr_storage from{};                                      // the source address (observers are answered there)
};

// Counters of the transport, drained by the driver after each batch.
struct TransportCounters {
  std::uint64_t oversized = 0;      // received datagrams above datagram_bytes_max
  std::uint64_t overflow = 0;       // received datagrams dropped: receive pool empty
  std::uint64_t send_failures = 0;  // datagrams not sent: no slot, too big, socket error
  std::uint64_t sent = 0;           // datagrams handed to the socket (sent at once or queued)
};

// What send() does after uv_udp_try_send returned `result`. Pure, unit-tested.
enum class TrySend : std::uint8_t {
  sent,    // >= 0: the datagram is on the wire
  queue,   // UV_EAGAIN or UV_ENOBUFS: fall back to a queued uv_udp_send
  failed,  // any other error: lost, counted in send_failures
};
TrySend after_try_send(int result);

// Parses a numeric IPv4 or IPv6 address. Errors: invalid_config.
Result<sockaddr_storage> parse_address(const std::string& host, std::uint16_t port);

class UdpTransport {
 public:
  // `on_receive` runs on the loop after a datagram was queued.
  UdpTransport(std::size_t send_slots, std::size_t recv_slots, std::function<void()> on_receive);
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // Loop thread, once: init, bind, start receiving. Errors: io_error.
  Result<void> start(uv_loop_t* loop, const sockaddr_storage& bind_to);
  std::uint16_t local_port() const;

  // Sends `bytes` to `to`. False when not sent (counted in send_failures).
  bool send(const sockaddr_storage& to, std::span<const std::uint8_t> bytes);

  // Moves the queued datagrams into `out`; give each back with recycle().
  void take_received(std::vector<RecvSlot*>& out);
  void recycle(RecvSlot* slot) { recv_pool_.release(slot); }

  TransportCounters take_counters();
  // Stops receiving (shutdown: nothing received would be processed).
  void stop_receiving() { uv_udp_recv_stop(&udp_); }
  // `on_drained` runs when the last send in flight completes.
  void set_on_drained(std::function<void()> on_drained) { on_drained_ = std::move(on_drained); }
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&udp_); }
  std::size_t sends_in_flight() const { return send_pool_.in_use(); }
  // Whether libuv reads with recvmmsg (after start()).
  bool batched_receive() const { return uv_udp_using_recvmmsg(&udp_) != 0; }

 private:
  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned flags);
  static void on_sent(uv_udp_send_t* req, int status);
  // The slow path of send(): a slot and a queued uv_udp_send.
  bool send_queued(const sockaddr_storage& to, std::span<const std::uint8_t> bytes);

  uv_udp_t udp_{};                       // the socket; closed by the driver
  SlotPool<SendSlot> send_pool_;         // bounded send requests
  SlotPool<RecvSlot> recv_pool_;         // bounded received datagrams
  std::vector<RecvSlot*> received_;      // queued for the next batch
  std::unique_ptr<std::uint8_t[]> scratch_;  // libuv reads here: recv_chunks x 64 KiB (udp_transport.cpp)
  std::function<void()> on_receive_;
  std::function<void()> on_drained_;     // after the last send in flight completed
  TransportCounters counters_;
  std::uint16_t port_ = 0;               // bound port
};

}  // namespace baton::runtime
