#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running itflowd on ./itflowd.db (SQLite):
# installs the packages, builds, creates the database on first use, makes a demo API key,
# prints a working curl line and serves on 127.0.0.1:8080 (Ctrl-C stops it).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/deps.sh"
"$repo/scripts/build.sh" "$repo/build" >/dev/null
bin=$repo/build/itflowd
db=${ITFLOWD_DB:-./itflowd.db}
listen=${ITFLOWD_LISTEN:-127.0.0.1:8080}
pwfile=${db}.admin-password
if [ ! -f "$db" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$pwfile")
  "$bin" init --db "$db" --admin-password-file "$pwfile"
  echo "The admin password is in $pwfile (keep it: 'itflowd key create' needs it)."
fi
[ -f "$pwfile" ] || { echo "no $pwfile: create keys with 'itflowd key create --admin-password-file F'" >&2; exit 1; }
expires=$(date -u -d '+30 days' +%F)
out=$("$bin" key create --db "$db" --name "demo $(date -u +%FT%TZ)" --expires "$expires" \
      --admin-password-file "$pwfile")
echo "$out"
key=$(printf '%s\n' "$out" | sed -n 's/^api_key: //p')
echo
echo "Try it (another terminal):"
echo "  curl -s -H 'X-API-Key: $key' -d '{\"client_name\":\"Demo Client\"}' http://$listen/api/v1/clients/create.php"
echo "  curl -s -H 'X-API-Key: $key' http://$listen/api/v1/clients/read.php"
echo
exec env TZ=UTC "$bin" serve --db "$db" --listen "$listen"
