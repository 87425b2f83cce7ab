# shellcheck shell=bash disable=SC2034  # (the keys below are used by the scripts that source this)
# bench/lib.sh — helpers shared by bench/run.sh and bench/stream_rss.sh (source it, don't run it).
# Builds the optimised binary, produces the cached benchmark dataset, starts/stops the server and
# reads its memory figures from /proc. Callers set `set -euo pipefail` and call bench_cleanup from
# their EXIT trap. Every wait loop here is bounded.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=$REPO_DIR/build-bench
ITFLOWD=$BUILD_DIR/itflowd

# The two API keys and the decrypt password copied from shared/conformance/seed.sql.
ALL_KEY=oracleAllClients0000000000000001
CLIENT_KEY=oracleClientScoped00000000000002
DECRYPT_PW=oracleDecryptPassword00000000001

SERVER_PID=
BENCH_TMP=

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# Stop the server we started (by its pid only) and remove the per-run files.
bench_cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
  if [ -n "$BENCH_TMP" ]; then rm -rf "$BENCH_TMP"; fi
}

# Tools: wrk (from Debian), curl, sqlite3 and python3 are expected on the machine.
bench_need_tools() {
  local missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing missing tools: ${missing[*]}"
  local pkgs=()
  for t in "${missing[@]}"; do
    case $t in sqlite3) pkgs+=(sqlite3) ;; python3) pkgs+=(python3) ;; *) pkgs+=("$t") ;; esac
  done
  timeout 600 apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${pkgs[@]}" >/dev/null
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || die "$t still missing after apt-get install"; done
}

# 1. Optimised build into build-bench/. BENCH_SKIP_BUILD=1 reuses the binary already there.
bench_build() {
  if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ -x "$ITFLOWD" ]; then
    log "BENCH_SKIP_BUILD=1: using the existing $ITFLOWD"
    return 0
  fi
  log "building (Release) into $BUILD_DIR"
  (cd "$REPO_DIR" && cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null \
     && cmake --build build-bench -j2 >/dev/null) || die "build failed"
  [ -x "$ITFLOWD" ] || die "no binary at $ITFLOWD"
}

# 2. The dataset, cached as build-bench/bench-<hash>.db. The hash covers the generator and the
# schema the current binary creates, so a schema change also regenerates. Sets BENCH_CACHED_DB.
# BENCH_ITFLOW_VERSION=26.08 makes it an ITFlow v26.08 database (keys run as users, RBAC); each
# version has its own cache file.
bench_dataset() {
  local probe key version=${BENCH_ITFLOW_VERSION:-26.07} init_args=() tag=
  if [ "$version" != 26.07 ]; then
    init_args=(--itflow-version "$version"); tag=${version/./}-
  fi
  probe=$(mktemp -d)
  "$ITFLOWD" init --db "$probe/schema.db" "${init_args[@]}" --schema-only >/dev/null
  key=$( { sha256sum < "$BENCH_DIR/gen_dataset.py";
           sqlite3 "$probe/schema.db" "SELECT sql FROM sqlite_master ORDER BY name"; } \
         | sha256sum | cut -c1-16)
  rm -rf "$probe"
  BENCH_CACHED_DB=$BUILD_DIR/bench-$tag$key.db
  if [ -f "$BENCH_CACHED_DB" ]; then
    log "dataset cached: $BENCH_CACHED_DB"
    return 0
  fi
  log "generating dataset -> $BENCH_CACHED_DB"
  find "$BUILD_DIR" -maxdepth 1 -regex ".*/bench-$tag[0-9a-f]+\.db\(-wal\|-shm\)?" -delete
  local tmp=$BUILD_DIR/bench-gen.tmp.db
  rm -f "$tmp" "$tmp-wal" "$tmp-shm"
  "$ITFLOWD" init --db "$tmp" "${init_args[@]}" --schema-only >/dev/null
  timeout 300 python3 "$BENCH_DIR/gen_dataset.py" "$tmp" >&2 || die "dataset generation failed"
  [ ! -s "$tmp-wal" ] || die "generator left a WAL behind"
  rm -f "$tmp-wal" "$tmp-shm"
  mv "$tmp" "$BENCH_CACHED_DB"
}

# A private copy of the cached db (writes during a run never touch the cache). Sets BENCH_DB.
bench_fresh_db() {
  BENCH_TMP=$(mktemp -d "$BUILD_DIR/run.XXXXXX")
  BENCH_DB=$BENCH_TMP/itflowd.db
  cp "$BENCH_CACHED_DB" "$BENCH_DB"
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# 3. Start the server on 127.0.0.1 and wait (at most 15 s) for /healthz. Sets SERVER_PID, BASE.
# Extra serve flags can be given in BENCH_SERVE_ARGS (e.g. "--threads 4").
bench_start_server() {
  local port=${BENCH_PORT:-$(bench_free_port)}
  BASE=http://127.0.0.1:$port
  # shellcheck disable=SC2086
  TZ=UTC "$ITFLOWD" serve --db "$BENCH_DB" --listen "127.0.0.1:$port" --quiet \
    ${BENCH_SERVE_ARGS:-} 2> "$BENCH_TMP/server.log" &
  SERVER_PID=$!
  for _ in $(seq 150); do
    if curl -fs --max-time 1 "$BASE/healthz" >/dev/null 2>&1; then
      log "server pid $SERVER_PID listening on $BASE"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$BENCH_TMP/server.log" >&2; die "server exited"; }
    sleep 0.1
  done
  die "server did not answer /healthz within 15 s"
}

bench_server_alive() {
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$BENCH_TMP/server.log" >&2; die "server died"; }
}

# Memory of the server in KiB: proc_kib VmRSS|VmHWM
proc_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status"; }

# CPU time the server has used so far (user + system), in clock ticks (getconf CLK_TCK per second).
proc_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

# Reset VmHWM to the current RSS (Linux clear_refs "5"); returns 1 if the kernel refuses.
reset_hwm() { { echo 5 > "/proc/$SERVER_PID/clear_refs"; } 2>/dev/null; }

kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
