// SPDX-License-Identifier: Apache-2.0
#include "trace.hpp"

#include <cstdio>
#include <sstream>
#include <type_traits>

namespace baton::sim {

namespace {
std::string tok(core::Token t) { return std::to_string(t.value); }
std::string dur(core::Duration d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3fms", static_cast<double>(d.count_ns()) / 1e6);
  return buf;
}
}  // namespace

std::string true_ms(std::int64_t true_ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6fms", static_cast<double>(true_ns) / 1e6);
  return buf;
}

std::string local_s(core::Instant local) {
  if (local.is_max()) return "never";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09llds", static_cast<long long>(local.ns() / 1000000000),
                static_cast<long long>(local.ns() % 1000000000));
  return buf;
}

std::string describe(const core::LeaseId& l) {
  return "n" + std::to_string(l.owner.value) + "." + std::to_string(l.incarnation.value) + "." + std::to_string(l.serial);
}

std::string describe(const core::Message& m) {
  std::ostringstream o;
  o << core::message_name(m);
  std::visit(
      [&o](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, core::Request>) {
          o << " " << v.resource.str() << " lease=" << describe(v.lease) << " ttl=" << dur(v.ttl) << " token=" << tok(v.token);
        } else if constexpr (std::is_same_v<T, core::Grant>) {
          o << " " << v.resource.str() << " lease=" << describe(v.lease) << " token=" << tok(v.token);
        } else if constexpr (std::is_same_v<T, core::Deny>) {
          o << " " << v.resource.str() << " lease=" << describe(v.lease) << " token=" << tok(v.token)
            << " reason=" << core::deny_reason_name(v.reason) << " holder=n" << v.holder.value
            << " left=" << dur(v.time_left) << " fence=" << tok(v.fence) << (v.unqueued ? " unqueued" : "");
        } else if constexpr (std::is_same_v<T, core::Renew>) {
          o << " " << v.resource.str() << " lease=" << describe(v.lease) << " token=" << tok(v.token)
            << " ttl=" << dur(v.ttl) << " round=" << v.round << (v.believed ? "" : " confirm");
        } else if constexpr (std::is_same_v<T, core::RenewAck>) {
          o << " " << v.resource.str() << " lease=" << describe(v.lease) << " token=" << tok(v.token)
            << " round=" << v.round << (v.ok ? " ok" : " nack ") << (v.ok ? "" : core::deny_reason_name(v.reason))
            << " fence=" << tok(v.fence);
        } else if constexpr (std::is_same_v<T, core::Release>) {
          o << " " << v.resource.str() << " lease=" << describe(v.lease) << " token=" << tok(v.token);
        } else if constexpr (std::is_same_v<T, core::Free>) {
          o << " " << v.resource.str() << " fence=" << tok(v.fence);
        } else if constexpr (std::is_same_v<T, core::FloorQuery>) {
          o << " nonce=" << v.nonce;
        } else if constexpr (std::is_same_v<T, core::FloorReply>) {
          o << " nonce=" << v.nonce << (v.ready ? " floor=" + tok(v.floor) : std::string(" not-ready"));
        } else if constexpr (std::is_same_v<T, core::Ping>) {
          o << " nonce=" << v.nonce;
        } else if constexpr (std::is_same_v<T, core::Pong>) {
          o << " nonce=" << v.nonce << " live=" << v.live_leases << " floor=" << tok(v.floor);
        }
      },
      m);
  return o.str();
}

std::string describe(const core::Event& e) {
  std::ostringstream o;
  o << "event " << core::event_kind_name(e.kind) << " acq" << e.id.value << " " << e.resource.str();
  switch (e.kind) {
    case core::EventKind::acquired:
    case core::EventKind::renewed:
      o << " token=" << tok(e.token) << " validity_end=" << local_s(e.validity_end);
      break;
    case core::EventKind::acquire_failed:
    case core::EventKind::renew_failed:
      o << " error=" << errc_name(e.error);
      break;
    case core::EventKind::lost:
      o << " token=" << tok(e.token) << " reason=" << core::lost_reason_name(e.lost_reason);
      break;
  }
  return o.str();
}

}  // namespace baton::sim
