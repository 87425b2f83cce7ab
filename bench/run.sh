#!/usr/bin/env bash
# bench/run.sh — the itflowd benchmark in one command (see bench/README.md).
#
# Builds a Release binary into build-bench/, generates (or reuses) the deterministic dataset,
# starts `itflowd serve` on a free 127.0.0.1 port on a private copy of it, runs every scenario
# with wrk (Lua scripts in bench/lua/), samples the server's memory after each one, prints one
# table and writes it to build-bench/results.txt. Raw wrk output: build-bench/bench-logs/.
#
# Environment (all optional):
#   BENCH_DURATION=10      seconds per scenario        BENCH_THREADS=2       wrk threads
#   BENCH_CONNECTIONS=32   wrk connections             BENCH_TIMEOUT=10s     wrk per-request timeout
#   BENCH_SCENARIOS="..."  subset, in table order      BENCH_SEED=1          Lua RNG seed
#   BENCH_WARMUP=1         seconds of unmeasured wrk load before each scenario (0 = none)
#   BENCH_SERVE_ARGS="..." extra `itflowd serve` flags (e.g. "--threads 4")
#   BENCH_PORT=N           fixed port instead of a free one
#   BENCH_SKIP_BUILD=1     reuse build-bench/itflowd as it is (e.g. while the tree does not build)
#   BENCH_ITFLOW_VERSION=26.08  the dataset as an ITFlow v26.08 database: the same two keys run as
#                          an admin user and a user allowed client 1 only (RBAC on every request)
#   BENCH_REPEAT=1         run the whole list this many times; the table shows each scenario's
#                          median (peak RSS: the maximum) — on a shared 2-core machine single
#                          runs of the same scenario vary by +-20 %
#   BENCH_PROBE=3          seconds of ceiling load measured just before each scenario (0 = none):
#                          the "ratio" column divides by it, so that the machine's drift during the
#                          run does not skew the ratios; "ratio/mean" divides by the mean of the
#                          first and last ceiling runs instead
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

DURATION=${BENCH_DURATION:-10}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WRK_TIMEOUT=${BENCH_TIMEOUT:-10s}
WARMUP=${BENCH_WARMUP:-1}
PROBE=${BENCH_PROBE:-3}
REPEAT=${BENCH_REPEAT:-1}
[[ $REPEAT =~ ^[0-9]+$ && $REPEAT -gt 0 ]] || die "BENCH_REPEAT must be a positive integer"
[[ $PROBE =~ ^[0-9]+$ ]] || die "BENCH_PROBE must be a whole number of seconds"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -gt 0 ]] || die "BENCH_DURATION must be a positive integer"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a whole number of seconds"

