// SPDX-License-Identifier: Apache-2.0
// Instant and Duration: integer nanoseconds on a monotonic clock.
//
// Time is an argument, never a read: the core receives `now` with every input.
// No implicit conversions from raw integers or floating point, so a unit error
// is a compile error. Arithmetic saturates at the ends of the range so that
// "never" (Instant::max()) stays "never" after adding a duration.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace baton::core {

namespace detail {
constexpr std::int64_t sat_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}
constexpr std::int64_t sat_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}
}  // namespace detail

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration ns(std::int64_t v) { return Duration(v); }
  static constexpr Duration us(std::int64_t v) { return Duration(v * 1000); }
  static constexpr Duration ms(std::int64_t v) { return Duration(v * 1000 * 1000); }
  static constexpr Duration s(std::int64_t v) { return Duration(v * 1000 * 1000 * 1000); }
  static constexpr Duration zero() { return Duration(0); }
  static constexpr Duration max() { return Duration(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t count_ns() const { return ns_; }
  constexpr std::int64_t count_us() const { return ns_ / 1000; }
  constexpr std::int64_t count_ms() const { return ns_ / (1000 * 1000); }

  constexpr Duration operator+(Duration o) const { return Duration(detail::sat_add(ns_, o.ns_)); }
  constexpr Duration operator-(Duration o) const { return Duration(detail::sat_sub(ns_, o.ns_)); }
  constexpr Duration operator*(std::int64_t k) const {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(ns_, k, &r)) return ((ns_ < 0) != (k < 0)) ? Duration(std::numeric_limits<std::int64_t>::min()) : max();
    return Duration(r);
  }
  constexpr Duration operator/(std::int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) { return *this = *this + o; }
  constexpr Duration& operator-=(Duration o) { return *this = *this - o; }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(std::int64_t v) : ns_(v) {}
  std::int64_t ns_ = 0;  // nanoseconds
};

class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_ns(std::int64_t v) { return Instant(v); }
  static constexpr Instant zero() { return Instant(0); }
  // "Never": the farthest instant; adding to it stays there.
  static constexpr Instant max() { return Instant(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t ns() const { return ns_; }
  constexpr bool is_max() const { return ns_ == std::numeric_limits<std::int64_t>::max(); }

  constexpr Instant operator+(Duration d) const {
    if (is_max()) return *this;
    return Instant(detail::sat_add(ns_, d.count_ns()));
  }
  constexpr Instant operator-(Duration d) const {
    if (is_max()) return *this;
    return Instant(detail::sat_sub(ns_, d.count_ns()));
  }
  constexpr Duration operator-(Instant o) const { return Duration::ns(detail::sat_sub(ns_, o.ns_)); }
  constexpr Instant& operator+=(Duration d) { return *this = *this + d; }
  constexpr auto operator<=>(const Instant&) const = default;

 private:
  constexpr explicit Instant(std::int64_t v) : ns_(v) {}
  std::int64_t ns_ = 0;  // nanoseconds since an arbitrary per-process origin
};

constexpr Instant min(Instant a, Instant b) { return a < b ? a : b; }
constexpr Instant max(Instant a, Instant b) { return a < b ? b : a; }
constexpr Duration min(Duration a, Duration b) { return a < b ? a : b; }
constexpr Duration max(Duration a, Duration b) { return a < b ? b : a; }

// `d` for error messages, exact, in the largest unit that divides it: "5ms",
// "60s", "999us", "-1ns", "0s" (1.5 s is "1500ms": never rounded).
std::string to_text(Duration d);

}  // namespace baton::core
