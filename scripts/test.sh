#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start, command 2 (and CI, through .ci/run): install what is needed,
# build and run the whole test suite. Stages:
#   gcc    g++ 12, RelWithDebInfo, -Werror, shared libbaton, into build/
#                                                               ctest (all, with the .debs)
#   asan   clang 14, ASan+UBSan, -Werror, into build-asan/     ctest (all)
#   tsan   clang 14, TSan, -Werror, into build-tsan/           ctest -L threaded
#   fuzz   clang 14, libFuzzer (+ASan/UBSan), into build-fuzz/ the fuzz targets only, ctest -L fuzz
#   negative  g++ 12, the core broken on purpose once per switch, side by
#          side in build-negative/: the checker must catch each one
# The clang builds leave out the benchmarks (no tests); fuzz also the examples.
# Every stage runs even when an earlier one failed; the exit status is
# non-zero when any stage failed. Tests labelled `soak` run only with --soak.
#
# Usage: scripts/test.sh [--soak] [--stages gcc,asan,tsan,fuzz,negative]
#   --soak            also run the long soak tests (label `soak`); the same
#                     as BATON_SOAK=1 in the environment, which tests can read
#   --stages LIST     run only these stages (for local iteration)
# Environment: BATON_JOBS (default 2), BATON_SOAK, CI.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stages="gcc,asan,tsan,fuzz,negative"
export BATON_SOAK="${BATON_SOAK:-0}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --soak) BATON_SOAK=1 ;;
    --stages) [[ $# -ge 2 ]] || baton_die "--stages needs a list"; stages="$2"; shift ;;
    --stages=*) stages="${1#--stages=}" ;;
    -h|--help) awk 'NR > 1 && /SPDX-License-Identifier/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) baton_die "test.sh: unknown argument '$1' (try --help)" ;;
  esac
  shift
done
for s in ${stages//,/ }; do
  case "$s" in gcc|asan|tsan|fuzz|negative) ;; *) baton_die "unknown stage '$s' (gcc, asan, tsan, fuzz, negative)" ;; esac
done

bash "$BATON_ROOT/scripts/install-deps.sh" --browser

# Sanitizer reports must fail the test that triggered them, with a stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$BATON_ROOT/tests/tsan.supp}"

# Soak tests (label `soak`) are excluded unless asked for.
soak_filter=(-LE soak)
[[ "$BATON_SOAK" == 1 ]] && soak_filter=()

ctest_args=(--output-on-failure -j "$BATON_JOBS" --timeout 900)
# Benchmarks have no ctest tests: the clang builds skip them. The examples are
# ctest tests (labelled threaded), so the ASan and TSan builds keep them.
# The sanitizer builds at -O1 with line tables only, the usual choice for
# them: reports still name file and line, and the build's compile time is
# about 15 % less than at -O2 -g (acquirer_test.cpp under ASan: 13.7 s
# against 16.6 s, one compile each on the same machine).
clang_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
            -DCMAKE_CXX_COMPILER=clang++-14 -DBATON_BENCH=OFF)

# Runs ctest in build dir $1 with extra arguments; tees to $1/ctest.log.
# With a label filter, a stage whose filter matches no test is skipped with a
# message (exit 0, summary "skipped") instead of passing silently.
run_ctest() {
  local dir="$1"; shift
  local count
  count="$(ctest --test-dir "$dir" -N "$@" | sed -n 's/^Total Tests: //p')"
  if [[ "${count:-0}" -eq 0 ]]; then
    echo "no tests match (ctest $*) in $(basename "$dir") yet: nothing to run" | tee "$dir/ctest.log"
    echo skipped >"$dir/ctest.status"
    return 0
  fi
  echo ran >"$dir/ctest.status"
  ctest --test-dir "$dir" "${ctest_args[@]}" "$@" 2>&1 | tee "$dir/ctest.log"
}

