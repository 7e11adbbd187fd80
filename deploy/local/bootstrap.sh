#!/usr/bin/env bash
# Make this Debian machine able to run and test E-Kinerja: OS packages that are missing get
# installed, the broker and database get started if they are not running, and the Python
# virtualenv (.venv) gets every pinned dependency plus the project's own packages.
#
#   deploy/local/bootstrap.sh run    # what ./run.sh needs: RabbitMQ, nginx
#   deploy/local/bootstrap.sh test   # what ./test.sh needs: + PostgreSQL, Chromium, docker-compose
#                                    # (its `config` check needs no engine), promtool/prometheus/amtool
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have python3 || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
have nginx || need+=(nginx)
have rabbitmq-server || need+=(rabbitmq-server)
if [ "$mode" = test ]; then
  have pg_ctlcluster || need+=(postgresql)
  have chromium || need+=(chromium)
  have docker-compose || need+=(docker-compose)
  # kustomize (inside kubectl) renders deploy/k8s in the tests; Debian's own archive has no
  # kubectl, so it comes from whatever apt source the machine has for it.
  if ! have kubectl && ! have kustomize && apt-cache show kubectl >/dev/null 2>&1; then need+=(kubectl); fi
fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# Debian starts nginx on port 80 after installing it; the project runs its own instance.

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5672; then
  say "starting RabbitMQ"
  as_root rabbitmq-server -detached || true
  for _ in $(seq 1 60); do port_open 5672 && break; sleep 1; done
  port_open 5672 || { say "RabbitMQ did not start"; exit 1; }
fi

# RabbitMQ's own /metrics (port 15692) for the local stack's Prometheus (deploy/prometheus/
# prometheus.local.yml). Only for ./run.sh: the tests' brokers enable it themselves.
if [ "$mode" = run ] && ! port_open 15692; then
  as_root rabbitmq-plugins enable --quiet rabbitmq_prometheus >/dev/null 2>&1 \
    || say "could not enable rabbitmq_prometheus; the broker's metrics stay off"
fi

if [ "$mode" = test ] && ! port_open 5432; then
  say "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
  port_open 5432 || { say "PostgreSQL did not start"; exit 1; }
fi
if [ "$mode" = test ]; then
  # Tests connect as postgres over TCP without a password (trust on 127.0.0.1 in CI machines);
  # where the cluster asks for one, EKINERJA_TEST_PG carries the URL instead.
  :
fi

# Run time needs requirements.txt (what the image installs); tests add their tools on top.
reqs=requirements.txt
[ "$mode" = test ] && reqs=requirements-test.txt
stamp=.venv/.installed
want=$(cat "$reqs" requirements.txt constraints.txt libs/pyproject.toml services/*/pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python dependencies into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$reqs"
  editable=(-e libs)
  for s in services/*/; do editable+=(-e "$s"); done
  .venv/bin/pip install -q --disable-pip-version-check -c constraints.txt --no-deps "${editable[@]}"
  echo "$want" > "$stamp"
fi

# Prometheus' promtool (rule checks and rule unit tests), the server and the nginx exporter (the
# end-to-end test scrapes the stack with them) and Alertmanager's amtool (config check), from
# Debian's packages. Only the binaries are unpacked into .venv/bin: installing the packages would
# start system daemons.
if [ "$mode" = test ]; then
  tools=(promtool prometheus amtool prometheus-nginx-exporter)
  missing=0
  for t in "${tools[@]}"; do [ -x ".venv/bin/$t" ] || missing=1; done
  if [ "$missing" = 1 ]; then
    say "unpacking promtool, prometheus, amtool and the nginx exporter from Debian's packages into .venv/bin"
    tmp=$(mktemp -d)
    chmod 0755 "$tmp"  # apt's download user must be able to write there
    debs="prometheus prometheus-alertmanager prometheus-nginx-exporter"
    ( cd "$tmp" && { apt-get download $debs >/dev/null 2>&1 \
        || { as_root apt-get update -q >/dev/null && apt-get download $debs >/dev/null; }; } )
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
    for t in "${tools[@]}"; do install -m 0755 "$tmp/x/usr/bin/$t" ".venv/bin/$t"; done
    rm -rf "$tmp"
  fi
fi
