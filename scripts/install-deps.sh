#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages Baton needs (docs/dependencies.md says why
# each one is there). Idempotent: it asks dpkg first and runs apt-get only
# when something is missing; when everything is present it prints one line.
#
# Usage: scripts/install-deps.sh [--browser] [--redis] [--bench] [--profile]
#   --browser also install chromium (the booking page's browser test; the
#             test command installs it, the demo does not need it)
#   --redis   also install redis-server (only the Redis comparison benchmark
#             uses it; installing it starts a Redis service on the machine)
#   --bench   everything scripts/bench.sh uses: --redis, plus python3 (the
#             results analysis) and gnuplot-nox (the chart)
#   --profile what the profiling in docs/benchmarks.md uses: linux-perf
#             (scripts/bench-profile.sh, perf record) and valgrind (callgrind)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

packages=(
  # Build tools.
  cmake make g++ clang-14 libclang-rt-14-dev pkg-config
  # The Debian packages (scripts/package.sh, the package.debs test):
  # batonctl's man page (help2man), dpkg-shlibdeps for their Depends
  # (dpkg-dev), and file, which CPack uses to find the ELF files.
  help2man dpkg-dev file
  # Libraries: runtime (libuv), wire (FlatBuffers), placement (xxHash),
  # authentication (libsodium), configuration files (toml11), tests and
  # benchmarks.
  libuv1-dev flatbuffers-compiler libflatbuffers-dev libxxhash-dev libsodium-dev libtoml11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # Flags (CLI11) and JSON (nlohmann-json) of batonctl, the examples and the
  # benchmarks; the optional baton::prometheus integration (prometheus-cpp).
  libcli11-dev nlohmann-json3-dev prometheus-cpp-dev
  # The booking example only.
  libcpp-httplib-dev libsqlite3-dev
  # The Redis comparison benchmark only (client library; no server).
  libhiredis-dev
  # Test drivers: the multi-process fault tests and their history checker
  # (python3), network namespaces and fault rules for their network faults
  # (iproute2, nftables).
  python3 iproute2 nftables
)

for arg in "$@"; do
  case "$arg" in
    --browser) packages+=(chromium) ;;
    --redis) packages+=(redis-server) ;;
    --bench) packages+=(redis-server python3 gnuplot-nox) ;;
    --profile) packages+=(linux-perf valgrind python3) ;;
    -h|--help) awk 'NR > 1 && /SPDX-License-Identifier/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) baton_die "install-deps.sh: unknown argument '$arg' (try --help)" ;;
  esac
done

# Sets `missing` to the packages of "$@" that dpkg does not have installed.
find_missing() {
  missing=()
  local p status
  for p in "$@"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
  done
}

# Options may name a package twice.
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | awk '!seen[$0]++')
find_missing "${packages[@]}"

if [[ ${#missing[@]} -eq 0 ]]; then
  baton_log "dependencies: all ${#packages[@]} packages present"
  exit 0
fi

baton_log "dependencies: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || baton_die "not root and no sudo: install as root: apt-get install ${missing[*]}"
  sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
wanted=("${missing[@]}")
find_missing "${wanted[@]}"
[[ ${#missing[@]} -eq 0 ]] || baton_die "apt-get finished but these are still not installed: ${missing[*]}"
baton_log "dependencies: installed ${#wanted[@]} package(s)"
