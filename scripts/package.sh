#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian packages into build-pkg/packages/ and prints their paths:
#   libbaton0     libbaton.so.0
#   libbaton-dev  headers, libbaton.so, libbaton.a, the CMake package, baton.pc
#                 and baton-static.pc
#   baton-tools   batonctl, its man page, baton-node@.service
# build-pkg/ is a shared (BUILD_SHARED_LIBS=ON) RelWithDebInfo build for the
# prefix /usr of the library and batonctl only (no tests, benchmarks or
# examples); the packages hold stripped files (cmake/BatonPackage.cmake).
# docs/operations.md, "Three-host deployment from packages", installs them.
#
# Usage: scripts/package.sh [--maintainer "NAME <EMAIL>"] [--release N]
#   --maintainer  the packages' Maintainer field (default: a placeholder,
#                 Baton maintainers <maintainers@baton.invalid>)
#   --release     the Debian revision, VERSION-N (default 1)
# Environment: BATON_JOBS (default 2).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

maintainer=""
release=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --maintainer|--release)
      [[ $# -ge 2 ]] || baton_die "package.sh: $1 needs a value (try --help)"
      if [[ "$1" == --maintainer ]]; then maintainer="$2"; else release="$2"; fi
      shift ;;
    --maintainer=*) maintainer="${1#--maintainer=}" ;;
    --release=*) release="${1#--release=}" ;;
    -h|--help) awk 'NR > 1 && /SPDX-License-Identifier/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) baton_die "package.sh: unknown argument '$1' (try --help)" ;;
  esac
  shift
done
cache_args=()
if [[ -n "$maintainer" ]]; then
  [[ "$maintainer" =~ ^[^\<\>]+\ \<[^\<\>@\ ]+@[^\<\>\ ]+\>$ ]] \
    || baton_die "package.sh: --maintainer '$maintainer' is not NAME <EMAIL> (e.g. \"Ada Lovelace <ada@example.org>\")"
  cache_args+=("-DBATON_PACKAGE_MAINTAINER=$maintainer")
fi
if [[ -n "$release" ]]; then
  [[ "$release" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] \
    || baton_die "package.sh: --release '$release' is not a Debian revision (a digit, then digits, letters, . + ~)"
  cache_args+=("-DBATON_PACKAGE_RELEASE=$release")
fi

bash "$BATON_ROOT/scripts/install-deps.sh"

dir="$BATON_ROOT/build-pkg"
cmake -S "$BATON_ROOT" -B "$dir" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=g++-12 \
  -DCMAKE_INSTALL_PREFIX=/usr \
  -DBUILD_SHARED_LIBS=ON \
  -DBATON_PACKAGE=ON \
  -DBATON_WERROR=ON \
  -DBATON_TESTS=OFF -DBATON_BENCH=OFF -DBATON_EXAMPLES=OFF \
  "${cache_args[@]}" >/dev/null
cmake --build "$dir" -j "$BATON_JOBS"
rm -rf "$dir/packages"
cpack -G DEB --config "$dir/CPackConfig.cmake" -B "$dir/packages" >"$dir/cpack.log" 2>&1 \
  || { cat "$dir/cpack.log" >&2; baton_die "package.sh: cpack failed (log above, also $dir/cpack.log)"; }
mapfile -t debs < <(find "$dir/packages" -maxdepth 1 -name '*.deb' | sort)
[[ ${#debs[@]} -eq 3 ]] || baton_die "package.sh: expected 3 packages in $dir/packages, cpack made ${#debs[@]}"
printf '%s\n' "${debs[@]}"
