#!/usr/bin/env bash
# The README's test command: installs and starts what the tests need (PostgreSQL, RabbitMQ,
# nginx, Chromium, the Python packages), then runs every test: unit, integration, end-to-end,
# browser. Extra arguments go to pytest (e.g. ./test.sh -k payroll).
set -euo pipefail
cd "$(dirname "$0")"
deploy/local/bootstrap.sh test
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
