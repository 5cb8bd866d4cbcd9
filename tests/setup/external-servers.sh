#!/usr/bin/env bash
# The external servers `make test-pg15` runs the suites against: the machine's PostgreSQL 15 and
# Redis 7 on loopback. Machines of this kind start both at boot; this starts them if they are down.
set -uo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster 15 main start || true
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes >/dev/null || true
fi
exit 0
