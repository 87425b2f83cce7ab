#!/usr/bin/env bash
# A private MariaDB instance for tests: its own data directory, 127.0.0.1 and a UNIX socket in DIR,
# a free port, no systemd, no configuration files read.
#
# usage: scripts/mariadb.sh start DIR   create DIR on first use (mariadb-install-db, a database
#                                       `itflowd` and a user `itflowd` with a random password),
#                                       start mariadbd (same port as before when DIR already has
#                                       one), wait until it answers, print the target
#        scripts/mariadb.sh stop DIR    shut it down (SIGTERM, then SIGKILL after 30 s)
#        scripts/mariadb.sh status DIR  exit 0 when it answers
#        scripts/mariadb.sh available   exit 0 when mariadbd and mariadb-install-db are installed
#                                       (and ITFLOWD_SKIP_MARIADB is not 1)
#
# `start` prints mariadb://itflowd@127.0.0.1:PORT/itflowd; the password is in DIR/password (give
# it to itflowd with ITFLOWD_DB_PASSWORD_FILE=DIR/password) and DIR/client.cnf is an option file
# for the command-line client: mariadb --defaults-file=DIR/client.cnf itflowd.
# Exit status 77 when MariaDB is not installed (a test runner's "skipped").
set -euo pipefail

find_bin() {
  local b
  for b in "$@"; do
    command -v "$b" 2>/dev/null && return 0
    for d in /usr/sbin /usr/local/sbin /usr/libexec /usr/local/bin /usr/bin; do
      [ -x "$d/$b" ] && { echo "$d/$b"; return 0; }
    done
  done
  return 1
}

server_bin() { find_bin mariadbd mysqld; }
install_bin() { find_bin mariadb-install-db mysql_install_db; }
client_bin() { find_bin mariadb mysql; }
admin_bin() { find_bin mariadb-admin mysqladmin; }

usage() { sed -n '2,/^set /s/^# \{0,1\}//p' "$0" >&2; exit 2; }

[ $# -ge 1 ] || usage
cmd=$1
if [ "$cmd" = available ]; then
  [ "${ITFLOWD_SKIP_MARIADB:-0}" != 1 ] || exit 1
  server_bin >/dev/null && install_bin >/dev/null && client_bin >/dev/null
  exit $?
fi
[ $# -eq 2 ] || usage
mkdir -p "$2"
dir=$(cd "$2" && pwd)

pid_of() {
  local p
  [ -f "$dir/mariadbd.pid" ] || return 1
  p=$(cat "$dir/mariadbd.pid" 2>/dev/null) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

answers() {
  timeout 5 "$(admin_bin)" --no-defaults --protocol=socket --socket="$dir/sock" -uroot \
    --connect-timeout=2 ping >/dev/null 2>&1
}

root_sql() {
  timeout 30 "$(client_bin)" --no-defaults --protocol=socket --socket="$dir/sock" -uroot \
    --connect-timeout=5 -N -B "$@"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local server install
  server=$(server_bin) && install=$(install_bin) && client_bin >/dev/null ||
    { echo "mariadb.sh: mariadbd is not installed (apt-get install mariadb-server)" >&2; exit 77; }
  local as_user=()
  [ "$(id -u)" = 0 ] && as_user=(--user=root)
  if [ ! -d "$dir/data/mysql" ]; then
    rm -rf "$dir/data"
    # a temporary directory of its own: bootstraps running at once in one TMPDIR have removed
    # each other's temporary tables (install failed: "Can't find file '#sql-temptable-…'")
    mkdir -p "$dir/tmp"
    if ! TMPDIR="$dir/tmp" timeout 120 "$install" --no-defaults --datadir="$dir/data" "${as_user[@]}" \
         --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
         > "$dir/install.log" 2>&1; then
      echo "mariadb.sh: mariadb-install-db failed:" >&2
      tail -20 "$dir/install.log" >&2
      exit 1
    fi
  fi
  if pid_of >/dev/null && answers; then
    cat "$dir/target"
    return 0
  fi
  [ -s "$dir/port" ] || free_port > "$dir/port"
  local port
  port=$(cat "$dir/port")
  rm -f "$dir/sock" "$dir/mariadbd.pid"
  # setsid: the server outlives the calling shell's job control and gets no terminal signals
  mkdir -p "$dir/tmp"
  setsid "$server" --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --socket="$dir/sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
    "${as_user[@]}" --skip-name-resolve --skip-log-bin --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_general_ci --default-time-zone=+00:00 \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=32M --innodb-flush-log-at-trx-commit=2 \
    --innodb-doublewrite=0 --max-connections=500 \
    < /dev/null > /dev/null 2>&1 &
  local i
  for i in $(seq 300); do  # 30 s
    answers && break
    sleep 0.1
  done
  if ! answers; then
    echo "mariadb.sh: mariadbd did not answer within 30 s:" >&2
    tail -20 "$dir/error.log" >&2 2>/dev/null || true
    exit 1
  fi
  if [ ! -s "$dir/password" ]; then
    local pw
    pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
    # on stdin, not in the arguments: the password stays out of the process list
    root_sql <<EOF
CREATE DATABASE IF NOT EXISTS itflowd CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE OR REPLACE USER 'itflowd'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE OR REPLACE USER 'itflowd'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON itflowd.* TO 'itflowd'@'127.0.0.1';
GRANT ALL PRIVILEGES ON itflowd.* TO 'itflowd'@'localhost';
EOF
    (umask 077 && printf '%s\n' "$pw" > "$dir/password.tmp" && mv "$dir/password.tmp" "$dir/password")
  fi
  local pw
  pw=$(cat "$dir/password")
  (umask 077 && printf '[client]\nuser=itflowd\npassword=%s\nhost=127.0.0.1\nport=%s\nprotocol=tcp\ndefault-character-set=utf8mb4\n' \
    "$pw" "$port" > "$dir/client.cnf")
  echo "mariadb://itflowd@127.0.0.1:$port/itflowd" > "$dir/target"
  cat "$dir/target"
}

stop() {
  local p i
  p=$(pid_of) || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 300); do
    kill -0 "$p" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null || true
  sleep 0.2
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) pid_of >/dev/null && answers ;;
  *) usage ;;
esac
