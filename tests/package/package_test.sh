#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The package.debs test (tests/package/CMakeLists.txt): the .deb packages of a
# shared build, unpacked into a scratch root, used the way a user would.
#
# Usage: package_test.sh --build DIR --source DIR --work DIR --cpack PATH --cxx PATH --version X.Y.Z
#
# 1. cpack -G DEB packs the build: exactly libbaton0, libbaton-dev and
#    baton-tools, with a Maintainer, the license, Depends from
#    dpkg-shlibdeps (libuv1, libsodium23), libbaton-dev on libbaton0 of the
#    same version, and no internal library (libbaton_core.a ...) anywhere.
# 2. dpkg -x all three into one scratch root.
# 3. libbaton.so.0: SONAME libbaton.so.0; its dynamic symbols include the
#    public API (baton::Cluster::start) and nothing of baton::core, codec,
#    runtime or detail, nor Cluster::Impl or Lease::State members.
# 4. baton-tools: batonctl --version runs from the root, its man page is there
#    and says NAME batonctl, the unit runs `batonctl node --config
#    /etc/baton/%i.toml`.
# 5. examples/consumer against the root: find_package shared and static
#    (-DBATON_USE_STATIC_LIBS=ON), pkg-config shared (baton.pc) and static
#    (baton-static.pc). Each runs and says "consumer: ok"; each shared one
#    needs libbaton.so.0 (readelf -d) and loads it from the root
#    (LD_LIBRARY_PATH, ldd); each static one does not need it.
set -euo pipefail

fail() { echo "package.debs: FAILED: $*" >&2; exit 1; }
step() { echo "package.debs: $*"; }

build="" source="" work="" cpack="" cxx="" version=""
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || fail "flag '$1' needs a value"
  case "$1" in
    --build) build="$2" ;;
    --source) source="$2" ;;
    --work) work="$2" ;;
    --cpack) cpack="$2" ;;
    --cxx) cxx="$2" ;;
    --version) version="$2" ;;
    *) fail "unknown flag '$1'" ;;
  esac
  shift 2
done
for v in build source work cpack cxx version; do
  [[ -n "${!v}" ]] || fail "--$v is required"
done
for tool in dpkg-deb dpkg-shlibdeps readelf nm pkg-config ldd "$cpack"; do
  command -v "$tool" >/dev/null || fail "'$tool' not found (bash scripts/install-deps.sh installs dpkg-dev, file, pkg-config)"
done

rm -rf "$work"
mkdir -p "$work"
root="$work/root"
start=$SECONDS

# 1. Pack.
"$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$work/debs" >"$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
mapfile -t debs < <(find "$work/debs" -maxdepth 1 -name '*.deb' | sort)
names=""
for d in "${debs[@]}"; do names+="$(dpkg-deb -f "$d" Package) "; done
[[ "$names" == "baton-tools libbaton-dev libbaton0 " ]] \
  || fail "expected the packages baton-tools libbaton-dev libbaton0, cpack made: ${names:-none} (${debs[*]:-})"
deb() { find "$work/debs" -maxdepth 1 -name "$1_*.deb"; }
full_version="$(dpkg-deb -f "$(deb libbaton0)" Version)"
[[ "$full_version" == "$version"-* ]] || fail "libbaton0 version '$full_version' is not $version-<release>"
for d in "${debs[@]}"; do
  p="$(dpkg-deb -f "$d" Package)"
  [[ -n "$(dpkg-deb -f "$d" Maintainer)" ]] || fail "$p has no Maintainer"
  listing="$(dpkg-deb -c "$d")"  # whole, not piped into grep -q (SIGPIPE under pipefail)
  grep -q "/usr/share/doc/$p/copyright\$" <<<"$listing" || fail "$p has no /usr/share/doc/$p/copyright"
  internal="$(grep -E 'libbaton_(core|codec|runtime|api)|batonTargets\.cmake$' <<<"$listing" || true)"
  [[ -z "$internal" ]] || fail "$p ships an internal library or the old export: $internal"
done
dpkg-deb -x "$(deb libbaton0)" "$work/lib0"  # libbaton0 alone: its shlibs and its files
for dep in libuv1 libsodium23 libc6; do
  grep -qE "(^|, )$dep( |,|$)" <<<"$(dpkg-deb -f "$(deb libbaton0)" Depends)" \
    || fail "libbaton0 Depends lacks $dep: $(dpkg-deb -f "$(deb libbaton0)" Depends)"
done
grep -qF "libbaton0 (= $full_version)" <<<"$(dpkg-deb -f "$(deb libbaton-dev)" Depends)" \
  || fail "libbaton-dev does not depend on libbaton0 (= $full_version): $(dpkg-deb -f "$(deb libbaton-dev)" Depends)"
grep -q libuv1 <<<"$(dpkg-deb -f "$(deb baton-tools)" Depends)" \
  || fail "baton-tools Depends lacks libuv1: $(dpkg-deb -f "$(deb baton-tools)" Depends)"
lib0_files="$(find "$work/lib0" \( -type f -o -type l \) -printf '%P\n' | grep -v '^usr/share/doc/' | sort | tr '\n' ' ')"
[[ "$lib0_files" =~ ^usr/lib/([a-z0-9_-]+/)?libbaton\.so\.0\ usr/lib/([a-z0-9_-]+/)?libbaton\.so\.0\.[0-9.]+\ $ ]] \
  || fail "libbaton0 must hold libbaton.so.0 and its versioned file only, holds: $lib0_files"
step "packed in $((SECONDS - start)) s: ${debs[*]##*/}"

