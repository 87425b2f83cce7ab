#!/usr/bin/env bash
# Builds the libFuzzer drivers (clang, ASan + UBSan) in build-fuzz and runs each one for
# FUZZ_SECONDS (default 20) on a copy of its corpus (tests/fuzz/corpus/<name> + regressions).
# Prints one summary line per fuzzer; exits non-zero when a fuzzer found a crash, a leak, a
# timeout or a broken invariant. The input is left in build-fuzz/fuzz-artifacts/<name>/: copy it
# to tests/fuzz/regressions/<name>/ so that ctest (fuzz_replay_<name>) replays it from then on.
# usage: [FUZZ_SECONDS=N] [FUZZ_ONLY=query,body] [FUZZ_ARGS='-jobs=2'] scripts/fuzz.sh [BUILD_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/build-fuzz}
export FUZZ_SECONDS=${FUZZ_SECONDS:-20}

"$repo/scripts/deps.sh"
missing=
for p in clang libclang-rt-14-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

CC=clang cmake -S "$repo" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_FUZZERS=ON >/dev/null
cmake --build "$dir" -j"$(nproc)" --target fuzz_query fuzz_body fuzz_router fuzz_credential fuzz_dbtarget \
  >"$dir/fuzz-build.log" 2>&1 || { tail -40 "$dir/fuzz-build.log"; exit 1; }

set +e
cmake --build "$dir" --target fuzz >"$dir/fuzz-run.log" 2>&1
status=$?
set -e
grep -E '^fuzz [a-z_]+: ' "$dir/fuzz-run.log" || true
if [ $status -ne 0 ]; then
  grep -E 'CMake Error|fuzzers with findings' -A2 "$dir/fuzz-run.log" | grep -v '^--$' || true
  echo "fuzz: FAILED — inputs in $dir/fuzz-artifacts/, logs in $dir/fuzz-logs/"
else
  echo "fuzz: ok (${FUZZ_SECONDS} s per fuzzer)"
fi
exit $status
