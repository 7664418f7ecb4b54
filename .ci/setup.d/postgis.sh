#!/usr/bin/env bash
# CI service: a PostgreSQL + PostGIS server on 127.0.0.1:5432 for tests/test_store_postgis.py
# and examples/team_store.py. Idempotent: installs the Debian packages if missing, creates
# and starts the cluster if needed, then the role and database (with the postgis
# extension) named by KCMR_TEST_POSTGRES_URL's defaults. Runs as root; the server runs as
# the postgres user and listens on loopback only.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

ROLE=kcmr
PASSWORD=kcmr
DATABASE=kcmr_test
PORT=5432

if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq postgresql postgis >/dev/null
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION main"; then
  pg_createcluster "$VERSION" main --port "$PORT" >/dev/null
fi
# loopback only (conf.d is read after postgresql.conf, so these settings win)
CONF_DIR=/etc/postgresql/$VERSION/main
mkdir -p "$CONF_DIR/conf.d"
printf "listen_addresses = '127.0.0.1'\nport = %s\n" "$PORT" > "$CONF_DIR/conf.d/kcmr.conf"
chown postgres:postgres "$CONF_DIR/conf.d/kcmr.conf"

status=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}')
if [ "$status" != "online" ]; then
  pg_ctlcluster "$VERSION" main start
fi

# wait until it answers (up to 30 s)
for _ in $(seq 1 30); do
  if runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p "$PORT"; then break; fi
  sleep 1
done
runuser -u postgres -- pg_isready -h 127.0.0.1 -p "$PORT"

psql_admin() { runuser -u postgres -- psql -p "$PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE"
fi
psql_admin -d "$DATABASE" -c "CREATE EXTENSION IF NOT EXISTS postgis"
psql_admin -d "$DATABASE" -c "GRANT ALL ON SCHEMA public TO $ROLE"
echo "PostGIS ready: postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
