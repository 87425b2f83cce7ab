#!/usr/bin/env bash
# itflowd on MariaDB survives the database going away: with the server killed (SIGKILL) a request
# answers a JSON 503 within seconds; once MariaDB is back on the same data directory and port,
# requests succeed again — reads and writes, without restarting itflowd.
# usage: tests/api/test_mariadb_reconnect.sh PATH/TO/itflowd   (exit 77 without MariaDB)
set -euo pipefail
bin=$(readlink -f "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
mariadb_sh=$repo/scripts/mariadb.sh
if ! "$mariadb_sh" available; then
  echo "SKIP: MariaDB (mariadbd, mariadb-install-db, mariadb) is not installed"
  exit 77
fi
work=$(mktemp -d)
mdir=$work/mariadb
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  "$mariadb_sh" stop "$mdir" || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/server.log" ] && tail -20 "$work/server.log" >&2
  exit 1
}
export TZ=UTC
target=$("$mariadb_sh" start "$mdir")
export ITFLOWD_DB_PASSWORD_FILE=$mdir/password
echo "admin-password-for-the-test" > "$work/admin"
"$bin" init --db "$target" --admin-password-file "$work/admin" >/dev/null
key=$("$bin" key create --db "$target" --name reconnect --expires 2099-01-01 \
  --admin-password-file "$work/admin" | sed -n 's/^api_key: //p')
[ -n "$key" ] || fail "no key created"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --db "$target" --listen "127.0.0.1:$port" --threads 2 2> "$work/server.log" &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done

# request METHOD PATH [BODY]: prints "STATUS CONTENT-TYPE", the body goes to $work/body
request() {
  local args=(-s -o "$work/body" -w '%{http_code} %{content_type}' --max-time 5 -H "X-API-Key: $key")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data "$3")
  curl "${args[@]}" -X "$1" "$base$2" || echo "000 -"
}

create='{"client_name": "Reconnect Ltd", "client_currency_code": "EUR"}'
r=$(request POST /api/v1/clients/create.php "$create")
[ "${r%% *}" = 200 ] || fail "create before the kill answered $r: $(cat "$work/body")"
r=$(request GET /api/v1/clients/read.php)
[ "${r%% *}" = 200 ] && grep -q 'Reconnect Ltd' "$work/body" ||
  fail "read before the kill answered $r: $(cat "$work/body")"
echo "ok: requests succeed"

mpid=$(cat "$mdir/mariadbd.pid")
# A frozen store (SIGSTOP): one /healthz waits on it; the checks that come meanwhile are never
# queued behind it: they answer at once, 503 once the running check has taken over a second
kill -STOP "$mpid"
curl -s -o /dev/null --max-time 8 "$base/healthz" &
hung=$!
sleep 1.5
for i in 1 2 3 4; do
  t0=$(date +%s%N)
  r=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/healthz" || echo 000)
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$r" = 503 ] && [ $ms -lt 1000 ] ||
    { kill -CONT "$mpid"; fail "/healthz during a running check on a frozen store: $r in ${ms} ms"; }
done
kill -CONT "$mpid"
wait "$hung" || true
echo "ok: /healthz with the store frozen answers 503 at once beside the check that waits"
kill -KILL "$mpid"
for _ in $(seq 100); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$mpid" 2>/dev/null && fail "mariadbd did not die"

# with MariaDB down: a read answers a JSON 503 at once (its START TRANSACTION fails: server.c)
t0=$(date +%s%N)
r=$(request GET /api/v1/clients/read.php)
ms=$((($(date +%s%N) - t0) / 1000000))
case $r in
  "503 application/json"*) ;;
  *) fail "a read with MariaDB down answered $r (want 503 application/json): $(cat "$work/body")" ;;
esac
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/body" ||
  fail "the 503 body is not JSON: $(cat "$work/body")"
echo "ok: a read with MariaDB down: $r in ${ms} ms: $(cat "$work/body")"
# A write fails as cleanly: 503 JSON, nothing half-done
r=$(request POST /api/v1/clients/create.php "$create")
case $r in
  "503 application/json"*) echo "ok: a write with MariaDB down: $r" ;;
  *) fail "a write with MariaDB down answered $r (want 503 application/json): $(cat "$work/body")" ;;
esac
r=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/healthz")
[ "$r" = 503 ] || fail "/healthz with MariaDB down answered $r"

"$mariadb_sh" start "$mdir" >/dev/null
ok=
for _ in $(seq 150); do  # 30 s
  r=$(request GET /api/v1/clients/read.php)
  if [ "${r%% *}" = 200 ]; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || fail "no successful read within 30 s after MariaDB came back (last: $r)"
grep -q 'Reconnect Ltd' "$work/body" || fail "the read after the restart lost the data"
r=$(request POST /api/v1/clients/create.php "$create")
[ "${r%% *}" = 200 ] || fail "create after the restart answered $r: $(cat "$work/body")"
for _ in 1 2 3 4 5 6; do  # every pooled connection works again
  r=$(request GET /api/v1/clients/read.php)
  [ "${r%% *}" = 200 ] || fail "a read after the restart answered $r: $(cat "$work/body")"
done
kill -0 "$pid" 2>/dev/null || fail "itflowd died"
echo "ok: requests succeed again after MariaDB restarted (itflowd pid $pid kept running)"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
[ $rc -eq 0 ] || fail "itflowd exited with status $rc after SIGTERM"
echo "PASS"
