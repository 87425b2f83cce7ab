#!/usr/bin/env bash
# Everything CI runs: packages, a warnings-as-errors build, the unit tests (cmocka under ctest),
# our API tests and the shared conformance suite against a freshly started server.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/deps.sh"
BUILD_TYPE=Debug "$repo/scripts/build.sh" "$repo/build-test"
cd "$repo/build-test"
set +e
ctest --output-on-failure -V > ctest.log 2>&1
status=$?
set -e
# the runners' own summary lines: cmocka per test program, the conformance runner, then ctest
sed -E 's/^[0-9]+: //' ctest.log > ctest.plain.log
grep -E '^\[(  PASSED  |  FAILED  )\]|^[0-9]+ passed, [0-9]+ failed|^Ran [0-9]+ tests|^(OK|FAILED)( \(|$)' ctest.plain.log || true
grep -E '^FAIL |^ERROR:|^FAIL:' ctest.plain.log | head -50 || true
grep -E '^[0-9]+% tests passed|tests failed out of|^The following tests FAILED|^\s+[0-9]+ - ' ctest.plain.log || true
[ $status -eq 0 ] || { echo "see $repo/build-test/ctest.log"; tail -60 ctest.log; }
exit $status
