#!/usr/bin/env bash
# Command 2 of 2: set up everything on a fresh Debian 12 machine, build, and run every test:
#   1. the release build's full suite (unit, integration, media, browser, load: 65 terminals in one
#      conference for a minute);
#   2. the unit suite again under ASan+UBSan;
#   3. every fuzz target for a bounded time (clang + libFuzzer).
# Prints "N passed, N failed" at the end; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
# The browser test's Playwright driver (playwright-core from npm, pinned by package-lock.json;
# it drives Debian's chromium, it downloads no browser).
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund) || exit 1
fi

passed=0
failed=0
step() {
  local name=$1
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok"
  else
    failed=$((failed + 1))
    echo "=== $name: FAILED"
  fi
}

step "build (release)" bash scripts/build.sh build release
step "tests (release)" meson test -C build --print-errorlogs --num-processes 1
step "build (asan+ubsan)" bash scripts/build.sh build-asan asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
step "tests (asan+ubsan, unit)" meson test -C build-asan --suite unit --print-errorlogs
step "build (fuzz)" bash scripts/build.sh build-fuzz fuzz
step "fuzz (bounded)" bash scripts/fuzz.sh build-fuzz "${PLATEAU_FUZZ_SECONDS:-20}"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
