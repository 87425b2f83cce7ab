#!/usr/bin/env bash
# Runs the shared ITFlow v1 conformance suite against itflowd on a private MariaDB instance
# (scripts/mariadb.sh: own data directory, 127.0.0.1, a free port). Exits 77 ("skipped") when
# MariaDB is not installed.
# usage: tests/api/run_conformance_mariadb.sh PATH/TO/itflowd [extra conform.py args...]
# The schema comes from `itflowd init --schema-only`; before each scenario every table the suite
# uses is emptied, its AUTO_INCREMENT restarted and seed.sql loaded, while the server keeps
# running. ITFLOWD_ITFLOW=26.08 runs the ITFlow v26.08 suite (seed-2608.sql, cases-2608). Set
# ITFLOWD_SHARED to the shared/ folder (default: ../shared); set ITFLOWD_MARIADB_DIR to reuse an instance directory (it is then left running).
set -euo pipefail
bin=$(readlink -f "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${ITFLOWD_SHARED:-$repo/../shared}
conf=$shared/conformance
[ -f "$conf/conform.py" ] || { echo "conformance suite not found in $conf" >&2; exit 1; }
if ! "$repo/scripts/mariadb.sh" available; then
  echo "SKIP: MariaDB (mariadbd, mariadb-install-db, mariadb) is not installed"
  exit 77
fi
# shellcheck source=tests/api/conformance_lib.sh
. "$here/conformance_lib.sh"
conformance_suite
work=$(mktemp -d)
mdir=${ITFLOWD_MARIADB_DIR:-$work/mariadb}
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  [ -z "${ITFLOWD_MARIADB_DIR:-}" ] && "$repo/scripts/mariadb.sh" stop "$mdir" || true
  rm -rf "$work"
}
trap cleanup EXIT
export TZ=UTC
target=$("$repo/scripts/mariadb.sh" start "$mdir")
export ITFLOWD_DB_PASSWORD_FILE=$mdir/password
client=$(command -v mariadb || command -v mysql)
# the suite's SQL sessions: portable SQL (no backslash escapes), UTC
sess="SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES'), time_zone = '+00:00'"
cat > "$work/sql.sh" <<EOF
#!/bin/sh
exec "$client" --defaults-file="$mdir/client.cnf" -N -B -r --default-character-set=utf8mb4 \\
  --init-command="$sess" itflowd
EOF
chmod +x "$work/sql.sh"
# a reused instance may hold the tables from an earlier run
echo "SET FOREIGN_KEY_CHECKS = 0; DROP TABLE IF EXISTS $(echo $tables | tr ' ' ','), folders, ticket_watchers, slas, sla_assignments;" |
  "$work/sql.sh"
"$bin" init --db "$target" --itflow-version "$itflow" --schema-only >/dev/null
# the reset: empty every table the suite uses, restart the id sequences, load the seed
{
  echo "SET FOREIGN_KEY_CHECKS = 0;"
  echo "START TRANSACTION;"
  for t in $tables; do echo "DELETE FROM $t;"; done
  echo "COMMIT;"
  # InnoDB moves an AUTO_INCREMENT set below the highest id up to just after it
  for t in $tables; do echo "ALTER TABLE $t AUTO_INCREMENT = 1;"; done
  echo "START TRANSACTION;"
  cat "$seed"
  echo "COMMIT;"
  echo "SET FOREIGN_KEY_CHECKS = 1;"
} > "$work/reset.sql"
"$work/sql.sh" < "$work/reset.sql"
serve_and_conform "$bin" "$target" "$work" "'$work/sql.sh' < '$work/reset.sql'" \
  "'$work/sql.sh'" $seed_args "$@"
