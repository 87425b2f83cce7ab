#!/usr/bin/env bash
# Installs the Debian 12 packages itflowd needs (only what is missing).
# usage: scripts/deps.sh [demo|test]
#   demo  what building and running itflowd needs (scripts/demo.sh)
#   test  that and what the tests need: cmocka, MariaDB for the second backend, clang-format,
#         python3-jsonschema (the OpenAPI check), systemd-analyze (the unit check), man (default)
set -euo pipefail
what=${1:-test}
build="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev
libcrypt-dev libmariadb-dev libsystemd-dev curl liblua5.4-dev libcurl4-openssl-dev"
tests="libcmocka-dev sqlite3 python3 python3-jsonschema mariadb-server mariadb-client clang-format
git systemd man-db groff-base galera-4 rsync"
case $what in
  demo) pkgs=$build ;;
  test) pkgs="$build $tests" ;;
  *) echo "usage: $0 [demo|test]" >&2; exit 2 ;;
esac
missing=
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ] || [ "${ITFLOWD_FORCE_APT:-0}" = 1 ]; then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ${missing:-$pkgs} >/dev/null
fi
