#!/usr/bin/env bash
# Runs the shared ITFlow v1 conformance suite against a freshly started itflowd on SQLite.
# usage: tests/api/run_conformance.sh PATH/TO/itflowd [extra conform.py args...]
# The server runs on 127.0.0.1 on a free port; the data is reset to seed.sql before each scenario
# while the server keeps running. Set ITFLOWD_SHARED to the shared/ folder (default: ../shared).
set -euo pipefail
bin=$(readlink -f "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${ITFLOWD_SHARED:-$repo/../shared}
conf=$shared/conformance
[ -f "$conf/conform.py" ] || { echo "conformance suite not found in $conf" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export TZ=UTC
db=$work/itflow.db
"$bin" init --db "$db" --schema-only >/dev/null
# the reset: empty every table the suite uses, restart the id sequences, load the seed
tables="companies settings users ticket_statuses api_keys clients contacts locations vendors assets
asset_interfaces asset_history certificates credentials documents document_versions domains
networks software expenses products invoices invoice_items payments quotes recurring_invoices
history tickets ticket_replies logs"
{
  echo ".timeout 10000"
  echo "BEGIN IMMEDIATE;"
  for t in $tables; do echo "DELETE FROM $t;"; done
  echo "DELETE FROM sqlite_sequence;"
  cat "$conf/seed.sql"
  echo "COMMIT;"
} > "$work/reset.sql"
sqlite3 "$db" < "$work/reset.sql"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --db "$db" --listen "127.0.0.1:$port" ${ITFLOWD_SERVE_ARGS:---quiet} 2> "$work/server.log" &
pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done
set +e
python3 "$conf/conform.py" --base "http://127.0.0.1:$port" --cases "$conf/cases" \
  --reset "sqlite3 '$db' < '$work/reset.sql'" \
  --sql "sqlite3 -batch -cmd '.timeout 10000' -separator \"\$(printf '\\t')\" '$db'" "$@"
status=$?
set -e
if ! kill -0 "$pid" 2>/dev/null; then
  echo "itflowd died during the run:" >&2
  cat "$work/server.log" >&2
  status=1
else
  # a clean stop must exit 0 (under sanitizers this is also where leaks are reported)
  kill -TERM "$pid"
  set +e
  wait "$pid"
  rc=$?
  set -e
  pid=
  if [ $rc -ne 0 ]; then
    echo "itflowd exited with status $rc after SIGTERM:" >&2
    tail -50 "$work/server.log" >&2
    status=1
  fi
fi
exit $status
