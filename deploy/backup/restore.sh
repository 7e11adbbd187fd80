#!/bin/bash
# Restore a backup of backup.sh: checks SHA256SUMS, replaces each service's database content with
# the dump (pg_restore --clean, in one transaction per database) and each file store's content
# with its archive. Stop the web, relay, consumer and scheduler processes first (README, "Restore")
# and start them afterwards; the databases must exist (an empty one is fine, e.g. a new server).
#
#   deploy/backup/restore.sh SRC [SERVICE|files-NAME ...]   # default: everything in SRC
#
# The same variables as backup.sh say where each database and file store is.
set -euo pipefail

src=${1:?usage: restore.sh SRC [SERVICE|files-NAME ...]}
shift
(cd "$src" && sha256sum --quiet -c SHA256SUMS) || { echo "restore.sh: $src fails its checksums; nothing restored" >&2; exit 3; }
evidence=${EVIDENCE_DIRS:-activity=/data/activity approval=/data/approval}
wanted=("$@")

uri_of() {
  local var
  var="$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_PG_URI"
  printf '%s' "${!var:-${EKINERJA_DB_PREFIX:-}$1}"
}
want() {
  [ ${#wanted[@]} -eq 0 ] && return 0
  local w
  for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}

for dump in "$src"/*.dump; do
  s=$(basename "$dump" .dump)
  want "$s" || continue
  pg_restore --dbname="$(uri_of "$s")" --clean --if-exists --no-owner --no-privileges --single-transaction \
             --exit-on-error "$dump"
  echo "restored database $s"
done
for pair in $evidence; do
  name=${pair%%=*}
  dir=${pair#*=}
  archive="$src/files-$name.tar.gz"
  [ -f "$archive" ] && want "files-$name" || continue
  mkdir -p "$dir"
  # Replace, not merge: files uploaded after the backup belong to rows the restore removed.
  find "$dir" -mindepth 1 -delete
  tar -C "$dir" -xzf "$archive"
  echo "restored files $name into $dir"
done
