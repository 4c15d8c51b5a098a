#!/usr/bin/env bash
# Command 2 of 2: set up everything on a fresh Debian 12 machine, build, and run every test:
#   1. the release build's full suite (unit, integration, media, browser, load: 65 terminals in one
#      conference for a minute);
#   2. the unit, integration and media suites again under ASan+UBSan (clang, leak detection on),
#      then every fuzz target for a bounded time from the same tree (libFuzzer);
#   3. the threaded suites under ThreadSanitizer (clang).
# The sanitizer runs are scripts/sanitize.sh; suppressions with reasons are in tests/sanitizers/.
# Prints each step's time (min:s) and "N passed, N failed" at the end; exits non-zero if anything failed.
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
timings=()
step() {
  local name=$1 t0=$SECONDS
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok"
  else
    failed=$((failed + 1))
    echo "=== $name: FAILED"
  fi
  local d=$((SECONDS - t0))
  timings+=("$(printf '%3d:%02d  %s' $((d / 60)) $((d % 60)) "$name")")
}

step "build (release)" bash scripts/build.sh build release
step "tests (release)" meson test -C build --print-errorlogs --num-processes 1
step "asan+ubsan (build, unit/integration/media)" bash scripts/sanitize.sh asan
step "fuzz (bounded, asan tree)" bash scripts/fuzz.sh build-asan "${PLATEAU_FUZZ_SECONDS:-10}"
step "tsan (build, threaded suites)" bash scripts/sanitize.sh tsan

printf '%s\n' "${timings[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
