#!/bin/sh
# The image's entrypoint: `ekinerja SERVICE KIND [ARGS...]` runs one process of one service.
#   KIND web                      gunicorn on $GUNICORN_BIND (default 0.0.0.0:8000)
#   KIND migrate|relay|consume    python -m SERVICE KIND (relay/consume serve /metrics, /healthz and
#                                 /readyz on $METRICS_PORT)
#   KIND schedule                 the service's scheduled jobs (ekinerja_common.schedule), as cron would
#   any other KIND                python -m SERVICE KIND ARGS (e.g. identity create-admin admin)
#
# Secrets mounted as files (compose secrets, k8s secret volumes) are read from <NAME>_FILE into
# <NAME> for the variables listed below, so they never have to sit in the container's environment
# definition.
set -eu

usage() {
  echo "usage: ekinerja identity|organization|activity|approval|payroll web|migrate|relay|consume|schedule|COMMAND [ARGS...]" >&2
  exit 64
}

[ "$#" -ge 2 ] || usage
service=$1
kind=$2
shift 2
case "$service" in
  identity|organization|activity|approval|payroll) ;;
  *) usage ;;
esac

for name in IDENTITY_KEY_PASSPHRASE EKINERJA_ADMIN_PASSWORD; do
  file=$(eval "printf '%s' \"\${${name}_FILE:-}\"")
  if [ -n "$file" ]; then
    [ -r "$file" ] || { echo "ekinerja: ${name}_FILE=$file is not readable" >&2; exit 78; }
    value=$(cat "$file")
    export "$name=$value"
    unset "${name}_FILE"
  fi
done

# The data directory is a volume; say so plainly instead of failing later on the first upload.
data=${EKINERJA_DATA_DIR:-}
if [ -n "$data" ] && [ "$kind" != migrate ]; then
  mkdir -p "$data" 2>/dev/null || true
  [ -w "$data" ] || echo "ekinerja: warning: EKINERJA_DATA_DIR=$data is not writable by uid $(id -u)" >&2
fi

if [ "$kind" = web ]; then
  # Metric files left by an earlier run of this container would be added to this run's numbers.
  dir=${PROMETHEUS_MULTIPROC_DIR:?PROMETHEUS_MULTIPROC_DIR must be set for the web process}
  rm -rf "$dir"
  mkdir -p "$dir"
  # --no-control-socket: gunicorn would otherwise try to create $HOME/.gunicorn, and the image's
  # user may not write its home; the container runtime is what stops and restarts this process.
  exec gunicorn -c python:ekinerja_common.gunicorn_conf --no-control-socket "$service.app:create_app()" "$@"
fi

# Every other kind is one process with its own metrics registry. Multiprocess mode is for
# gunicorn's workers only: in a relay or consumer it would write metric files into a directory
# nobody created (the relay crashed on its first metric update; the consumer, whose OSError looks
# like a broker failure, reconnected after every message) and lose the process metrics.
unset PROMETHEUS_MULTIPROC_DIR
if [ "$kind" = schedule ]; then
  exec python -m ekinerja_common.schedule "$service" "$@"
fi
exec python -m "$service" "$kind" "$@"
