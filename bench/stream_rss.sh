#!/usr/bin/env bash
# bench/stream_rss.sh — does a huge read stream, or does it pile up in memory?
#
# Same build and dataset as bench/run.sh. Starts the server, warms it with one small request,
# records its VmRSS, resets VmHWM, then fetches GET /api/v1/assets/read.php?limit=100000
# (all-clients key; ~100,000 joined asset rows) BENCH_STREAM_RUNS times (default 3) with curl into
# /dev/null, and reports the peak (VmHWM) and the growth over the "before" RSS. Target: growth
# under 16 MiB (BENCH_STREAM_LIMIT_MIB). Exit status 1 if over the target or a request failed.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

RUNS=${BENCH_STREAM_RUNS:-3}
LIMIT_MIB=${BENCH_STREAM_LIMIT_MIB:-16}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || die "BENCH_STREAM_RUNS must be a positive integer"

bench_need_tools curl sqlite3 python3
bench_build
bench_dataset
bench_fresh_db
bench_start_server

url="$BASE/api/v1/assets/read.php?limit=100000&api_key=$ALL_KEY"
shown="$BASE/api/v1/assets/read.php?limit=100000&api_key=<all-clients key>"
# warm-up: open a pooled connection, prepare the statement, run the COUNT once
curl -fs --max-time 30 -o /dev/null "$BASE/api/v1/assets/read.php?limit=1&api_key=$ALL_KEY" \
  || die "warm-up request failed"
before=$(proc_kib VmRSS)
anon_before=$(proc_kib RssAnon)
hwm_note=""
reset_hwm || hwm_note=" (VmHWM could not be reset: peak since server start)"
echo "GET $shown  x $RUNS"
echo "RSS before: $(kib_to_mib "$before") MiB (VmRSS after one warm-up request)"
failed=0
for i in $(seq "$RUNS"); do
  res=$(curl -s --max-time 300 -o /dev/null \
          -w '%{http_code} %{size_download} %{time_total}' "$url") || res="000 0 0"
  read -r code size secs <<<"$res"
  printf '  run %d: HTTP %s, %s bytes (%.1f MiB) in %.2f s; VmRSS now %s MiB\n' "$i" "$code" "$size" \
    "$(awk -v b="$size" 'BEGIN { print b / 1048576 }')" "$secs" "$(kib_to_mib "$(proc_kib VmRSS)")"
  [ "$code" = 200 ] && [ "$size" -gt 1000000 ] || failed=1
  bench_server_alive
done
hwm=$(proc_kib VmHWM); after=$(proc_kib VmRSS)
growth=$(awk -v a="$hwm" -v b="$before" 'BEGIN { printf "%.1f", (a - b) / 1024 }')
echo "peak RSS (VmHWM): $(kib_to_mib "$hwm") MiB$hwm_note; VmRSS after: $(kib_to_mib "$after") MiB"
# VmRSS also counts file pages the server maps (e.g. an SQLite mmap); RssAnon is heap/stacks only.
echo "RssAnon before/after: $(kib_to_mib "$anon_before") / $(kib_to_mib "$(proc_kib RssAnon)") MiB;" \
     "RssFile after: $(kib_to_mib "$(proc_kib RssFile)") MiB"
if awk -v g="$growth" -v l="$LIMIT_MIB" 'BEGIN { exit !(g < l) }'; then verdict=PASS; else verdict=FAIL; fi
echo "growth (peak - before): $growth MiB — $verdict (target < $LIMIT_MIB MiB)"
[ $failed -eq 0 ] || { echo "a request failed (expected HTTP 200 and a multi-MiB body)"; exit 1; }
[ $verdict = PASS ]
