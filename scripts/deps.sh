#!/usr/bin/env bash
# Installs the Debian 12 packages itflowd builds and tests with (only what is missing).
set -euo pipefail
pkgs="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev
libcmocka-dev libcrypt-dev sqlite3 python3 curl libmariadb-dev mariadb-server mariadb-client
clang-format git galera-4 rsync"
missing=
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ] || [ "${ITFLOWD_FORCE_APT:-0}" = 1 ]; then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkgs >/dev/null
fi
