#!/usr/bin/env bash
# bench/galera.sh — itflowd on MariaDB: one server, and a private 3-node Galera cluster.
#
# Prints one table (requests/s, p50/p99 ms, errors) of wrk runs with bench/lua/galera.lua:
#   single  one MariaDB server (scripts/mariadb.sh), one instance, one host in --db
#   list1   the cluster, one instance whose --db lists the three nodes (it uses node 1)
#   list3   the cluster, three instances, each preferring another node (one wrk per instance,
#           the figures added up)
#   nowait  like list1 with ?sync_wait=0 (reads do not wait for the cluster to catch up)
# for each of BENCH_OPS (default "read create mixed"). All traffic on 127.0.0.1; everything it
# started is stopped on exit. Knobs: BENCH_DURATION (s, 5), BENCH_CONNECTIONS (8 per instance),
# BENCH_ITFLOWD (a binary to measure instead of building build-bench/itflowd: compare two
# builds on the `single` line), BENCH_GALERA_SETUPS ("single list1 list3 nowait"),
# BENCH_SKIP_BUILD=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_need_tools wrk curl python3
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNECTIONS:-8}
OPS=${BENCH_OPS:-"read create mixed"}
SETUPS=${BENCH_GALERA_SETUPS:-"single list1 list3 nowait"}
if [ -n "${BENCH_ITFLOWD:-}" ]; then ITFLOWD=$(readlink -f "$BENCH_ITFLOWD"); else bench_build; fi
"$REPO_DIR/scripts/mariadb.sh" available || die "MariaDB is not installed"
WORK=$(mktemp -d /tmp/itflowd-bench-galera.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  "$REPO_DIR/scripts/mariadb.sh" stop "$WORK/single" >/dev/null 2>&1 || true
  "$REPO_DIR/scripts/galera.sh" stop "$WORK/cluster" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
KEY=benchGaleraKey000000000000000001
RESULTS=$WORK/results.txt

# prepare TARGET PASSWORD_FILE: schema, admin, the bench key, client 1
prepare() {
  echo "bench admin password" > "$WORK/admin"
  ITFLOWD_DB_PASSWORD_FILE=$2 "$ITFLOWD" init --db "$1" --admin-password-file "$WORK/admin" \
    >/dev/null
  ITFLOWD_DB_PASSWORD_FILE=$2 "$ITFLOWD" key create --db "$1" --name bench --expires 2099-01-01 \
    --secret "$KEY" --admin-password-file "$WORK/admin" >/dev/null
}

# serve TARGET PASSWORD_FILE: starts an instance, adds its port to PORTS
serve() {
  local port
  port=$(bench_free_port)
  ITFLOWD_DB_PASSWORD_FILE=$2 TZ=UTC "$ITFLOWD" serve --db "$1" --listen "127.0.0.1:$port" \
    --quiet > /dev/null 2>> "$WORK/server.log" &
  PIDS+=($!)
  for _ in $(seq 150); do
    curl -fs --max-time 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && {
      PORTS+=("$port"); return; }
    sleep 0.1
  done
  die "an instance did not start"
}

# run NAME OP PORT...: one wrk per port at once, the figures added up (p50/p99: the worst)
run() {
  local name=$1 op=$2; shift 2
  local port i=0 wpids=()
  for port in "$@"; do
    i=$((i + 1))
    BENCH_LUA_DIR=$BENCH_DIR/lua BENCH_KEY=$KEY BENCH_OP=$op \
      wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 10s -s "$BENCH_DIR/lua/galera.lua" \
      "http://127.0.0.1:$port" > "$WORK/wrk.$i" 2>&1 &
    wpids+=($!)
  done
  for p in "${wpids[@]}"; do wait "$p" || true; done
  python3 - "$name" "$op" "$WORK"/wrk.* <<'PY' | tee -a "$RESULTS"
import re, sys
name, op, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rps = p50 = p99 = 0.0
bad = 0
for f in files:
    m = re.search(r"BENCH_RESULT .*", open(f).read())
    if not m:
        print("%-7s %-7s wrk failed: %s" % (name, op, open(f).read()[-200:])); sys.exit()
    kv = dict(x.split("=") for x in m.group(0).split()[1:])
    rps += float(kv["rps"]); p50 = max(p50, float(kv["p50_ms"])); p99 = max(p99, float(kv["p99_ms"]))
    bad += int(kv["non200"]) + int(kv["bad_body"]) + int(kv["timeout"])
print("%-7s %-7s %9.0f %8.2f %8.2f %6d" % (name, op, rps, p50, p99, bad))
PY
  rm -f "$WORK"/wrk.*
}

printf '%-7s %-7s %9s %8s %8s %6s\n' setup op "req/s" "p50 ms" "p99 ms" errors | tee "$RESULTS"
for setup in $SETUPS; do
  PORTS=()
  case $setup in
    single)
      target=$("$REPO_DIR/scripts/mariadb.sh" start "$WORK/single")
      prepare "$target" "$WORK/single/password"
      serve "$target" "$WORK/single/password" ;;
    list1 | list3 | nowait)
      if [ ! -s "$WORK/cluster/target" ]; then
        log "starting the cluster"
        target=$("$REPO_DIR/scripts/galera.sh" start "$WORK/cluster")
        prepare "$target" "$WORK/cluster/password"
      fi
      pw=$WORK/cluster/password
      mapfile -t sp < <(for n in 1 2 3; do cut -d' ' -f1 "$WORK/cluster/n$n/port"; done)
      list() { echo "mariadb://itflowd@127.0.0.1:$1,127.0.0.1:$2,127.0.0.1:$3/itflowd$4"; }
      case $setup in
        list1) serve "$(list "${sp[0]}" "${sp[1]}" "${sp[2]}" "")" "$pw" ;;
        nowait) serve "$(list "${sp[0]}" "${sp[1]}" "${sp[2]}" "?sync_wait=0")" "$pw" ;;
        list3)
          serve "$(list "${sp[0]}" "${sp[1]}" "${sp[2]}" "")" "$pw"
          serve "$(list "${sp[1]}" "${sp[0]}" "${sp[2]}" "")" "$pw"
          serve "$(list "${sp[2]}" "${sp[0]}" "${sp[1]}" "")" "$pw" ;;
      esac ;;
    *) die "unknown setup $setup" ;;
  esac
  if [ ! -e "$WORK/client.$setup" ] && [ ! -e "$WORK/client.cluster" ]; then
    # client 1, for the reads to find and the tickets to belong to
    curl -fs -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"api_key\":\"$KEY\",\"client_name\":\"Bench Co\"}" \
      "http://127.0.0.1:${PORTS[0]}/api/v1/clients/create.php" || die "cannot create the client"
    [ "$setup" = single ] && touch "$WORK/client.single" || touch "$WORK/client.cluster"
  fi
  for op in $OPS; do
    run "$setup" "$op" "${PORTS[@]}"
  done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  [ "$setup" = single ] && "$REPO_DIR/scripts/mariadb.sh" stop "$WORK/single" >/dev/null
done
mkdir -p "$BUILD_DIR" && cp "$RESULTS" "$BUILD_DIR/galera-results.txt"
