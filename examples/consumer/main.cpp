// A program outside Baton's tree, built against an installed Baton (through
// find_package(baton) or pkg-config). It uses whatever the installation
// provides: always baton/result.hpp; baton/fence.hpp and the public API
// (baton/baton.hpp) when they are installed. It exits non-zero when anything
// it checks does not hold, so tests/install can run it.
#include <baton/result.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#if __has_include(<baton/fence.hpp>)
#include <baton/fence.hpp>
#define BATON_CONSUMER_HAS_FENCE 1
#endif
#if __has_include(<baton/baton.hpp>)
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

}  // namespace

int main() {
  use_result();
#ifdef BATON_CONSUMER_HAS_FENCE
  std::printf("consumer: baton/fence.hpp is installed and compiles on its own\n");
#endif
#ifdef BATON_CONSUMER_HAS_API
  std::printf("consumer: baton/baton.hpp is installed and compiles on its own\n");
#endif
  if (failures != 0) return EXIT_FAILURE;
  std::printf("consumer: ok\n");
  return EXIT_SUCCESS;
}