# 2. Unpack.
for d in "${debs[@]}"; do dpkg -x "$d" "$root"; done
so="$(find "$root/usr/lib" -name 'libbaton.so.0.*' -type f)"
[[ -n "$so" && -f "$so" ]] || fail "no libbaton.so.0.* under $root/usr/lib"
libdir="$(dirname "$so")"
for f in "$libdir/libbaton.so" "$libdir/libbaton.a" "$libdir/pkgconfig/baton.pc" "$libdir/pkgconfig/baton-static.pc" \
         "$root/usr/include/baton/baton.hpp" "$root/usr/include/baton/export.hpp" "$root/usr/include/baton/version.hpp"; do
  [[ -e "$f" ]] || fail "not in the packages: ${f#"$root"}"
done
[[ -n "$(find "$root/usr/lib" -name batonConfig.cmake)" ]] || fail "no batonConfig.cmake in the packages"

# 3. The shared library: SONAME and exported symbols.
soname="$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[[ "$soname" == libbaton.so.0 ]] || fail "SONAME of ${so#"$root"} is '$soname', not libbaton.so.0"
nm -D --defined-only -C "$so" >"$work/exports.txt"
leaked="$(grep -E 'baton::(core|codec|runtime|detail)::|Cluster::Impl::|Lease::State::' "$work/exports.txt" || true)"
[[ -z "$leaked" ]] || fail "libbaton.so exports internal symbols ($(wc -l <<<"$leaked") of them):
$(head -n 20 <<<"$leaked")"
for sym in 'baton::Cluster::start(baton::Config)' 'baton::Config::validate() const' 'baton::version()' \
           'baton::parse_members(' 'baton::Lease::release()'; do
  grep -qF " $sym" "$work/exports.txt" || fail "libbaton.so does not export the public $sym"
done
step "libbaton.so: SONAME $soname, $(grep -c ' T ' "$work/exports.txt") exported functions, none internal"

# 4. baton-tools.
out="$("$root/usr/bin/batonctl" --version)" || fail "batonctl --version from the packages"
[[ "$out" == "batonctl (Baton) $version" ]] || fail "batonctl --version said '$out', not 'batonctl (Baton) $version'"
man="$root/usr/share/man/man1/batonctl.1.gz"
[[ -f "$man" ]] || fail "no man page ${man#"$root"}"
page="$(zcat "$man")"
grep -q '^batonctl \\- ' <<<"$page" || fail "the man page has no NAME line for batonctl"
grep -q '^\.SS "batonctl node"' <<<"$page" || fail "the man page does not describe batonctl node"
unit="$(find "$root" -name 'baton-node@.service')"
[[ -n "$unit" ]] || fail "no baton-node@.service in baton-tools"
grep -qx 'ExecStart=/usr/bin/batonctl node --config /etc/baton/%i.toml' "$unit" \
  || fail "${unit#"$root"} does not run batonctl node --config /etc/baton/%i.toml"

# 5. The consumer, four ways.
export LD_LIBRARY_PATH="$libdir"
# Checks binary $1 ($2: shared or static), then runs it.
check_consumer() {
  local bin="$1" kind="$2" needed loaded out
  needed="$(readelf -d "$bin" | grep -c 'NEEDED.*\[libbaton\.so\.0\]' || true)"
  if [[ "$kind" == shared ]]; then
    [[ "$needed" == 1 ]] || fail "$bin does not need libbaton.so.0 (readelf -d)"
    loaded="$(ldd "$bin" | sed -n 's/^[[:space:]]*libbaton\.so\.0 => \([^ ]*\).*/\1/p')"
    [[ "$loaded" == "$libdir/libbaton.so.0" ]] || fail "$bin loads libbaton.so.0 from '$loaded', not from $libdir"
  else
    [[ "$needed" == 0 ]] || fail "$bin, linked statically, needs libbaton.so.0"
  fi
  out="$("$bin")" || fail "$bin exited $?: $out"
  grep -q '^consumer: ok$' <<<"$out" || fail "$bin did not say consumer: ok: $out"
  grep -q "^consumer: baton.hpp ok (library $version," <<<"$out" || fail "$bin did not use the API: $out"
}
for kind in shared static; do
  static=OFF
  [[ "$kind" == static ]] && static=ON
  dir="$work/consumer-cmake-$kind"
  cmake -S "$source/examples/consumer" -B "$dir" -DCMAKE_PREFIX_PATH="$root/usr" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release -DBATON_USE_STATIC_LIBS="$static" \
    >"$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "configure consumer (find_package, $kind)"; }
  grep -qF "from $root/usr/lib" "$dir.log" || fail "find_package(baton) did not use the scratch root: $(grep 'baton ' "$dir.log")"
  grep -qF "libbaton $kind" "$dir.log" || fail "find_package(baton) with BATON_USE_STATIC_LIBS=$static is not $kind"
  cmake --build "$dir" >>"$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "build consumer (find_package, $kind)"; }
  check_consumer "$dir/baton_consumer" "$kind"
  step "find_package consumer, $kind: ok"
done
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export CXX="$cxx"
bash "$source/examples/consumer/build-with-pkg-config.sh" "$work/consumer-pc" >"$work/consumer-pc.log" 2>&1 \
  || { cat "$work/consumer-pc.log" >&2; fail "build consumer (pkg-config baton)"; }
check_consumer "$work/consumer-pc/baton_consumer_pc" shared
step "pkg-config consumer (baton.pc), shared: ok"
bash "$source/examples/consumer/build-with-pkg-config.sh" --static "$work/consumer-pc" >"$work/consumer-pc-static.log" 2>&1 \
  || { cat "$work/consumer-pc-static.log" >&2; fail "build consumer (pkg-config baton-static)"; }
check_consumer "$work/consumer-pc/baton_consumer_pc_static" static
step "pkg-config consumer (baton-static.pc), static: ok"
step "all checks passed in $((SECONDS - start)) s"
