// SPDX-License-Identifier: Apache-2.0
// batonctl acquire: join as a member (or a client), take one lease, hold it,
// release it.
#include <cstdio>

#include "commands.hpp"
#include "common.hpp"

namespace batonctl {

int cmd_acquire(const Args& args) {
  FlagSet flags("acquire", "--members ... (--id N | --client) [flags] RESOURCE",
                "Runs member N, or with --client a client of --members (no member slot: no --id, no state;\n"
                "a random client id is drawn at start), just long enough to take a lease on RESOURCE: prints\n"
                "the fencing token and the validity, holds the lease for --hold-ms (renewing it when the hold\n"
                "outlasts the validity), releases it and exits. Exit 0 when the lease was acquired, 3 when not.\n"
                "A lease lost during the hold is reported on stderr (the exit code stays 0).");
  MemberFlags member;
  member.declare(flags, Role::member_or_client);
  std::uint64_t ttl_ms = 10000, wait_ms = 0, hold_ms = 0;
  flags.add_u64("ttl-ms", &ttl_ms, "lease ttl (default 10000; at most --ttl-max-ms)", 1, 24ull * 3600 * 1000);
  flags.add_u64("wait-ms", &wait_ms, "how long to wait while the resource is held elsewhere (default 0)", 0,
                24ull * 3600 * 1000);
  flags.add_u64("hold-ms", &hold_ms, "how long to hold the lease before releasing it (default 0)", 0,
                24ull * 3600 * 1000);
  if (!flags.parse(args)) return exit_ok;
  if (flags.positional().size() != 1) throw UsageError{"exactly one RESOURCE is required"};
  const std::string resource = flags.positional()[0];
  if (resource.empty() || resource.size() > 128) throw UsageError{"RESOURCE must be 1..128 bytes"};
  if (ttl_ms > member.ttl_max_ms)
    throw UsageError{"--ttl-ms " + std::to_string(ttl_ms) + " is above --ttl-max-ms " + std::to_string(member.ttl_max_ms)};
  if (ttl_ms < member.ttl_min_ms)
    throw UsageError{"--ttl-ms " + std::to_string(ttl_ms) + " is below --ttl-min-ms " + std::to_string(member.ttl_min_ms)};
  baton::Config config = member.config(flags);
  auto m = Member::start(std::move(config), member.verbose);
  if (!m) return exit_failure;

  baton::AcquireOptions opts;
  opts.ttl = std::chrono::milliseconds(ttl_ms);
  opts.wait = std::chrono::milliseconds(wait_ms);
  auto lease = m->cluster().acquire(resource, opts);
  if (!lease) {
    std::printf("not acquired: %s: %s\n", std::string(baton::errc_name(lease.code())).c_str(),
                std::string(lease.what()).c_str());
    std::fflush(stdout);
    return exit_not_acquired;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lease->time_left());
  std::printf("acquired %s token=%llu validity_ms=%lld\n", resource.c_str(),
              static_cast<unsigned long long>(lease->token()), static_cast<long long>(left.count()));
  std::fflush(stdout);

  const auto hold_end = baton::BootClock::now() + std::chrono::milliseconds(hold_ms);
  if (baton::BootClock::now() + std::chrono::milliseconds(hold_ms) >= lease->validity_end()) {
    (void)lease->set_auto_renew(true);  // the hold outlasts the validity: keep renewing
  }
  bool lost = false;
  while (baton::BootClock::now() < hold_end) {
    if (!lease->valid()) {
      lost = true;
      break;
    }
    const auto slice = std::min<std::chrono::nanoseconds>(hold_end - baton::BootClock::now(),
                                                          std::chrono::milliseconds(20));
    if (sleep_or_stop(slice)) break;
  }
  if (lost || !lease->valid()) {
    const auto why = lease->lost_reason();
    std::fprintf(stderr, "batonctl acquire: lease on %s ended before the hold did: %s\n", resource.c_str(),
                 why ? std::string(baton::lost_reason_name(*why)).c_str() : "validity ran out");
  } else {
    lease->release();
    std::printf("released %s\n", resource.c_str());
  }
  std::fflush(stdout);
  return exit_ok;
}

}  // namespace batonctl
