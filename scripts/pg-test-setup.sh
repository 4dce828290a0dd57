#!/usr/bin/env bash
# Makes a local PostgreSQL ready for the storage tests and the ingest bench:
# installs Debian's postgresql when missing, starts (or creates) a cluster of
# the installed major version, and creates the role and database the tests
# use. Idempotent; run as root. The last line of stdout is the URL, so callers
# can do: export TEST_DATABASE_URL=$(bash scripts/pg-test-setup.sh | tail -n1)
set -euo pipefail

PG_USER=${PG_TEST_USER:-wildsight}
PG_PASSWORD=${PG_TEST_PASSWORD:-wildsight}
PG_DB=${PG_TEST_DB:-wildsight_test}
PG_PORT=${PG_TEST_PORT:-5432}

log() { echo "pg-test-setup: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "must run as root (it installs and starts PostgreSQL); otherwise set TEST_DATABASE_URL yourself"
  exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing Debian's postgresql…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed major version; Debian names the folders by it.
MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -n1)
[ -n "$MAJOR" ] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }

if ! pg_lsclusters -h | awk -v v="$MAJOR" '$1 == v && $2 == "main"' | grep -q .; then
  log "creating cluster $MAJOR/main on port $PG_PORT"
  pg_createcluster "$MAJOR" main --port "$PG_PORT" >/dev/null
fi

STATUS=$(pg_lsclusters -h | awk -v v="$MAJOR" '$1 == v && $2 == "main" { print $4 }')
CLUSTER_PORT=$(pg_lsclusters -h | awk -v v="$MAJOR" '$1 == v && $2 == "main" { print $3 }')
if [ "$STATUS" != online ]; then
  log "starting cluster $MAJOR/main (port $CLUSTER_PORT)"
  pg_ctlcluster "$MAJOR" main start
fi

# Wait until it accepts connections (a fresh start takes a moment).
for _ in $(seq 1 30); do
  if su postgres -c "psql -p $CLUSTER_PORT -qAtc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 1
done

psql_admin() { su postgres -c "psql -p $CLUSTER_PORT -v ON_ERROR_STOP=1 -qAt $*"; }

if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname = '$PG_USER'\"")" != 1 ]; then
  log "creating role $PG_USER"
  psql_admin "-c \"create role $PG_USER login password '$PG_PASSWORD'\""
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname = '$PG_DB'\"")" != 1 ]; then
  log "creating database $PG_DB"
  psql_admin "-c \"create database $PG_DB owner $PG_USER\""
fi

URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$CLUSTER_PORT/$PG_DB"
# Check the URL really works over TCP with the password (pg_hba may differ).
if ! PGPASSWORD="$PG_PASSWORD" psql "$URL" -qAtc 'select 1' >/dev/null; then
  log "cannot connect as $PG_USER over TCP; check pg_hba.conf of cluster $MAJOR/main"
  exit 1
fi
log "PostgreSQL $MAJOR ready"
echo "$URL"
