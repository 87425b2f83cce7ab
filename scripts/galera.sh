#!/usr/bin/env bash
# A private 3-node MariaDB Galera cluster on loopback ports, and the cluster test of itflowd.
# Its own data directories under DIR, 127.0.0.1 only, no systemd, no configuration files read,
# nothing outside DIR written.
#
# usage: scripts/galera.sh start DIR        create and start the cluster (node 1 bootstraps it,
#                                           nodes 2 and 3 join by SST), create the database
#                                           `itflowd` and the user `itflowd` (random password in
#                                           DIR/password), print the target with all three nodes
#        scripts/galera.sh stop DIR         shut every node down (SIGTERM, SIGKILL after 30 s)
#        scripts/galera.sh kill DIR N       SIGKILL node N (1..3)
#        scripts/galera.sh restart DIR N    start node N again, wait until it is Synced
#        scripts/galera.sh sql DIR N SQL    run SQL on node N as root (tab-separated rows)
#        scripts/galera.sh test [ITFLOWD]   the cluster test (tests/api/test_galera.py) in a
#                                           temporary DIR, with ITFLOWD (default build-dbg/itflowd)
#        scripts/galera.sh available        exit 0 when mariadbd and galera-4 are installed
#                                           (and ITFLOWD_SKIP_MARIADB is not 1)
#
# Node N listens on DIR/nN/port (SQL), and takes three more ports for Galera replication,
# incremental state transfer (IST) and snapshot state transfer (SST, rsync). The test ends with a
# line `galera: N passed, N failed`. Exit status 77 when MariaDB or Galera is not installed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

