#!/usr/bin/env bash
# Everything CI runs: packages, a warnings-as-errors build, the unit tests (cmocka under ctest),
# our API and hostile-input tests and the shared conformance suite (on SQLite and on a private
# MariaDB) against freshly started servers — on a plain debug build and under AddressSanitizer +
# UndefinedBehaviorSanitizer (leak checks on) — the SQLite suites once more under ThreadSanitizer,
# then every libFuzzer driver for FUZZ_SECONDS (default 10) each.
# ITFLOWD_SKIP_SANITIZERS=1 / ITFLOWD_SKIP_TSAN=1 / ITFLOWD_SKIP_FUZZ=1 / ITFLOWD_SKIP_MARIADB=1
# skip those parts.
# Each MariaDB suite runs once: the ones labelled `mariadb` under ASan + UBSan, the long load tests
# (`mariadb_long`) in the debug pass; the SQLite server suites (`sqlite`) under ASan + UBSan and
# TSan; the source checks (`source`: lint, layers, compile_fail) in the debug pass only. ctest runs ITFLOWD_CTEST_JOBS tests at once (default: one per core; the
# CMakeLists.txt properties keep the timing-sensitive ones apart). The tests' temporary files
# (databases, private MariaDB instances) go to a directory in /dev/shm when it has room
# (ITFLOWD_TEST_TMPDIR=DIR picks another): the MariaDB suites spend most of their time in fsync.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/deps.sh" test
jobs=${ITFLOWD_CTEST_JOBS:-$(nproc)}

# the tests' TMPDIR: in memory when /dev/shm has at least 2 GB free; removed at the end when
# everything passed (a failed test's files are kept there)
test_tmp=
if [ -n "${ITFLOWD_TEST_TMPDIR:-}" ]; then
  export TMPDIR=$ITFLOWD_TEST_TMPDIR
