#!/usr/bin/env bash
# npm test: the whole suite on a fresh machine. Installs Debian's Chromium if
# it is missing, typechecks each project, lints and checks formatting, builds the models and the app,
# then runs the unit and integration tests (vitest, with a local PostgreSQL
# for the storage suites) and the browser tests (Playwright), and ends with
# one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null || { echo "could not install chromium"; exit 1; }
fi

# nginx (Debian's nginx-light) for the cluster's config check here and for
# `npm run test:cluster`, which .ci/run runs after this.
if [ ! -x /usr/sbin/nginx ]; then
  echo "Installing Debian's nginx-light for the cluster tests…"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null || { echo "could not install nginx-light"; exit 1; }
fi

# PostgreSQL for the server's storage tests (they run on SQLite and on
# PostgreSQL). As root, start a local one; otherwise the caller provides it.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if [ "$(id -u)" = 0 ]; then
    TEST_DATABASE_URL=$(bash scripts/pg-test-setup.sh | tail -n1) || { echo "could not set up PostgreSQL for the tests"; exit 1; }
    export TEST_DATABASE_URL
  else
    echo "TEST_DATABASE_URL is not set: run \`sudo bash scripts/pg-test-setup.sh\` and export the URL it prints"
    exit 1
  fi
fi

set -e
# The split typecheck first (tsconfig.json: core, worker, page, node,
# harness): a core module using a browser or Node global fails here, before
# minutes of builds.
npm run -s typecheck
# Then the linter (type-aware: promises nobody handles, unused code) and the
# formatter's check, also before the builds; either failing fails npm test.
npm run -s lint
npm run -s format:check
npm run -s models:build
npm run -s build
set +e
mkdir -p reports

npx vitest run --reporter=default --reporter=json --outputFile=reports/vitest.json
unit=$?
npx playwright test
e2e=$?

node scripts/test-summary.mjs reports/vitest.json reports/playwright.json
[ $unit -eq 0 ] && [ $e2e -eq 0 ]
