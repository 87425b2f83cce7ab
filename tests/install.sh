#!/usr/bin/env bash
# cmake --install with a --prefix: the binary, the manual page and the systemd unit land under it,
# the unit's ExecStart names the installed binary, systemd-analyze verifies the unit with no
# complaint and rates its sandbox (where systemd-analyze exists), and the README's commands run as
# written with the prefix's bin/ on the PATH. usage: tests/install.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itflowd-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/itflowd share/man/man1/itflowd.1 lib/systemd/system/itflowd.service; do
  [ -f "$prefix/$f" ] || fail "$f was not installed under the prefix"
done
[ -x "$prefix/bin/itflowd" ] || fail "the installed binary is not executable"
"$prefix/bin/itflowd" --version | grep -q '^itflowd [0-9]' || fail "itflowd --version"
unit=$prefix/lib/systemd/system/itflowd.service
grep -q "^ExecStart=$prefix/bin/itflowd serve " "$unit" || fail "ExecStart does not name $prefix/bin/itflowd"
! grep -q '@ITFLOWD_BIN@' "$unit" || fail "a placeholder is left in the unit"
for key in Type=notify DynamicUser=yes StateDirectory=itflowd ProtectSystem=strict NoNewPrivileges=yes \
           PrivateTmp=yes CapabilityBoundingSet= SystemCallFilter=@system-service \
           LoadCredential=itflowd-admin-password LoadCredential=itflowd-db-password ExecReload=; do
  grep -q "^$key" "$unit" || fail "the unit has no $key"
done
if command -v man >/dev/null && command -v groff >/dev/null; then
  out=$(MANWIDTH=100 man --warnings -l "$prefix/share/man/man1/itflowd.1" 2>&1 >/dev/null) || fail "man: $out"
  [ -z "$out" ] || fail "man warns: $out"
fi
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify complains: $out"
  level=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*exposure level for itflowd.service: \([0-9.]*\).*/\1/p')
  [ -n "$level" ] || fail "systemd-analyze security gave no exposure level"
  awk -v l="$level" 'BEGIN {exit !(l <= 2.0)}' || fail "the sandbox's exposure level is $level (more than 2.0)"
  echo "systemd-analyze: verified, exposure level $level"
else
  echo "systemd-analyze not found: the unit is not verified"
fi
# the README's commands, as written
cd "$tmp"
export PATH=$prefix/bin:$PATH TZ=UTC
unset ITFLOWD_ADMIN_PASSWORD ITFLOWD_ADMIN_PASSWORD_FILE
printf 'an admin password\n' > pw
itflowd init --db itflowd.db --admin-password-file pw >/dev/null
itflowd key create --db itflowd.db --name NAME --expires "$(date -u -d '+30 days' +%F)" \
  --admin-password-file pw | grep -q '^api_key: ' || fail "itflowd key create"
itflowd key list --db itflowd.db | grep -q NAME || fail "itflowd key list"
itflowd key revoke --db itflowd.db 1 >/dev/null
itflowd backup --db itflowd.db --to copy.db >/dev/null
echo "install: ok"
