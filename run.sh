#!/usr/bin/env bash
# The README's run command: the whole E-Kinerja stack as processes on this machine (SQLite files
# in ./var, the local RabbitMQ, nginx as the gateway on http://127.0.0.1:8080/), demo data seeded
# on the first start and the demo logins printed. Ctrl-C stops every process.
set -euo pipefail
cd "$(dirname "$0")"
deploy/local/bootstrap.sh run
# exec: Ctrl-C and SIGTERM go straight to the runner, which stops the stack in order.
exec .venv/bin/python -m deploy.local.run "$@"
