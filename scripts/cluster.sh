#!/usr/bin/env bash
# Several Wildsight instances on one PostgreSQL behind nginx, on loopback.
#
#   npm run cluster -- start [N]        N instances (default 3) and nginx
#   npm run cluster -- status           each instance's /readyz, and nginx's
#   npm run cluster -- stop             nginx, then the instances (SIGTERM)
#   npm run cluster -- kill-instance I [SIGNAL]   one instance (default SIGKILL)
#   npm run cluster -- start-instance I          it again, on the same port
#
# Settings (environment; start writes them to $CLUSTER_DIR/cluster.env and
# the other commands read them back from there):
#   CLUSTER_DIR         state, logs and nginx config (default .cache/cluster)
#   CLUSTER_PORT        nginx's port (default 8090); instance I listens on
#                       CLUSTER_PORT + I
#   CLUSTER_DATABASE_URL  PostgreSQL (else DATABASE_URL, TEST_DATABASE_URL;
#                       as root, else a local one from scripts/pg-test-setup.sh
#                       with its own database, wildsight_cluster)
#   CLUSTER_SCHEMA      the tables' schema in it (default wildsight_cluster)
#   CLUSTER_RATE_LIMIT  API requests per minute per client address, enforced
#                       by nginx across instances (default RATE_LIMIT_MAX, 600)
#   CLUSTER_BURST       requests over that rate let through at once (default rate/10)
#   CLUSTER_NGINX_WORKERS  nginx worker processes (default 1)
# Everything else in the environment (ADMIN_TOKEN, DRIFT_INTERVAL_MS,
# JOB_LEASE_MS, LOG_LEVEL, ...) reaches the instances as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${CLUSTER_DIR:-$ROOT/.cache/cluster}
NGINX=${NGINX:-/usr/sbin/nginx}

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }

load_state() {
  [ -f "$DIR/cluster.env" ] || die "no cluster in $DIR (run: npm run cluster -- start)"
  # shellcheck disable=SC1091
  . "$DIR/cluster.env"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_instance() {
  local i=$1 port=$((CLUSTER_PORT + $1))
  alive "$DIR/instance-$i.pid" && die "instance $i is already running (pid $(cat "$DIR/instance-$i.pid"))"
  # node directly (not npx/tsx CLI): the pid in the file is the server's own,
  # so a signal sent to it reaches the server and nothing else.
  PORT=$port HOST=127.0.0.1 TRUST_PROXY=127.0.0.1 \
    DATABASE_URL="$CLUSTER_DATABASE_URL" DATABASE_SCHEMA="$CLUSTER_SCHEMA" \
    INSTALL_SECRET="$CLUSTER_INSTALL_SECRET" RATE_LIMIT_MAX="$CLUSTER_RATE_LIMIT" \
    LOG_LEVEL="${LOG_LEVEL:-warn}" \
    setsid nohup node --import tsx server/main.ts >>"$DIR/instance-$i.log" 2>&1 </dev/null &
  echo $! >"$DIR/instance-$i.pid"
}

wait_ready() {
  local i=$1 port=$((CLUSTER_PORT + $1))
  for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then return 0; fi
    alive "$DIR/instance-$i.pid" || { tail -n 20 "$DIR/instance-$i.log" >&2; die "instance $i exited before it was ready"; }
    sleep 0.25
  done
  tail -n 20 "$DIR/instance-$i.log" >&2
  die "instance $i (port $port) not ready after 60 s"
}

write_nginx_conf() {
  local upstreams="" i
  for i in $(seq 1 "$CLUSTER_N"); do
    upstreams+="server 127.0.0.1:$((CLUSTER_PORT + i)) max_fails=1 fail_timeout=5s; "
  done
  mkdir -p "$DIR/nginx-tmp"
  chmod 1777 "$DIR/nginx-tmp"
  WILDSIGHT_UPSTREAMS="$upstreams" WILDSIGHT_LISTEN="127.0.0.1:$CLUSTER_PORT" \
    WILDSIGHT_RATE="$CLUSTER_RATE_LIMIT" WILDSIGHT_BURST="$CLUSTER_BURST" \
    envsubst '${WILDSIGHT_UPSTREAMS} ${WILDSIGHT_LISTEN} ${WILDSIGHT_RATE} ${WILDSIGHT_BURST}' \
    <"$ROOT/deploy/nginx.conf.template" >"$DIR/wildsight.conf"
  # The main file: what the distribution's nginx.conf would give, but every
  # path in $DIR, so nothing outside it is touched (and no root is needed).
  cat >"$DIR/nginx.conf" <<CONF
worker_processes ${CLUSTER_NGINX_WORKERS:-1};
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    # Event batches (up to 4 MB) are kept in memory, not spooled to disk.
    client_body_buffer_size 5m;
    client_body_temp_path $DIR/nginx-tmp/body;
    proxy_temp_path $DIR/nginx-tmp/proxy;
    fastcgi_temp_path $DIR/nginx-tmp/fastcgi;
    uwsgi_temp_path $DIR/nginx-tmp/uwsgi;
    scgi_temp_path $DIR/nginx-tmp/scgi;
    include $DIR/wildsight.conf;
}
CONF
}

