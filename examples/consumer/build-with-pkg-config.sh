#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The same consumer, built with pkg-config instead of CMake:
#   PKG_CONFIG_PATH=/opt/baton/lib/pkgconfig examples/consumer/build-with-pkg-config.sh /tmp/out
# Builds <out-dir>/baton_consumer_pc. CXX (default c++) and CXXFLAGS are honoured.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 <out-dir>" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
mkdir -p "$out"
pkg-config --exists --print-errors baton || { echo "pkg-config cannot find baton: set PKG_CONFIG_PATH" >&2; exit 1; }
# The public API is used only when the installation has its library.
api=""
if pkg-config --libs baton | grep -qE -- '(^| )-lbaton( |$)'; then api="-DBATON_CONSUMER_LINKS_API=1"; fi
# Word splitting of the flags is intended.
# shellcheck disable=SC2046,SC2086
"${CXX:-c++}" -std=c++20 ${CXXFLAGS:-} $api $(pkg-config --cflags baton) \
  -o "$out/baton_consumer_pc" "$here/main.cpp" $(pkg-config --libs baton)
echo "built $out/baton_consumer_pc with: $(pkg-config --cflags --libs baton)"