elif [ -d /dev/shm ] && [ -w /dev/shm ] &&
     [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')" -ge $((2 << 20)) ] 2>/dev/null; then
  test_tmp=$(mktemp -d /dev/shm/itflowd-test.XXXXXX)
  chmod 1777 "$test_tmp" # like /tmp: the Galera test's servers run as nobody and use TMPDIR
  export TMPDIR=$test_tmp
fi

failed=() # the suites that failed, for the last line
failure_log=$(mktemp) # the failed tests' last lines, printed at the end
trap 'rm -f "$failure_log" "$failure_log.t"' EXIT

# run_suite NAME BUILD_DIR CTEST_EXCLUDE LABEL_EXCLUDE [cmake args...]: build, run ctest (without
# the tests whose names match CTEST_EXCLUDE or whose labels match LABEL_EXCLUDE, if not empty),
# print the runners' summary lines, each labelled with its test's name ("[api_cases] Ran 240
# tests") and the suite's ("[debug build] 100% tests passed")
run_suite() {
  local name=$1 dir=$2 exclude=$3 lexclude=$4; shift 4
  echo "== $name"
  local status=0 t0=$SECONDS t1
  BUILD_TYPE=Debug "$repo/scripts/build.sh" "$dir" "$@" >/dev/null || status=$?
  t1=$SECONDS
  if [ $status -ne 0 ]; then echo "[$name] the build failed"; failed+=("$name"); return $status; fi
  cd "$dir"
  set +e
  ctest --output-on-failure -V -j"$jobs" ${exclude:+-E "$exclude"} ${lexclude:+-LE "$lexclude"} \
    > ctest.log 2>&1
  status=$?
  set -e
  # ctest -V prefixes a test's output with its number; "Start N: NAME" names it
  awk '/^ *Start +[0-9]+: /{id=$2; sub(":", "", id); t[id]=$3}
       {if (match($0, /^[0-9]+: /)) {n=substr($0, 1, RLENGTH-2); print "[" t[n] "] " substr($0, RLENGTH+1)} else print}' \
    ctest.log > ctest.plain.log
  # cmocka per test program, the conformance runner, unittest, then ctest's own summary
  grep -E '^\[[^]]*\] (\[(  PASSED  |  FAILED  )\]|[0-9]+ passed, [0-9]+ failed|Ran [0-9]+ tests|(OK|FAILED)( \(|$))' ctest.plain.log || true
  grep -E '^\[[^]]*\] (FAIL |ERROR:|FAIL:)|runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer' ctest.plain.log | head -50 || true
  grep -E '^[0-9]+% tests passed|tests failed out of|^The following tests FAILED|^\s+[0-9]+ - ' ctest.plain.log | sed "s/^/[$name] /" || true
  echo "[$name] build $((t1 - t0)) s, tests $((SECONDS - t1)) s"
  if [ $status -ne 0 ]; then
    echo "see $dir/ctest.log"
    failed+=("$name")
    # each failed test's own last lines, printed again at the very end (where a CI summary that
    # keeps only the end of the output still shows why)
    local t
    for t in $(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) .*/\1/p' ctest.plain.log); do
      {
        echo "---- [$name] $t: its last lines"
        # from its first failure or sanitizer report on (else its end)
        grep -F "[$t] " ctest.plain.log > "$failure_log.t" || true
        if grep -qE '^\[[^]]*\] (FAIL:|ERROR:|FAIL )|runtime error|Sanitizer' "$failure_log.t"; then
          awk '/^\[[^]]*\] (FAIL:|ERROR:|FAIL )|runtime error|Sanitizer/ {on=1} on' "$failure_log.t" | head -80
        else
          tail -40 "$failure_log.t"
        fi
      } >> "$failure_log"
    done
  fi
  cd "$repo"
  return $status
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
# the release flags (what scripts/demo.sh and an install build): the hardening check and the unit tests
echo "== release build (hardening)"
t0=$SECONDS
if "$repo/scripts/build.sh" "$repo/build-release" >/dev/null &&
   (cd "$repo/build-release" && ctest --output-on-failure -R '^(hardening|test_.*)$' > ctest.log 2>&1); then
  grep -E '^[0-9]+% tests passed|tests failed out of' "$repo/build-release/ctest.log" | sed 's/^/[release build] /' || true
  echo "[release build] build and tests $((SECONDS - t0)) s"
else
  echo "release build or its tests failed"; tail -40 "$repo/build-release/ctest.log" 2>/dev/null || true
  status=1; failed+=("release build")
fi
# the suites labelled `mariadb` and `sqlite` run under ASan + UBSan below (here too when that is
# skipped): the plain debug pass runs the unit tests, the source checks and the long MariaDB tests
debug_lexclude='^(mariadb|sqlite)$'
[ "${ITFLOWD_SKIP_SANITIZERS:-0}" != 1 ] || debug_lexclude=
run_suite "debug build" "$repo/build-test" "" "$debug_lexclude" || status=1
if [ "${ITFLOWD_SKIP_SANITIZERS:-0}" != 1 ]; then
  # the long MariaDB load tests ran once (above); every other MariaDB suite runs here
  run_suite "ASan + UBSan build" "$repo/build-sanitize" "" '^(mariadb_long|source)$' \
    -DSANITIZE=address,undefined || status=1
fi
if [ "${ITFLOWD_SKIP_TSAN:-0}" != 1 ]; then
  # data races in the threads' shared state (pools, group commit, write workers, maintenance,
  # throttle, metrics): the SQLite suites (the MariaDB ones ran above) but the input checks
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run_suite "TSan build" "$repo/build-tsan" "mariadb|fuzz_replay" '^(source|input)$' -DSANITIZE=thread ||
    status=1
fi
if [ "${ITFLOWD_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzzing (${FUZZ_SECONDS:-10} s per fuzzer)"
  t0=$SECONDS
  FUZZ_SECONDS=${FUZZ_SECONDS:-10} "$repo/scripts/fuzz.sh" || { status=1; failed+=("fuzzing"); }
  echo "[fuzzing] build and runs $((SECONDS - t0)) s"
fi
if [ -n "$test_tmp" ]; then
  if [ $status -eq 0 ]; then rm -rf "$test_tmp"; else echo "the tests' files: $test_tmp"; fi
fi
if [ -s "$failure_log" ]; then
  echo "== the failed tests' last lines"
  cat "$failure_log"
fi
if [ $status -eq 0 ]; then
  echo "test.sh: all suites passed"
else
  echo "test.sh: FAILED: $(IFS=,; echo "${failed[*]:-unknown}" | sed 's/,/, /g')"
fi
exit $status
