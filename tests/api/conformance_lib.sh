# conformance_lib.sh — sourced by run_conformance.sh and run_conformance_mariadb.sh.
#
# serve_and_conform BIN TARGET WORK RESET_CMD SQL_CMD [conform.py args...]
#   starts `itflowd serve --db TARGET` on a free 127.0.0.1 port (log in WORK/server.log), runs
#   the shared conformance suite against it with RESET_CMD before each scenario and SQL_CMD for
#   the SQL checks, then stops the server: a clean SIGTERM stop must exit 0 (under sanitizers
#   this is also where leaks are reported). Sets the caller's `pid` while the server runs, so
#   that its cleanup trap can stop it. Needs `conf` (the conformance directory) and `cases` (the
#   case directory, set by conformance_suite). Returns the
#   suite's status, or 1 when the server died or did not stop cleanly.
# conformance_suite: the suite of the ITFlow release in ITFLOWD_ITFLOW (26.07, the default, or
#   26.08): sets `itflow` (init's --itflow-version), `seed`, `cases`, `seed_args` (conform.py's
#   --seed for 26.08) and `tables` (what the reset empties: every table the seed fills plus those
#   the API writes to). Needs `conf`.
conformance_suite() {
  itflow=${ITFLOWD_ITFLOW:-26.07}
  case $itflow in
    26.07)
      seed=$conf/seed.sql cases=$conf/cases seed_args=
      tables="companies settings users ticket_statuses api_keys clients contacts locations vendors
assets asset_interfaces asset_history certificates credentials documents document_versions domains
networks software expenses products invoices invoice_items payments quotes recurring_invoices
history tickets ticket_replies logs" ;;
    26.08)
      seed=$conf/seed-2608.sql cases=$conf/cases-2608 seed_args="--seed $conf/seed-2608.sql"
      tables="companies settings modules user_roles user_role_permissions users
user_client_permissions ticket_statuses api_keys clients contacts locations vendors assets
asset_interfaces asset_history certificates credentials documents document_versions domains
networks software expenses taxes products product_stock invoices invoice_items payments quotes
recurring_invoices history tickets ticket_replies ticket_history email_queue sla_history logs" ;;
    *) echo "ITFLOWD_ITFLOW must be 26.07 or 26.08, not $itflow" >&2; return 1 ;;
  esac
}

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
  python3 "$conf/conform.py" --base "http://127.0.0.1:$port" --cases "$cases" \
    --reset "$reset" --sql "$sqlcmd" "$@"
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