find_bin() {
  local b d
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
provider() {
  local p
  for p in /usr/lib/galera/libgalera_smm.so /usr/lib/galera4/libgalera_smm.so \
           /usr/lib64/galera-4/libgalera_smm.so /usr/lib/libgalera_smm.so; do
    [ -f "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}
have_all() {
  [ "${ITFLOWD_SKIP_MARIADB:-0}" != 1 ] && server_bin >/dev/null && install_bin >/dev/null &&
    client_bin >/dev/null && provider >/dev/null && command -v rsync >/dev/null
}

usage() { sed -n '2,/^set /s/^# \{0,1\}//p' "$0" >&2; exit 2; }

free_ports() { # N distinct free loopback ports
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

node_sql() { # node_sql N [client args...]: root on node N's socket
  local n=$1; shift
  timeout 60 "$(client_bin)" --no-defaults --protocol=socket --socket="$dir/n$n/sock" -uroot \
    --connect-timeout=5 -N -B "$@"
}

node_pid() { # the pid of node N's mariadbd while it runs (it writes its pid file only after SST)
  local p
  [ -f "$dir/n$1/launch.pid" ] || return 1
  p=$(cat "$dir/n$1/launch.pid" 2>/dev/null) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

node_state() { # wsrep_local_state of node N (4 = Synced), or nothing
  node_sql "$1" --connect-timeout=2 -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'" \
    2>/dev/null | cut -f2 || true
}

# Run as root, the servers run as `nobody`: the rsync daemon that receives a snapshot (SST) drops
# to that user when started by root and must be able to write the joiner's data directory.
as_user=()
if [ "$(id -u)" = 0 ]; then as_user=(--user=nobody); fi
own() {
  if [ "$(id -u)" = 0 ]; then chmod 755 "$dir" && chown -R nobody:nogroup "$@"; fi
}

cluster_addr() {
  local n a=""
  for n in 1 2 3; do a+="${a:+,}127.0.0.1:$(cut -d' ' -f2 "$dir/n$n/port")"; done
  echo "gcomm://$a"
}

# launch N [--wsrep-new-cluster]: start mariadbd for node N in the background
launch() {
  local n=$1; shift
  local nd="$dir/n$n" sqlp gp ip sp
  read -r sqlp gp ip sp < "$nd/port"
  rm -f "$nd/sock" "$nd/mariadbd.pid"
  mkdir -p "$nd/data" "$nd/tmp"
  own "$nd"
  # short failure detection (a lost node leaves the primary component in ~3 s), a gcache big
  # enough for IST after a short absence, and the settings the Galera documentation requires
  setsid "$(server_bin)" --no-defaults --datadir="$nd/data" --tmpdir="$nd/tmp" \
    --socket="$nd/sock" --port="$sqlp" --bind-address=127.0.0.1 --pid-file="$nd/mariadbd.pid" \
    --log-error="$nd/error.log" "${as_user[@]}" --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --default-time-zone=+00:00 --innodb-buffer-pool-size=48M --innodb-log-file-size=32M \
    --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 --max-connections=300 \
    --performance-schema=OFF --skip-log-bin --binlog-format=ROW \
    --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
    --wsrep-on=ON --wsrep-provider="$(provider)" --wsrep-cluster-name=itflowd-test \
    --wsrep-cluster-address="$(cluster_addr)" --wsrep-node-name="n$n" \
    --wsrep-node-address="127.0.0.1:$gp" --wsrep-node-incoming-address="127.0.0.1:$sqlp" \
    --wsrep-sst-receive-address="127.0.0.1:$sp" --wsrep-sst-method=rsync \
    --wsrep-slave-threads=2 \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$gp;ist.recv_addr=127.0.0.1:$ip;gcache.size=64M;evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.inactive_check_period=PT0.5S;evs.install_timeout=PT4S;pc.recovery=FALSE" \
    "$@" < /dev/null > "$nd/stdout.log" 2>&1 &
  echo $! > "$nd/launch.pid"
}

# wait_synced N SECONDS
wait_synced() {
  local n=$1 i
  for i in $(seq $(($2 * 5))); do
    [ "$(node_state "$n")" = 4 ] && return 0
    node_pid "$n" >/dev/null || break
    sleep 0.2
  done
  echo "galera.sh: node $n is not Synced after $2 s:" >&2
  tail -25 "$dir/n$n/error.log" >&2 2>/dev/null || true
  return 1
}

start() {
  have_all || { echo "galera.sh: needs mariadb-server, galera-4 and rsync" >&2; exit 77; }
  local n ports
  if [ ! -s "$dir/n1/port" ]; then
    ports=($(free_ports 12))
    for n in 1 2 3; do
      mkdir -p "$dir/n$n"
      echo "${ports[@]:$(((n - 1) * 4)):4}" > "$dir/n$n/port"
    done
  fi
  if [ ! -d "$dir/n1/data/mysql" ]; then
    own "$dir/n1"
    if ! timeout 120 "$(install_bin)" --no-defaults --datadir="$dir/n1/data" "${as_user[@]}" \
         --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
         > "$dir/install.log" 2>&1; then
      echo "galera.sh: mariadb-install-db failed:" >&2
      tail -20 "$dir/install.log" >&2
      exit 1
    fi
  fi
  # node 1 bootstraps (after `stop` it is the last to leave, so it may: safe_to_bootstrap)
  launch 1 --wsrep-new-cluster
  wait_synced 1 60
  launch 2
  wait_synced 2 90
  launch 3
  wait_synced 3 90
  if [ ! -s "$dir/password" ]; then
    local pw
    pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
    node_sql 1 <<EOF
CREATE DATABASE IF NOT EXISTS itflowd CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE OR REPLACE USER 'itflowd'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON itflowd.* TO 'itflowd'@'127.0.0.1';
EOF
    (umask 077 && printf '%s\n' "$pw" > "$dir/password.tmp" && mv "$dir/password.tmp" "$dir/password")
  fi
  local t="" p
  for n in 1 2 3; do
    p=$(cut -d' ' -f1 "$dir/n$n/port")
    t+="${t:+,}127.0.0.1:$p"
  done
  echo "mariadb://itflowd@$t/itflowd" > "$dir/target"
  cat "$dir/target"
}

stop_node() {
  local p i
  p=$(node_pid "$1") || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 300); do
    kill -0 "$p" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null || true
  sleep 0.2
}

stop() {
  local n
  for n in 3 2 1; do stop_node "$n"; done
}

[ $# -ge 1 ] || usage
cmd=$1
case $cmd in
  available) have_all; exit $? ;;
  test)
    bin=${2:-$repo/build-dbg/itflowd}
    exec python3 "$repo/tests/api/test_galera.py" "$bin" ;;
esac
[ $# -ge 2 ] || usage
mkdir -p "$2"
dir=$(cd "$2" && pwd)
case $cmd in
  start) start ;;
  stop) stop ;;
  kill)
    [ $# -eq 3 ] || usage
    p=$(node_pid "$3") && kill -KILL "$p" ;;
  restart)
    [ $# -eq 3 ] || usage
    node_pid "$3" >/dev/null || launch "$3"
    wait_synced "$3" 90 ;;
  sql)
    [ $# -eq 4 ] || usage
    node_sql "$3" itflowd -e "$4" ;;
  *) usage ;;
esac
