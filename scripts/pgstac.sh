#!/usr/bin/env bash
# pgstac.sh — a throwaway PostgreSQL + PostGIS + pgstac database on loopback,
# for arco-server's pgstac backend tests, scripts/stac_api_check.sh and the
# STAC benchmark.
#
# Usage:
#     eval "$(scripts/pgstac.sh start)"   # exports ARCO_PGSTAC_URL (and ARCO_PGSTAC_DIR)
#     scripts/pgstac.sh url               # print the URL of the running one
#     scripts/pgstac.sh stop              # stop it and delete its files
#
# `start` installs Debian's postgresql and postgresql-<major>-postgis-3 when
# they are missing (apt-get, as root or with sudo), creates a cluster in a
# temporary directory owned by the `postgres` user (PostgreSQL refuses to run
# as root; as another user the cluster runs as that user), starts it on a free
# 127.0.0.1 port with trust authentication, creates the database `arco` and
# installs the pgstac schema with `pypgstac migrate` from the peers venv
# (scripts/setup-peers.sh pins pypgstac). Everything goes to stderr except the
# `export` lines on stdout.
#
# Environment:
#   ARCO_PGSTAC_DIR   where the cluster lives (default: a new /tmp/arco-pgstac.XXXX;
#                     `stop` and `url` read it, else /tmp/arco-pgstac.current)
#   ARCO_PEERS_VENV   the venv with pypgstac (default: <repo>/.peers-venv)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
VENV=${ARCO_PEERS_VENV:-$REPO/.peers-venv}
CURRENT=/tmp/arco-pgstac.current

log() { printf '[pgstac] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

as_owner() {
  # Run a command as the cluster's owner: postgres when we are root.
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install_packages() {
  local SUDO=
  [ "$(id -u)" != 0 ] && SUDO=sudo
  if [ -z "$(pg_bin)" ]; then
    log "installing postgresql (apt-get)"
    $SUDO apt-get update -qq >&2 || log "apt-get update failed (continuing)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2 \
      || die "apt-get install postgresql failed"
  fi
  local bin major
  bin=$(pg_bin) || die "no PostgreSQL server binaries under /usr/lib/postgresql"
  major=$(basename "$(dirname "$bin")")
  if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
    log "installing postgresql-$major-postgis-3 (apt-get)"
    $SUDO apt-get update -qq >&2 || log "apt-get update failed (continuing)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "postgresql-$major-postgis-3" >&2 \
      || die "apt-get install postgresql-$major-postgis-3 failed"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd_start() {
  install_packages
  local bin; bin=$(pg_bin)
  [ -x "$VENV/bin/pypgstac" ] || die "pypgstac not found in $VENV; run scripts/setup-peers.sh"
  local dir=${ARCO_PGSTAC_DIR:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/arco-pgstac.XXXXXX)
  fi
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (the postgresql package creates it)"
    chown postgres "$dir"
  fi
  local port; port=$(free_port)
  log "cluster in $dir, port $port ($bin)"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 || { tail -20 "$dir/server.log" >&2; die "pg_ctl start failed"; }
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres arco >&2 || die "createdb failed"
  local url="postgresql://postgres@127.0.0.1:$port/arco"
  echo "$url" > "$dir/url"
  ln -sfn "$dir" "$CURRENT"
  log "installing the pgstac schema (pypgstac $("$VENV/bin/pip" show pypgstac 2>/dev/null | awk '/^Version/{print $2}'))"
  "$VENV/bin/pypgstac" migrate --dsn "$url" >&2 || die "pypgstac migrate failed (log: $dir/server.log)"
  log "ready: $url"
  echo "export ARCO_PGSTAC_URL=$url"
  echo "export ARCO_PGSTAC_DIR=$dir"
}

state_dir() {
  local dir=${ARCO_PGSTAC_DIR:-}
  if [ -z "$dir" ] && [ -L "$CURRENT" ]; then
    dir=$(readlink "$CURRENT")
  fi
  echo "$dir"
}

cmd_url() {
  local dir; dir=$(state_dir)
  [ -n "$dir" ] && [ -f "$dir/url" ] || die "no running cluster found (ARCO_PGSTAC_DIR unset and $CURRENT missing)"
  cat "$dir/url"
}

cmd_stop() {
  local dir; dir=$(state_dir)
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    log "nothing to stop"
    return 0
  fi
  local bin; bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || log "pg_ctl stop failed"
  fi
  case "$dir" in
    /tmp/arco-pgstac.*) rm -rf "$dir" ;;
    *) log "leaving $dir in place (not under /tmp/arco-pgstac.*)" ;;
  esac
  if [ -L "$CURRENT" ] && [ "$(readlink "$CURRENT")" = "$dir" ]; then
    rm -f "$CURRENT"
  fi
  log "stopped"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) cmd_url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
