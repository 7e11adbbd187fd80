#!/bin/bash
# First start of the PostgreSQL container (/docker-entrypoint-initdb.d): one database per service,
# each owned by a login role of the same name with its own password (<SERVICE>_DB_PASSWORD), and
# closed to every other role, so no service can read another's data even by mistake.
# EKINERJA_DB_PREFIX (default empty) prefixes the names; the deploy tests use it to run this
# script against a shared PostgreSQL.
set -euo pipefail

prefix=${EKINERJA_DB_PREFIX:-}
for service in identity organization activity approval payroll; do
  var="$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password=${!var:?$var must be set}
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
       --set=name="$prefix$service" --set=password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
