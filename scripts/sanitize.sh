#!/usr/bin/env bash
# sanitize.sh [tsan|asan|all]: the threaded suites under the sanitizers, separate from the test
# command until they have a clean record (see the closing note of issue 9 / docs/architecture.md):
#   tsan  clang ThreadSanitizer build (build-tsan): integration, media, and the unit suites of the
#         Switchboard, the conference and the transport;
#   asan  gcc ASan+UBSan build (build-asan, the test command's tree): integration and media (the
#         test command itself runs the unit suite there).
# Suppressions (GLib/GStreamer internals only, each with its reason): tests/sanitizers/.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
san=$PWD/tests/sanitizers
rc=0
if [ "$what" = tsan ] || [ "$what" = all ]; then
  bash scripts/build.sh build-tsan tsan || exit 1
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$san/tsan.supp" \
    meson test -C build-tsan --suite integration --suite media \
      signaling_unit mcu_conference_unit mcu_net_unit terminal_cli_unit \
      --print-errorlogs --num-processes 1 --timeout-multiplier 4 || rc=1
fi
if [ "$what" = asan ] || [ "$what" = all ]; then
  bash scripts/build.sh build-asan asan || exit 1
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$san/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --suite integration --suite media \
      --print-errorlogs --num-processes 1 --timeout-multiplier 3 || rc=1
fi
exit $rc
