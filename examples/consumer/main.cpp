// SPDX-License-Identifier: Apache-2.0
// A program outside Baton's tree, built against an installed Baton (through
// find_package(baton) or pkg-config). It uses whatever the installation
// provides: always baton/result.hpp; baton/fence.hpp and the public API
// (baton/baton.hpp, libbaton.so or libbaton.a) when they are installed. It exits non-zero when anything
// it checks does not hold, so tests/install can run it.
#include <baton/result.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#if __has_include(<baton/fence.hpp>)
#include <baton/fence.hpp>
#define BATON_CONSUMER_HAS_FENCE 1
#endif
// The API needs both its headers and its library (libbaton): the build
// defines BATON_CONSUMER_LINKS_API when the installation has baton::baton.
#if __has_include(<baton/baton.hpp>) && defined(BATON_CONSUMER_LINKS_API)
#include <baton/baton.hpp>
#define BATON_CONSUMER_HAS_API 1
#endif

namespace {

int failures = 0;

void expect(bool ok, std::string_view what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %.*s\n", static_cast<int>(what.size()), what.data());
    ++failures;
  }
}

// A resource-side check written against Result<T> alone: accept a write only
// with a token at least the highest seen (what baton/fence.hpp packages).
baton::Result<unsigned long long> check_token(unsigned long long& highest, unsigned long long token) {
  if (token < highest) return {baton::Errc::stale_token, "token below the highest seen"};
  highest = token;
  return token;
}

void use_result() {
  unsigned long long highest = 0;
  auto first = check_token(highest, 7);
  expect(first.ok() && *first == 7, "token 7 accepted");
  auto stale = check_token(highest, 5);
  expect(!stale.ok(), "token 5 rejected after 7");
  expect(stale.code() == baton::Errc::stale_token, "rejection is stale_token");
  expect(baton::errc_name(stale.code()) == "stale_token", "errc_name(stale_token)");
  baton::Result<void> done;
  expect(done.ok(), "Result<void> default is success");
  std::printf("consumer: result.hpp ok (highest token %llu, rejected: %.*s)\n", highest,
              static_cast<int>(stale.what().size()), stale.what().data());
}

#ifdef BATON_CONSUMER_HAS_FENCE
// The resource side, header-only: a stale holder's token is refused.
void use_fence() {
  baton::FenceGuard guard;
  expect(guard.admit("seat:14A", 3).ok(), "fence admits token 3");
  expect(guard.admit("seat:14A", 4).ok(), "fence admits token 4");
  auto stale = guard.admit("seat:14A", 3);
  expect(stale.code() == baton::Errc::stale_token, "fence rejects token 3 after 4");
  expect(guard.highest("seat:14A") == 4, "fence remembers 4");
  std::printf("consumer: fence.hpp ok (seat:14A highest %llu)\n",
              static_cast<unsigned long long>(guard.highest("seat:14A")));
}
#endif

#ifdef BATON_CONSUMER_HAS_API
// The public API, from the installed library: an empty member list is
// rejected by Config::validate() before anything starts, and the library's
// version is the headers' (a libbaton.so from another install would differ).
void use_api() {
  expect(std::string_view(baton::version()) == BATON_VERSION_STRING, "baton::version() is the headers' version");
  auto members = baton::parse_members("1=10.0.0.1:7100,2=[::1]:7100");
  expect(members.ok() && members->size() == 2 && members->at(1).host == "::1", "parse_members");
  baton::Config config;
  auto checked = config.validate();
  expect(checked.code() == baton::Errc::invalid_config, "empty Config is invalid_config");
  std::printf("consumer: baton.hpp ok (library %s, empty config: %.*s)\n", baton::version(),
              static_cast<int>(checked.what().size()), checked.what().data());
}
#endif

}  // namespace

int main() {
  use_result();
#ifdef BATON_CONSUMER_HAS_FENCE
  use_fence();
#endif
#ifdef BATON_CONSUMER_HAS_API
  use_api();
#endif
  if (failures != 0) return EXIT_FAILURE;
  std::printf("consumer: ok\n");
  return EXIT_SUCCESS;
}
