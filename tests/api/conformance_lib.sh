# conformance_lib.sh — sourced by run_conformance.sh and run_conformance_mariadb.sh.
#
# serve_and_conform BIN TARGET WORK RESET_CMD SQL_CMD [conform.py args...]
#   starts `itflowd serve --db TARGET` on a free 127.0.0.1 port (log in WORK/server.log), runs
#   the shared conformance suite against it with RESET_CMD before each scenario and SQL_CMD for
#   the SQL checks, then stops the server: a clean SIGTERM stop must exit 0 (under sanitizers
#   this is also where leaks are reported). Sets the caller's `pid` while the server runs, so
#   that its cleanup trap can stop it. Needs `conf` (the conformance directory); `cases` and
#   `seed` name another suite (default: the v26.07 one, cases/ and seed.sql). Returns the
#   suite's status, or 1 when the server died or did not stop cleanly.
serve_and_conform() {
  local bin=$1 target=$2 work=$3 reset=$4 sqlcmd=$5
  shift 5
  local port status rc
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # shellcheck disable=SC2086
  "$bin" serve --db "$target" --listen "127.0.0.1:$port" ${ITFLOWD_SERVE_ARGS:---quiet} \
    2> "$work/server.log" &
  pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  set +e
  python3 "$conf/conform.py" --base "http://127.0.0.1:$port" --cases "${cases:-$conf/cases}" \
    --seed "${seed:-$conf/seed.sql}" --reset "$reset" --sql "$sqlcmd" "$@"
  status=$?
  set -e
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "itflowd died during the run:" >&2
    status=1
  else
    kill -TERM "$pid"
    set +e
    wait "$pid"
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
      echo "itflowd exited with status $rc after SIGTERM" >&2
      status=1
    fi
  fi
  pid=
  if [ $status -ne 0 ] && [ -s "$work/server.log" ]; then
    echo "--- server log (last 50 lines)" >&2
    tail -50 "$work/server.log" >&2
  fi
  return $status
}

# itflow_suite: sets `itflow_version`, `init_version` (init's option for it), `cases`, `seed` and
# `tables` (the tables the reset empties)
# from ITFLOWD_ITFLOW_VERSION: 26.07 (default) or 26.08 (cases-2608/, seed-2608.sql, the seed's
# tables plus the ones the API writes; conformance README, delta section 7).
itflow_suite() {
  itflow_version=${ITFLOWD_ITFLOW_VERSION:-26.07}
  init_version=
  [ "$itflow_version" = 26.07 ] || init_version="--itflow-version $itflow_version"
  case $itflow_version in
    26.07)
      cases=$conf/cases
      seed=$conf/seed.sql
      tables="companies settings users ticket_statuses api_keys clients contacts locations vendors
assets asset_interfaces asset_history certificates credentials documents document_versions domains
networks software expenses products invoices invoice_items payments quotes recurring_invoices
history tickets ticket_replies logs" ;;
    26.08)
      cases=$conf/cases-2608
      seed=$conf/seed-2608.sql
      tables="$(sed -n 's/^INSERT INTO \([a-z_0-9]*\) .*/\1/p' "$seed" | awk '!seen[$0]++' | tr '\n' ' ')
logs history ticket_history asset_history document_versions email_queue sla_history" ;;
    *) echo "unknown ITFLOWD_ITFLOW_VERSION $itflow_version" >&2; return 1 ;;
  esac
}
