#!/bin/sh
# Runs the Playwright browser test in a fresh network namespace with only loopback, so the
# browser, the server and the reference terminals can reach nothing but each other.
#   tests/browser/run.sh        (meson test --suite browser sets PLATEAU_BIN and PLATEAU_SOURCE_ROOT)
# Needs root (unshare -n), Debian's chromium, and `npm ci` done in tests/browser (scripts/test.sh
# does it). Exit 77 = skipped (meson's convention) when not root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the browser test needs root for its network namespace (unshare -n)"
  exit 77
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "FAIL: playwright-core is not installed: run 'npm ci' in $here (scripts/test.sh does)" >&2
  exit 1
fi
exec unshare -n sh -c 'ip link set lo up && exec node --test --test-reporter=spec "$0"' \
  "$here/terminal.test.mjs"
