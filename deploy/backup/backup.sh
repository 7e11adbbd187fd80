#!/bin/bash
# Back up E-Kinerja: every service's database (pg_dump, custom format) and the evidence files,
# into DEST (a new folder), with SHA256SUMS and a MANIFEST. Restore with restore.sh.
#
#   deploy/backup/backup.sh DEST
#
# Where the data is (defaults suit the `backup` container of docker-compose.yml):
#   <SERVICE>_PG_URI   libpq URI of a service's database (default: database <prefix><service> through
#                      PGHOST/PGPORT/PGUSER/PGPASSWORD, prefix EKINERJA_DB_PREFIX)
#   EVIDENCE_DIRS      "name=folder ..." of file stores (default: activity=/data/activity
#                      approval=/data/approval, the services' data volumes)
# A dump is consistent per database (pg_dump takes one snapshot); across databases the events
# make up for the seconds between dumps (an event published after one dump and before the next is
# in the outbox of the first and re-sent after a restore; consumers ignore what they already have).
set -euo pipefail

dest=${1:?usage: backup.sh DEST}
[ ! -e "$dest" ] || { echo "backup.sh: $dest exists; give a new folder" >&2; exit 2; }
mkdir -p "$dest"
services="identity organization activity approval payroll"
evidence=${EVIDENCE_DIRS:-activity=/data/activity approval=/data/approval}

uri_of() {
  local var
  var="$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_PG_URI"
  printf '%s' "${!var:-${EKINERJA_DB_PREFIX:-}$1}"
}

{
  echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "pg_dump: $(pg_dump --version)"
} > "$dest/MANIFEST"
for s in $services; do
  pg_dump --dbname="$(uri_of "$s")" --format=custom --compress=6 --no-owner --no-privileges --file="$dest/$s.dump"
  # The schema revision travels with the data: restore refuses code that is older.
  rev=$(psql --dbname="$(uri_of "$s")" -XAtc "SELECT version_num FROM ${s}_alembic_version" 2>/dev/null || echo "?")
  echo "database $s: revision $rev" >> "$dest/MANIFEST"
done
for pair in $evidence; do
  name=${pair%%=*}
  dir=${pair#*=}
  if [ -d "$dir" ]; then
    tar -C "$dir" -czf "$dest/files-$name.tar.gz" .
    echo "files $name: $(find "$dir" -type f | wc -l) files from $dir" >> "$dest/MANIFEST"
  else
    echo "files $name: $dir does not exist (nothing uploaded yet)" >> "$dest/MANIFEST"
  fi
done
(cd "$dest" && sha256sum -- *.dump files-*.tar.gz MANIFEST 2>/dev/null > SHA256SUMS)
echo "backup in $dest:"
cat "$dest/MANIFEST"
