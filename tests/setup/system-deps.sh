#!/usr/bin/env bash
# The system parts `make test` needs beyond the virtualenv, installed when missing and checked in
# well under a second when present (so `make test` can always run it):
#   - pgTAP's SQL (Debian's postgresql-15-pgtap; the tests copy it beside the embedded server's
#     extensions, since pgTAP is plain SQL and works on PostgreSQL 18 as well);
#   - Debian's Chromium and its driver, for the claim-page and dashboard browser tests (never a
#     browser downloaded by Playwright);
#   - npm, and axe-core from the npm registry into .axe-cache/ (git-ignored) for the
#     accessibility checks;
#   - with SLOTOPTIM_BENCH_DEPS=1 (`make bench`), Debian's wrk for the API's HTTP load (the bench
#     falls back to a slower Python client without it, and says so).
# Debian packages need root (apt-get); without it the script names the command to run and fails.
# SYSTEM_DEPS_CHECK_ONLY=1 only checks (the same message and exit 1 when something is missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

AXE_DIR=.axe-cache
AXE_JS="$AXE_DIR/node_modules/axe-core/axe.min.js"

missing=()
compgen -G "/usr/share/postgresql/*/extension/pgtap.control" >/dev/null || missing+=(postgresql-15-pgtap)
[ -x "${SLOTOPTIM_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ -n "${SLOTOPTIM_BENCH_DEPS:-}" ] && ! command -v wrk >/dev/null 2>&1; then
  missing+=(wrk)
fi
if [ ! -f "$AXE_JS" ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  command="apt-get update && apt-get install -y ${missing[*]}"
  if [ "$(id -u)" -ne 0 ] || [ -n "${SYSTEM_DEPS_CHECK_ONLY:-}" ]; then
    echo "system-deps: missing ${missing[*]}; as root run: $command" >&2
    exit 1
  fi
  echo "system-deps: installing ${missing[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f "$AXE_JS" ]; then
  echo "system-deps: installing axe-core into $AXE_DIR (npm registry)"
  npm install --prefix "$AXE_DIR" --no-audit --no-fund --no-package-lock --no-update-notifier --loglevel=error axe-core@4 >/dev/null
fi