cmd_start() {
  local n=${1:-3}
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "start takes a number of instances, got \"$n\""
  command -v "$NGINX" >/dev/null || die "nginx not found at $NGINX (Debian: apt-get install nginx-light)"
  mkdir -p "$DIR"
  if [ -f "$DIR/cluster.env" ]; then
    (. "$DIR/cluster.env"; alive "$DIR/nginx.pid") && die "a cluster is already running from $DIR (npm run cluster -- stop)"
  fi
  local url=${CLUSTER_DATABASE_URL:-${DATABASE_URL:-${TEST_DATABASE_URL:-}}}
  if [ -z "$url" ]; then
    [ "$(id -u)" = 0 ] || die "set CLUSTER_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL database"
    url=$(PG_TEST_DB=wildsight_cluster bash scripts/pg-test-setup.sh | tail -n1)
  fi
  local rate=${CLUSTER_RATE_LIMIT:-${RATE_LIMIT_MAX:-600}}
  [[ $rate =~ ^[1-9][0-9]*$ ]] || die "CLUSTER_RATE_LIMIT must be a whole number of requests per minute, got \"$rate\""
  local burst=${CLUSTER_BURST:-$(( rate / 10 > 0 ? rate / 10 : 1 ))}
  # Every instance must sign and check install tokens with the same key.
  local secret=${INSTALL_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  cat >"$DIR/cluster.env" <<ENV
CLUSTER_N=$n
CLUSTER_PORT=${CLUSTER_PORT:-8090}
CLUSTER_DATABASE_URL='$url'
CLUSTER_SCHEMA=${CLUSTER_SCHEMA:-wildsight_cluster}
CLUSTER_RATE_LIMIT=$rate
CLUSTER_BURST=$burst
CLUSTER_INSTALL_SECRET=$secret
CLUSTER_NGINX_WORKERS=${CLUSTER_NGINX_WORKERS:-1}
ENV
  chmod 600 "$DIR/cluster.env"
  load_state
  # The first instance alone runs the migrations; the others then start together.
  log "starting $n instances on ports $((CLUSTER_PORT + 1))-$((CLUSTER_PORT + n)) (PostgreSQL schema $CLUSTER_SCHEMA)"
  start_instance 1
  wait_ready 1
  local i
  for i in $(seq 2 "$n"); do start_instance "$i"; done
  for i in $(seq 2 "$n"); do wait_ready "$i"; done
  write_nginx_conf
  "$NGINX" -q -t -p "$DIR" -c "$DIR/nginx.conf" || die "nginx refused the generated config ($DIR/nginx.conf)"
  "$NGINX" -p "$DIR" -c "$DIR/nginx.conf"
  for _ in $(seq 1 40); do
    curl -fsS -o /dev/null "http://127.0.0.1:$CLUSTER_PORT/readyz" 2>/dev/null && break
    sleep 0.25
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$CLUSTER_PORT/readyz" || die "nginx on port $CLUSTER_PORT does not answer /readyz"
  log "ready: http://127.0.0.1:$CLUSTER_PORT/ (state and logs in $DIR)"
  echo "http://127.0.0.1:$CLUSTER_PORT"
}

cmd_stop() {
  load_state
  if alive "$DIR/nginx.pid"; then "$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -s quit || true; fi
  local i pid
  for i in $(seq 1 "$CLUSTER_N"); do
    if alive "$DIR/instance-$i.pid"; then
      pid=$(cat "$DIR/instance-$i.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && { log "instance $i did not stop in 10 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -f "$DIR/instance-$i.pid"
  done
  for _ in $(seq 1 40); do alive "$DIR/nginx.pid" || break; sleep 0.25; done
  log "stopped"
}

cmd_status() {
  load_state
  local i port code bad=0
  for i in $(seq 1 "$CLUSTER_N"); do
    port=$((CLUSTER_PORT + i))
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
    if alive "$DIR/instance-$i.pid"; then echo "instance $i: pid $(cat "$DIR/instance-$i.pid"), port $port, /readyz $code"; else echo "instance $i: not running (port $port)"; fi
    [ "$code" = 200 ] || bad=1
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CLUSTER_PORT/readyz" || true)
  if alive "$DIR/nginx.pid"; then echo "nginx: pid $(cat "$DIR/nginx.pid"), port $CLUSTER_PORT, /readyz $code"; else echo "nginx: not running"; bad=1; fi
  return $bad
}

cmd_kill_instance() {
  load_state
  local i=${1:?kill-instance needs an instance number} sig=${2:-KILL}
  alive "$DIR/instance-$i.pid" || die "instance $i is not running"
  kill -"$sig" "$(cat "$DIR/instance-$i.pid")"
}

cmd_start_instance() {
  load_state
  local i=${1:?start-instance needs an instance number}
  [ "$i" -ge 1 ] && [ "$i" -le "$CLUSTER_N" ] || die "instance $i is not one of 1-$CLUSTER_N"
  start_instance "$i"
  wait_ready "$i"
  log "instance $i ready again"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  kill-instance) shift; cmd_kill_instance "$@" ;;
  start-instance) shift; cmd_start_instance "$@" ;;
  *) die "usage: npm run cluster -- start [N] | status | stop | kill-instance I [SIGNAL] | start-instance I" ;;
esac
