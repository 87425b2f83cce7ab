#!/usr/bin/env bash
# Runs the shared ITFlow v1 conformance suite against a freshly started itflowd on SQLite.
# usage: tests/api/run_conformance.sh PATH/TO/itflowd [extra conform.py args...]
# The server runs on 127.0.0.1 on a free port; the data is reset to seed.sql before each scenario
# while the server keeps running. ITFLOWD_ITFLOW=26.08 runs the ITFlow v26.08 suite
# (seed-2608.sql, cases-2608). Set ITFLOWD_SHARED to the shared/ folder (default: ../shared).
set -euo pipefail
bin=$(readlink -f "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${ITFLOWD_SHARED:-$repo/../shared}
conf=$shared/conformance
[ -f "$conf/conform.py" ] || { echo "conformance suite not found in $conf" >&2; exit 1; }
# shellcheck source=tests/api/conformance_lib.sh
. "$here/conformance_lib.sh"
conformance_suite
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export TZ=UTC
db=$work/itflow.db
"$bin" init --db "$db" --itflow-version "$itflow" --schema-only >/dev/null
# the reset: empty every table the suite uses, restart the id sequences, load the seed
{
  echo ".timeout 10000"
  echo "BEGIN IMMEDIATE;"
  for t in $tables; do echo "DELETE FROM $t;"; done
  echo "DELETE FROM sqlite_sequence;"
  cat "$seed"
  echo "COMMIT;"
} > "$work/reset.sql"
sqlite3 "$db" < "$work/reset.sql"
# the SQL checks: sqlite3's output, with decimal columns printed with their scale as MariaDB does
serve_and_conform "$bin" "$db" "$work" "sqlite3 '$db' < '$work/reset.sql'" \
  "python3 '$here/sqlite_sql.py' '$db'" $seed_args "$@"
