#!/bin/sh
# The container's entry point: `slotoptim` with the given command (default: run).
#
# ECS injects the Redis auth token from Secrets Manager as its own variable, never inside the task
# definition; redis-py wants one URL, so it is put together here. The token is generated without
# punctuation (infra/cdk), so it needs no escaping. The database needs no such step: libpq reads
# PGHOST, PGUSER, PGPASSWORD, PGSSLMODE... itself, and DATABASE_URL names only the database.
set -eu
if [ -z "${REDIS_URL:-}" ] && [ -n "${REDIS_HOST:-}" ]; then
  REDIS_URL="rediss://:${REDIS_AUTH_TOKEN:?REDIS_AUTH_TOKEN must be set with REDIS_HOST}@${REDIS_HOST}:${REDIS_PORT:-6379}/0"
  export REDIS_URL
fi
exec slotoptim "$@"
