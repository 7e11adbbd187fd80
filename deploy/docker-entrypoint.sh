#!/bin/sh
# The image's entrypoint: `ekinerja SERVICE KIND [ARGS...]` runs one process of one service.
#   KIND web                      gunicorn on $GUNICORN_BIND (default 0.0.0.0:8000)
#   KIND migrate|relay|consume    python -m SERVICE KIND (relay/consume serve /metrics on $METRICS_PORT)
#   any other KIND                python -m SERVICE KIND ARGS (e.g. identity create-admin admin)
set -eu

usage() {
  echo "usage: ekinerja identity|organization|activity|approval|payroll web|migrate|relay|consume|COMMAND [ARGS...]" >&2
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

if [ "$kind" = web ]; then
  # Metric files left by an earlier run of this container would be added to this run's numbers.
  dir=${PROMETHEUS_MULTIPROC_DIR:?PROMETHEUS_MULTIPROC_DIR must be set for the web process}
  rm -rf "$dir"
  mkdir -p "$dir"
  # --no-control-socket: gunicorn would otherwise try to create $HOME/.gunicorn, and the image's
  # user may not write its home; the container runtime is what stops and restarts this process.
  exec gunicorn -c python:ekinerja_common.gunicorn_conf --no-control-socket "$service.app:create_app()" "$@"
fi
exec python -m "$service" "$kind" "$@"