stage_gcc() {
  # The simulator's long soak test exists only when configured in.
  local sim_soak=OFF
  [[ "$BATON_SOAK" == 1 ]] && sim_soak=ON
  # Shared (scripts/common.sh): the examples run against libbaton.so, and
  # package.debs packs this very build (libbaton.so and libbaton.a are made
  # of the same objects) instead of compiling the library a second time.
  # The asan and tsan stages build the default, static library.
  baton_configure_main -DBATON_SIM_SOAK="$sim_soak"
  # package.debs exists only in a shared build: it must not vanish silently.
  [[ "$(ctest --test-dir "$BATON_ROOT/build" -N -R '^package\.debs$' | sed -n 's/^Total Tests: //p')" == 1 ]] \
    || baton_die "gcc stage: no package.debs test in build/ (is it a shared build? scripts/common.sh)"
  cmake --build "$BATON_ROOT/build" -j "$BATON_JOBS"
  run_ctest "$BATON_ROOT/build" "${soak_filter[@]}"
}
stage_asan() {
  cmake -S "$BATON_ROOT" -B "$BATON_ROOT/build-asan" "${clang_args[@]}" \
    -DBATON_SANITIZE=address,undefined -DBATON_WERROR=ON
  cmake --build "$BATON_ROOT/build-asan" -j "$BATON_JOBS"
  # The membership model (label `model`) is Python only: the gcc stage runs it.
  # The multi-process fault scenarios run one at a time (RUN_SERIAL), about
  # 20 s each: here only cli (batonctl's every command) runs
  # under the sanitizers, the others in the gcc stage; ASan covers the
  # runtime's fault paths in-process through runtime_cluster_tests. That
  # keeps the CI under 30 minutes (docs/testing.md, "CI and soak").
  local serial='multiproc\.(netns|kill_restart|majority|wiped_state|locked_state|stop_cont|pause_heal|config_mismatch|checker_selftest|reconfig_replace)$'
  # The install and package tests (label install) check what is installed,
  # not memory: the gcc stage runs them.
  local filter=(-LE 'soak|model|install' -E "$serial")
  [[ "$BATON_SOAK" == 1 ]] && filter=(-LE 'model|install' -E "$serial")
  run_ctest "$BATON_ROOT/build-asan" "${filter[@]}"
}
stage_tsan() {
  local dir="$BATON_ROOT/build-tsan"
  cmake -S "$BATON_ROOT" -B "$dir" "${clang_args[@]}" \
    -DBATON_SANITIZE=thread -DBATON_WERROR=ON
  # Only what the threaded tests run (the core, codec and simulator tests
  # have no threads; the asan stage builds them with the same compiler; this
  # saves about 40 % of the stage): every gtest binary whose tests are
  # labelled threaded (read from tests/*/CMakeLists.txt: its tests exist only
  # once it is built), and the examples (plain tests: one whose executable
  # were missing would fail as Not Run), those this build defines.
  local want=(auto_renew embedder_loop fenced_writer hello_lease)
  mapfile -t -O ${#want[@]} want < <(sed -n 's/^gtest_discover_tests(\([A-Za-z0-9_]*\) .*LABELS threaded.*/\1/p' \
    "$BATON_ROOT"/tests/*/CMakeLists.txt)
  [[ ${#want[@]} -gt 4 ]] || baton_die "tsan stage: no gtest binary labelled threaded in tests/*/CMakeLists.txt"
  local have targets=()
  have="$(cmake --build "$dir" --target help)"
  for t in "${want[@]}"; do
    grep -qE "^\.\.\. $t( |\$)" <<<"$have" && targets+=("$t")
  done
  [[ ${#targets[@]} -gt 0 ]] || baton_die "tsan stage: none of ${want[*]} is a target of $dir"
  cmake --build "$dir" -j "$BATON_JOBS" --target "${targets[@]}"
  run_ctest "$dir" -L threaded "${soak_filter[@]}"
}
stage_fuzz() {
  cmake -S "$BATON_ROOT" -B "$BATON_ROOT/build-fuzz" "${clang_args[@]}" \
    -DBATON_FUZZ=ON -DBATON_SANITIZE=address,undefined -DBATON_WERROR=ON -DBATON_EXAMPLES=OFF
  # Only the fuzz targets: the stage runs only their smoke tests (the asan
  # stage builds everything else with the same compiler and sanitizers).
  cmake --build "$BATON_ROOT/build-fuzz" -j "$BATON_JOBS" --target fuzz_codec fuzz_node_datagram
  run_ctest "$BATON_ROOT/build-fuzz" -L fuzz "${soak_filter[@]}"
}
# The negative controls (docs/testing.md): the core broken on purpose, once
# per switch of BATON_BREAK_SWITCHES (CMakeLists.txt); the checker must catch
# every one. All in one build tree (cmake/BatonBreak.cmake): the core, the
# simulator and the scenario runner are compiled once, and each switch
# recompiles only the core files that test its macro. The target
# baton-negative builds what the tests run: baton-sim-<switch> for each
# switch with a simulator test, scenario_tests-<switch> for each one a
# scenario script catches (reuse_given_back and no_handoff_confirm, which the
# simulator catches too, and keep_parked_on_release and regrant_released,
# which only scripts catch). regrant_released's effect, a
# released lease held again at one voter, costs liveness, not a guarantee
# the simulator's checker sees in its healed phase; keep_parked_on_release's
# seed no longer reaches its hole (tests/sim/CMakeLists.txt).
stage_negative() {
  local dir="$BATON_ROOT/build-negative"
  # -O1 without debug information: this build only runs short simulator
  # checks, and compiles about a third faster than RelWithDebInfo (53 s
  # against 80 s for one switch's build, measured side by side on a loaded
  # machine).
  cmake -S "$BATON_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g0 -DNDEBUG" \
    -DBATON_NEGATIVE_SWITCHES=all -DBATON_EXAMPLES=OFF -DBATON_BENCH=OFF >/dev/null
  cmake --build "$dir" -j "$BATON_JOBS" --target baton-negative
  run_ctest "$dir" -L negative
}
stage_dir() {
  case "$1" in gcc) echo build ;; *) echo "build-$1" ;; esac
}

summary=()
failed=0
total_start=$SECONDS
for s in ${stages//,/ }; do
  dir="$BATON_ROOT/$(stage_dir "$s")"
  printf '\n==================== stage %s (%s/) ====================\n' "$s" "$(stage_dir "$s")"
  start=$SECONDS
  mkdir -p "$dir"
  rm -f "$dir/ctest.log" "$dir/ctest.status"
  # A subshell so that `set -e` stops the stage, not the script. Not inside an
  # `if`: bash ignores `set -e` in a condition, even in a subshell.
  set +e
  ( set -euo pipefail; "stage_$s" )
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then result=PASS; else result=FAIL; failed=1; fi
  elapsed=$((SECONDS - start))
  detail="$(grep -E 'tests passed|No tests were found|no tests match' "$dir/ctest.log" 2>/dev/null | tail -n1 || true)"
  if [[ "$result" == PASS && "$(cat "$dir/ctest.status" 2>/dev/null || true)" == skipped ]]; then
    result=SKIP
  fi
  [[ -n "$detail" ]] || detail="(no ctest summary: configure or build failed, see above)"
  printf '==== stage %s: %s in %ds: %s\n' "$s" "$result" "$elapsed" "$detail"
  summary+=("$(printf '%-5s %-4s %5ds  %s' "$s" "$result" "$elapsed" "$detail")")
done

printf '\n==================== summary (%ds) ====================\n' $((SECONDS - total_start))
printf '%s\n' "${summary[@]}"
if [[ $failed -ne 0 ]]; then
  echo "FAILED: at least one stage failed"
  exit 1
fi
echo "OK: every stage passed or had nothing to run"
