#!/bin/sh
# Runs once, when the postgres container initialises an empty volume: for every component, its three
# roles (owner: migrations; app: the service, subject to row-level security; relay: the outbox relay,
# BYPASSRLS) and its database, owned by the owner role. Passwords come from the environment, one per
# role: the relay bypasses row-level security, so it never shares the app role's password.
set -eu

for component in gateway intake assessment interventions audit monitoring; do
  upper=$(echo "$component" | tr '[:lower:]' '[:upper:]')
  eval owner_password=\"\${${upper}_DB_OWNER_PASSWORD:?}\"
  eval app_password=\"\${${upper}_DB_PASSWORD:?}\"
  eval relay_password=\"\${${upper}_DB_RELAY_PASSWORD:?}\"
  if [ "$relay_password" = "$app_password" ]; then
    echo "${upper}_DB_RELAY_PASSWORD must differ from ${upper}_DB_PASSWORD" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner="${component}_owner" -v app="${component}_app" -v relay="${component}_relay" \
    -v database="harambee_${component}" \
    -v owner_password="$owner_password" -v app_password="$app_password" -v relay_password="$relay_password" <<'SQL'
CREATE ROLE :"owner" LOGIN NOSUPERUSER PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER PASSWORD :'app_password';
CREATE ROLE :"relay" LOGIN NOSUPERUSER BYPASSRLS PASSWORD :'relay_password';
CREATE DATABASE :"database" OWNER :"owner";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"app", :"relay";
SQL
done
