#!/usr/bin/env bash
# Start PostgreSQL and Redis on 127.0.0.1 if they are not running (installing them, and
# libmagic, if absent).
# The same commands are in the README's development section.
set -euo pipefail

need_install=()
command -v pg_ctlcluster >/dev/null || need_install+=(postgresql)
command -v redis-server >/dev/null || need_install+=(redis-server)
# libmagic: uploads are typed by their bytes (python-magic loads libmagic.so.1).
ldconfig -p | grep 'libmagic\.so\.1 ' >/dev/null || need_install+=(libmagic1)
if [ ${#need_install[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}"
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "PostgreSQL or Redis did not come up" >&2
exit 1
