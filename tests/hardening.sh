#!/usr/bin/env bash
# The release hardening of CMakeLists.txt is in the binary: a position-independent executable,
# RELRO with immediate binding (-z relro -z now), the stack protector, and (in optimised builds)
# _FORTIFY_SOURCE's checked calls. usage: tests/hardening.sh PATH/TO/itflowd [BUILD_TYPE]
set -euo pipefail
bin=$1 config=${2:-}
command -v readelf >/dev/null || { echo "SKIP: readelf is not installed"; exit 77; }
fail=0
check() { # check WHAT COMMAND...: prints ok/FAIL
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
check "position-independent executable (ELF type DYN)" \
  bash -c "readelf -h '$bin' | grep -Eq 'Type:[[:space:]]+DYN'"
check "GNU_RELRO segment" bash -c "readelf -lW '$bin' | grep -q GNU_RELRO"
check "immediate binding (BIND_NOW)" \
  bash -c "readelf -dW '$bin' | grep -Eq '\\(BIND_NOW\\)|\\(FLAGS\\).*BIND_NOW|\\(FLAGS_1\\).*NOW'"
check "stack protector (__stack_chk_fail)" \
  bash -c "readelf -sW --dyn-syms '$bin' | grep -q '__stack_chk_fail'"
case "$config" in
  Release | RelWithDebInfo | MinSizeRel)
    check "_FORTIFY_SOURCE checked calls (__*_chk)" \
      bash -c "readelf -sW --dyn-syms '$bin' | grep -Eq ' __[a-z]+_chk(@|$)'" ;;
  *) echo "skip: _FORTIFY_SOURCE (not an optimised build: ${config:-unknown})" ;;
esac
exit $fail
