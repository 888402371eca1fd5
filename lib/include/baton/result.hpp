// SPDX-License-Identifier: Apache-2.0
// Errors as values: Errc and Result<T>, used by every layer of Baton.
//
// Programmer errors (a broken invariant) abort through BATON_ASSERT; operating
// errors (loss, denial, timeout, bad input) are values of Errc. The public API
// documents, per call, which codes it returns and what the caller should do.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace baton {

enum class Errc : std::uint8_t {
  ok = 0,
  invalid_argument,   // A call's argument is out of range; nothing changed.
  invalid_config,     // Configuration rejected by validate(); nothing started.
  busy,               // Another holder has the lease (try_acquire, or wait ran out while held).
  unavailable,        // No majority of voters answered before the deadline.
  unknown_outcome,    // Not known whether the operation took effect (e.g. a renew
                      // whose acknowledgements did not arrive in time).
  not_held,           // The lease is not held (released, expired, lost, unknown id).
  lost,               // The lease was lost (renewal failed, expired, superseded).
  overloaded,         // A configured limit was reached (in-flight acquires, queues).
  stopped,            // The member is stopping or stopped.
  stale_token,        // A fencing check rejected a token below the highest seen.
  io_error,           // The operating system refused (socket, file, sync).
  cancelled,          // The caller released an acquire before it completed.
  too_late,           // A renew asked for past the renewal cut-off (the last fifth of
                      // the validity window): nothing was sent; the lease runs to its end.
};

// A short, stable, lower_snake_case name for logs, JSON and command lines.
constexpr std::string_view errc_name(Errc e) noexcept {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::invalid_config: return "invalid_config";
    case Errc::busy: return "busy";
    case Errc::unavailable: return "unavailable";
    case Errc::unknown_outcome: return "unknown_outcome";
    case Errc::not_held: return "not_held";
    case Errc::lost: return "lost";
    case Errc::overloaded: return "overloaded";
    case Errc::stopped: return "stopped";
    case Errc::stale_token: return "stale_token";
    case Errc::io_error: return "io_error";
    case Errc::cancelled: return "cancelled";
    case Errc::too_late: return "too_late";
  }
  return "unknown";
}

// An error code with a human-readable reason. The message is a static string
// or owned text; it is for people, the code is for programs.
struct Error {
  Errc code = Errc::ok;
  std::string_view what{};  // static storage duration text, or the text `owned` holds
  // Set by with_text(): the text `what` views, shared by every copy of this
  // Error (and of the Result holding it), so `what` stays valid as long as one
  // of them lives.
  std::shared_ptr<const std::string> owned{};

  // An error whose text is built at run time, to name the value at fault
  // (a path, a process id).
  static Error with_text(Errc code, std::string text) {
    auto s = std::make_shared<const std::string>(std::move(text));
    const std::string_view view = *s;
    return Error{code, view, std::move(s)};
  }
};

namespace detail {
// The contract of Result::value(), operator* and error(): call them only after
// checking ok(). Breaking it is a programmer error, like any broken
// precondition: Baton says which call and which error on stderr and aborts
// (no exception to catch or miss; issue 22).
[[noreturn]] inline void bad_result_access(const char* call, Errc code, std::string_view what) {
  std::fprintf(stderr, "baton: Result::%s called on %s (%.*s: %.*s); check ok() first\n", call,
               code == Errc::ok ? "a success" : "an error", static_cast<int>(errc_name(code).size()),
               errc_name(code).data(), static_cast<int>(what.size()), what.data());
  std::abort();
}
}  // namespace detail

// Result<T>: a T or an Error. Result<void> carries only success or an Error.
// value(), operator* and operator-> need ok(); error() needs !ok(): otherwise
// the process aborts with the call and the error on stderr.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}            // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, e) {}                            // NOLINT
  Result(Errc c, std::string_view what = {}) : v_(std::in_place_index<1>, Error{c, what}) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  Errc code() const noexcept { return ok() ? Errc::ok : std::get<1>(v_).code; }
  std::string_view what() const noexcept { return ok() ? std::string_view{} : std::get<1>(v_).what; }
  const Error& error() const {
    if (ok()) detail::bad_result_access("error()", Errc::ok, {});
    return *std::get_if<1>(&v_);
  }

  T& value() & { return *checked(); }
  const T& value() const& { return *checked(); }
  T&& value() && { return std::move(*checked()); }
  T* operator->() { return checked(); }
  const T* operator->() const { return checked(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // On a temporary: `auto c = *Cluster::start(config);` moves the value out.
  T&& operator*() && { return std::move(*checked()); }

 private:
  T* checked() {
    if (!ok()) detail::bad_result_access("value()", code(), what());
    return std::get_if<0>(&v_);
  }
  const T* checked() const {
    if (!ok()) detail::bad_result_access("value()", code(), what());
    return std::get_if<0>(&v_);
  }

  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(e) {}                                                    // NOLINT
  Result(Errc c, std::string_view what = {}) : e_{c, what} {}                   // NOLINT
  bool ok() const noexcept { return e_.code == Errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
  Errc code() const noexcept { return e_.code; }
  std::string_view what() const noexcept { return e_.what; }
  const Error& error() const { return e_; }

 private:
  Error e_{};
};

// A Result<void> its caller may drop without a cast: for calls whose failure
// leaves nothing to do (Lease::release(): a lease not released expires by
// itself). Every other Result is [[nodiscard]].
class DiscardableResult : public Result<void> {
 public:
  using Result<void>::Result;
  DiscardableResult() = default;
  DiscardableResult(Result<void> r) : Result<void>(std::move(r)) {}  // NOLINT
};

}  // namespace baton
