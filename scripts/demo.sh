#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running itflowd on ./itflowd.db (SQLite):
# installs the packages it needs, builds, creates the database on first use, makes a demo API key
# (once: later runs reuse it while it is valid), prints a working curl line and serves on
# 127.0.0.1:8080 (Ctrl-C stops it). Its files — the database, DB.admin-password and DB.demo-key —
# are readable by their owner only and ignored by git.
set -euo pipefail
# (ITFLOWD_DEMO_BIN=PATH uses that binary as it is and ITFLOWD_DEMO_NO_SERVE=1 stops before serving:
# the api_cli test runs it so, twice.)
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${ITFLOWD_DEMO_BIN:-}" ]; then
  bin=$ITFLOWD_DEMO_BIN
else
  "$repo/scripts/deps.sh" demo
  "$repo/scripts/build.sh" "$repo/build" >/dev/null
  bin=$repo/build/itflowd
fi
db=${ITFLOWD_DB:-./itflowd.db}
listen=${ITFLOWD_LISTEN:-127.0.0.1:8080}
pwfile=${db}.admin-password
keyfile=${db}.demo-key
umask 077
if [ ! -f "$db" ]; then
  head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$pwfile"
  "$bin" init --db "$db" --admin-password-file "$pwfile"
  echo "The admin password is in $pwfile (keep it: 'itflowd key create' needs it)."
  rm -f "$keyfile"
fi
[ -f "$pwfile" ] || { echo "no $pwfile: create keys with 'itflowd key create --admin-password-file F'" >&2; exit 1; }
# the demo key of an earlier run, while it is still listed as active
key= id=
if [ -f "$keyfile" ]; then
  id=$(sed -n 's/^id: //p' "$keyfile")
  key=$(sed -n 's/^api_key: //p' "$keyfile")
  if [ -z "$id" ] || ! "$bin" key list --db "$db" | awk -v id="$id" '$1 == id && /active/ {f=1} END {exit !f}'; then
    key=
  fi
fi
if [ -z "$key" ]; then
  [ -n "$id" ] && "$bin" key revoke --db "$db" "$id" >/dev/null 2>&1 || true
  expires=$(date -u -d '+30 days' +%F)
  out=$("$bin" key create --db "$db" --name "demo" --expires "$expires" \
        --admin-password-file "$pwfile")
  echo "$out"
  id=$(printf '%s\n' "$out" | sed -n 's/^Created API key \([0-9]*\) .*/\1/p')
  key=$(printf '%s\n' "$out" | sed -n 's/^api_key: //p')
  printf 'id: %s\n%s\n' "$id" "$(printf '%s\n' "$out" | grep '^api_key')" > "$keyfile"
else
  echo "Reusing demo API key $id (from $keyfile)."
fi
echo
echo "Try it (another terminal):"
echo "  curl -s -H 'X-API-Key: $key' -d '{\"client_name\":\"Demo Client\"}' http://$listen/api/v1/clients/create.php"
echo "  curl -s -H 'X-API-Key: $key' http://$listen/api/v1/clients/read.php"
echo
if [ -n "${ITFLOWD_DEMO_NO_SERVE:-}" ]; then exit 0; fi
exec env TZ=UTC "$bin" serve --db "$db" --listen "$listen"
