#!/usr/bin/env bash
# npm test: the whole suite on a fresh machine. Installs Debian's Chromium if
# it is missing, builds the models and the app, then runs the unit and
# integration tests (vitest) and the browser tests (Playwright), and ends
# with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null || { echo "could not install chromium"; exit 1; }
fi

set -e
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
