#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The same consumer, built with pkg-config instead of CMake:
#   PKG_CONFIG_PATH=/opt/baton/lib/pkgconfig examples/consumer/build-with-pkg-config.sh /tmp/out
# Builds <out-dir>/baton_consumer_pc against baton.pc (libbaton.so where one is
# installed), or with --static <out-dir>/baton_consumer_pc_static against
# baton-static.pc (libbaton.a). CXX (default c++) and CXXFLAGS are honoured.
set -euo pipefail
usage="usage: $0 [--static] <out-dir>"
module=baton
name=baton_consumer_pc
out=""
for arg in "$@"; do
  case "$arg" in
    --static) module=baton-static; name=baton_consumer_pc_static ;;
    -*) echo "$0: unknown flag '$arg'; $usage" >&2; exit 2 ;;
    *) [[ -z "$out" ]] || { echo "$0: one <out-dir> only, got '$out' and '$arg'; $usage" >&2; exit 2; }
       out="$arg" ;;
  esac
done
[[ -n "$out" ]] || { echo "$usage" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$out"
pkg-config --exists --print-errors "$module" || { echo "pkg-config cannot find $module: set PKG_CONFIG_PATH" >&2; exit 1; }
# The public API is used only when the installation has its library.
api=""
if pkg-config --libs "$module" | grep -qE -- '(^| )(-lbaton|[^ ]*/libbaton\.a)( |$)'; then api="-DBATON_CONSUMER_LINKS_API=1"; fi
# Word splitting of the flags is intended.
# shellcheck disable=SC2046,SC2086
"${CXX:-c++}" -std=c++20 ${CXXFLAGS:-} $api $(pkg-config --cflags "$module") \
  -o "$out/$name" "$here/main.cpp" $(pkg-config --libs "$module")
echo "built $out/$name with: $(pkg-config --cflags --libs "$module")"