# name | Lua script | one representative request for the curl smoke check (METHOD URL [JSON])
# The smoke check shows the exact request when the server answers it with anything but
# 200 + the expected body; wrk then measures the randomised stream of such requests.
ALL=$ALL_KEY CK=$CLIENT_KEY
SCENARIOS=(
  "ceiling|ceiling.lua|GET /healthz"
  "asset_by_id|asset_by_id.lua|GET /api/v1/assets/read.php?asset_id=123457&api_key=$ALL"
  "clients_list|clients_list.lua|GET /api/v1/clients/read.php?limit=50&api_key=$ALL"
  "contact_by_email|contact_by_email.lua|GET /api/v1/contacts/read.php?contact_email=c31337%40client3134.example&api_key=$ALL"
  "asset_by_mac|asset_by_mac.lua|GET /api/v1/assets/read.php?asset_mac=02:00:00:01:E2:41&api_key=$ALL"
  "tickets_deep_page|tickets_deep_page.lua|GET /api/v1/tickets/read.php?limit=50&offset=95000&api_key=$ALL"
  "tickets_first_page|tickets_first_page.lua|GET /api/v1/tickets/read.php?limit=50&after_id=0&api_key=$ALL"
  "tickets_keyset_page|tickets_keyset_page.lua|GET /api/v1/tickets/read.php?limit=50&after_id=95000&api_key=$ALL"
  "credentials_list|credentials_list.lua|GET /api/v1/credentials/read.php?limit=50&api_key=$ALL"
  "assets_scoped|assets_scoped.lua|GET /api/v1/assets/read.php?limit=50&api_key=$CK"
  "ticket_create|ticket_create.lua|POST /api/v1/tickets/create.php {\"api_key\":\"$CK\",\"client_id\":1,\"ticket_subject\":\"Smoke ticket\",\"ticket_details\":\"<p>smoke</p>\"}"
  "contact_update|contact_update.lua|POST /api/v1/contacts/update.php {\"api_key\":\"$CK\",\"client_id\":1,\"contact_id\":3,\"contact_title\":\"Smoke title\"}"
  "mixed|mixed.lua|GET /api/v1/assets/read.php?asset_id=42&api_key=$ALL"
)
if [ -n "${BENCH_SCENARIOS:-}" ]; then
  selected=()
  for s in "${SCENARIOS[@]}"; do
    for want in $BENCH_SCENARIOS; do [ "${s%%|*}" = "$want" ] && selected+=("$s"); done
  done
  [ ${#selected[@]} -gt 0 ] || die "BENCH_SCENARIOS matched nothing"
  SCENARIOS=("${selected[@]}")
fi
# The ceiling is measured again after the last scenario: the ratio column divides by the mean of
# both runs, so that a machine that speeds up or slows down during the run skews it less.
if [ "${SCENARIOS[0]%%|*}" = ceiling ] && [ ${#SCENARIOS[@]} -gt 1 ]; then
  SCENARIOS+=("ceiling_end|ceiling.lua|GET /healthz")
fi

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
bench_need_tools wrk curl sqlite3 python3
bench_build
bench_dataset
bench_fresh_db
bench_start_server
LOG_DIR=$BUILD_DIR/bench-logs
rm -rf "$LOG_DIR"; mkdir -p "$LOG_DIR"
hwm_note=""
reset_hwm || hwm_note=" (VmHWM could not be reset: peak since server start)"

# One curl request; prints "OK" or "FAIL <request> -> <status> <body excerpt>".
smoke() {
  local method=$1 path=$2 body=${3:-} expect code out=$BENCH_TMP/smoke.out
  expect='"success":"True"'; [ "$path" = /healthz ] && expect='"status":"ok"'
  if [ "$method" = POST ]; then
    code=$(curl -s --max-time 30 -o "$out" -w '%{http_code}' -X POST \
           -H 'Content-Type: application/json' --data-binary "$body" "$BASE$path") || code=000
  else
    # the decrypt password as credentials_list.lua sends it (A1: read by both dialects)
    code=$(curl -s --max-time 30 -o "$out" -w '%{http_code}' \
           -H "X-API-Key-Decrypt-Password: $DECRYPT_PW" "$BASE$path") || code=000
  fi
  if [ "$code" = 200 ] && grep -qF "$expect" "$out"; then echo OK; return; fi
  echo "FAIL $method $path${body:+ body $body} -> HTTP $code $(head -c 300 "$out" | tr '\n' ' ')"
}

# field NAME FILE: value of NAME= on the BENCH_RESULT line
field() { sed -n 's/^BENCH_RESULT.* '"$1"'=\([^ ]*\).*/\1/p' "$2" | head -1; }

CLK_TCK=$(getconf CLK_TCK)
rows=()       # name rps p50 p99 hwm_mib rss_mib cpu_us_per_request ceiling_probe errors
notes=()
ceiling_runs=()
for rep in $(seq "$REPEAT"); do
for s in "${SCENARIOS[@]}"; do
  IFS='|' read -r name lua req <<<"$s"
  [ "$REPEAT" -gt 1 ] && log "round $rep of $REPEAT"
  read -r smethod spath sbody <<<"$req"
  bench_server_alive
  sm=$(smoke "$smethod" "$spath" "$sbody")
  [ "$sm" = OK ] || notes+=("$name: smoke check $sm")
  probe_rps=-
  if [ "$PROBE" -gt 0 ] && [ ${#ceiling_runs[@]} -gt 0 ] && [ "$name" != ceiling_end ]; then
    # the ceiling again, right before this scenario: its ratio is to this probe
    BENCH_LUA_DIR=$BENCH_DIR/lua timeout --kill-after=5 $((PROBE + 30)) \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${PROBE}s" --timeout "$WRK_TIMEOUT" \
          -s "$BENCH_DIR/lua/ceiling.lua" "$BASE" > "$LOG_DIR/$name.ceiling-probe.txt" 2>&1 || true
    probe_rps=$(field rps "$LOG_DIR/$name.ceiling-probe.txt")
    [ -n "$probe_rps" ] || probe_rps=-
    sleep 1
  fi
  reset_hwm || true
  out=$LOG_DIR/$name.txt
  if [ "$WARMUP" -gt 0 ]; then  # fills the connection pool, caches and prepared statements
    BENCH_LUA_DIR=$BENCH_DIR/lua timeout --kill-after=5 $((WARMUP + 30)) \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" \
          -s "$BENCH_DIR/lua/$lua" "$BASE" > "$LOG_DIR/$name.warmup.txt" 2>&1 || true
    sleep 1  # let the server finish the requests wrk abandoned
  fi
  log "scenario $name: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
  wrk_rc=0
  cpu0=$(proc_cpu_ticks)
  BENCH_LUA_DIR=$BENCH_DIR/lua timeout --kill-after=5 $((DURATION + 60)) \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout "$WRK_TIMEOUT" --latency \
        -s "$BENCH_DIR/lua/$lua" "$BASE" > "$out" 2>&1 || wrk_rc=$?
  bench_server_alive
  cpu_ticks=$(( $(proc_cpu_ticks) - cpu0 ))
  hwm=$(proc_kib VmHWM); rss=$(proc_kib VmRSS)
  if [ $wrk_rc -ne 0 ] || ! grep -q '^BENCH_RESULT' "$out"; then
    notes+=("$name: wrk failed (exit $wrk_rc), see $out")
    rows+=("$name - - - $(kib_to_mib "$hwm") $(kib_to_mib "$rss") - $probe_rps wrk-failed")
    continue
  fi
  rps=$(field rps "$out")
  non200=$(field non200 "$out"); bad=$(field bad_body "$out")
  sock=$(( $(field connect "$out") + $(field read "$out") + $(field write "$out") ))
  tmo=$(field timeout "$out")
  errs=""
  [ "$non200" = 0 ] || errs+="non200=$non200 "
  [ "$bad" = 0 ] || errs+="not-success=$bad "
  [ "$sock" = 0 ] || errs+="socket=$sock "
  [ "$tmo" = 0 ] || errs+="timeout=$tmo "
  [ "$sm" = OK ] || errs+="smoke-fail "
  if [ -n "$errs" ]; then
    errs="!! ${errs% }"
    sample=$(sed -n 's/^BENCH_SAMPLE //p' "$out" | head -1)
    notes+=("$name: $errs${sample:+; first bad response: $sample}")
  else
    errs=0
  fi
  case $name in ceiling | ceiling_end) ceiling_runs+=("$rps"); probe_rps=$rps ;; esac
  # server CPU per request (user+sys), less sensitive than req/s to other load on the machine
  cpu_us=$(awk -v t="$cpu_ticks" -v hz="$CLK_TCK" -v n="$(field requests "$out")" \
             'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  rows+=("$name $rps $(field p50_ms "$out") $(field p99_ms "$out") $(kib_to_mib "$hwm") $(kib_to_mib "$rss") $cpu_us $probe_rps $errs")
  sleep 1
done
done

# 6. The table.
ceiling_rps=
if [ ${#ceiling_runs[@]} -gt 0 ]; then
  ceiling_rps=$(printf '%s\n' "${ceiling_runs[@]}" | awk '{ s += $1 } END { printf "%.1f", s / NR }')
fi
fmt() { if [ "$1" = - ]; then echo -; else awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'; fi; }
{
  echo "itflowd benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO_DIR" diff --quiet 2>/dev/null || echo '+dirty')"
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency (after ${WARMUP}s warm-up); $(nproc) cores; dataset $(basename "$BENCH_CACHED_DB")${BENCH_SERVE_ARGS:+; serve $BENCH_SERVE_ARGS}"
  echo "peak RSS = server VmHWM during the scenario$hwm_note; RSS = VmRSS after it;"
  echo "cpu us/r = server user+sys CPU per request; load average at start: $LOAD_AT_START"
  [ "$REPEAT" -gt 1 ] && echo "each line: the median of $REPEAT rounds (peak MiB: the maximum)"
  echo "ratio = req/s / the ceiling probe run just before the scenario (column 'ceiling', ${PROBE}s; median of the rounds' ratios);"
  echo "ratio/mean = req/s / ${ceiling_rps:-?} (mean of the ${#ceiling_runs[@]} full ceiling runs: each round's first and last)"
  echo
  printf '%-18s %10s %9s %9s %9s %8s %9s %10s %7s %10s  %s\n' scenario 'req/s' 'p50 ms' \
    'p99 ms' 'peak MiB' 'RSS MiB' 'cpu us/r' ceiling ratio ratio/mean errors
  printf '%-18s %10s %9s %9s %9s %8s %9s %10s %7s %10s  %s\n' ------------------ ---------- \
    --------- --------- --------- -------- --------- ---------- ------- ---------- ------
  div() { if [ "$1" = - ] || [ "$2" = - ] || [ -z "$2" ]; then echo -; else
            awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; fi; }
  # one line per scenario: medians over the rounds (peak RSS: the maximum), errors summed up
  summary() {
    local want=$1
    for r in "${rows[@]}"; do
      read -r name rest <<<"$r"
      [ "$name" = "$want" ] && echo "$rest"
    done | awk '
      function med(col,   n, i, j, t, v) {
        n = 0
        for (i = 1; i <= NR; i++) if (val[i, col] != "-") v[++n] = val[i, col] + 0
        if (n == 0) return "-"
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      }
      { for (c = 1; c <= 7; c++) val[NR, c] = $c
        val[NR, 8] = ($1 != "-" && $7 != "-" && $7 > 0) ? $1 / $7 : "-"
        e = ""; for (c = 8; c <= NF; c++) e = e (c > 8 ? " " : "") $c
        if (e != "0") errs = errs (errs ? "; " : "") e
        if ($4 != "-" && $4 + 0 > maxhwm) maxhwm = $4 + 0 }
      END { printf "%s %s %s %s %s %s %s %s %s\n", med(1), med(2), med(3), (maxhwm ? maxhwm : "-"),
                   med(5), med(6), med(7), med(8), (errs ? errs : "0") }'
  }
  names=()
  for r in "${rows[@]}"; do
    read -r name _ <<<"$r"
    case " ${names[*]} " in *" $name "*) ;; *) names+=("$name") ;; esac
  done
  for name in "${names[@]}"; do
    read -r rps p50 p99 hwm rss cpu_us probe ratio errs <<<"$(summary "$name")"
    printf '%-18s %10s %9s %9s %9s %8s %9s %10s %7s %10s  %s\n' "$name" "$(fmt "$rps" 1)" \
      "$(fmt "$p50" 2)" "$(fmt "$p99" 2)" "$(fmt "$hwm" 1)" "$(fmt "$rss" 1)" "$(fmt "$cpu_us" 0)" \
      "$(fmt "$probe" 0)" \
      "$(fmt "$ratio" 3)" "$(div "$rps" "${ceiling_rps:--}")" "$errs"
  done
  if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "problems:"
    for n in "${notes[@]}"; do echo "  - $n"; done
  fi
} | tee "$BUILD_DIR/results.txt"
log "table written to $BUILD_DIR/results.txt"
