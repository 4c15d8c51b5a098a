#!/bin/sh
# Runs the Playwright browser test in a fresh network namespace with only loopback, so the
# browser, the server and the reference terminals can reach nothing but each other.
#   tests/browser/run.sh        (meson test --suite browser sets PLATEAU_BIN and PLATEAU_SOURCE_ROOT)
# Needs Debian's chromium and `npm ci` done in tests/browser (scripts/test.sh does it). As root
# (the test command in CI) the namespace is `unshare -n`; as another user, a user namespace maps
# that user to root in it (`unshare -r -n`, unprivileged user namespaces: on in Debian 12). The
# test never skips: where no namespace can be made, it fails and says why.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
  ns="unshare -n"
elif unshare -r -n true 2>/dev/null; then
  ns="unshare -r -n"
else
  echo "FAIL: the browser test needs a network namespace: run it as root, or enable unprivileged" \
    "user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0)" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "FAIL: playwright-core is not installed: run 'npm ci' in $here (scripts/test.sh does)" >&2
  exit 1
fi
exec $ns sh -c 'ip link set lo up && exec node --test --test-reporter=spec "$0"' \
  "$here/terminal.test.mjs"
