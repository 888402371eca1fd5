// SPDX-License-Identifier: Apache-2.0
#include "core/drift.hpp"

#include "core/assert.hpp"

namespace baton::core::drift {

namespace {
// 128-bit intermediates: ttl_ns * 1e6 overflows 64 bits for ttls above ~2.5 hours.
__extension__ typedef __int128 i128;
constexpr std::int64_t clamp_i128(i128 v) {
  if (v > static_cast<i128>(INT64_MAX)) return INT64_MAX;
  if (v < 0) return 0;
  return static_cast<std::int64_t>(v);
}
}  // namespace

Duration stretch_down(Duration ttl, std::uint32_t rho_ppm) {
  BATON_ASSERT(rho_ppm < ppm);
  BATON_ASSERT(ttl >= Duration::zero());
  const i128 num = static_cast<i128>(ttl.count_ns()) * (ppm - rho_ppm);
  const i128 den = ppm + rho_ppm;
  return Duration::ns(clamp_i128(num / den));  // floor: validity rounds down
}

Duration stretch_up(Duration d, std::uint32_t rho_ppm) {
  BATON_ASSERT(rho_ppm < ppm);
  BATON_ASSERT(d >= Duration::zero());
  const i128 num = static_cast<i128>(d.count_ns()) * (ppm + rho_ppm);
  const i128 den = ppm - rho_ppm;
  return Duration::ns(clamp_i128((num + den - 1) / den));  // ceil: waits round up
}

Instant validity_end(Instant t0, Duration ttl, std::uint32_t rho_ppm, Duration margin) {
  return t0 + stretch_down(ttl, rho_ppm) - margin;
}

Instant hold_end(Instant now, Duration ttl) { return now + ttl; }

Instant quarantine_end(Instant start, Duration ttl_max, std::uint32_t rho_ppm) {
  return start + stretch_up(ttl_max, rho_ppm);
}

Instant renew_start(Instant valid_from, Instant valid_end) {
  if (valid_end <= valid_from) return valid_from;
  return valid_from + (valid_end - valid_from) / 3;
}

Instant renew_cutoff(Instant valid_from, Instant valid_end) {
  if (valid_end <= valid_from) return valid_end;
  return valid_end - (valid_end - valid_from) / 5;
}

}  // namespace baton::core::drift
