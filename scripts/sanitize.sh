#!/usr/bin/env bash
# sanitize.sh asan|tsan [meson test args...]: build one sanitizer tree and run the suites where the
# threads are under it (the test command runs both; see README):
#   asan  clang ASan+UBSan (build-asan, which also holds the fuzz targets): unit, integration and
#         media suites, leak detection on;
#   tsan  clang ThreadSanitizer (build-tsan): the threaded suites (listed below).
# Not run under either: terminal_load (65 terminals for a minute: a capacity test, meaningless at a
# sanitizer's 5-15x slowdown; its code paths are the media suites'), browser_terminal (Chromium is
# not instrumented; the server side of WebRTC is covered by webrtc_session and mixed_venues) and
# bench_smoke (a benchmark's smoke run).
#
# GLib and GStreamer come from Debian, uninstrumented. Two settings keep their internals from
# drowning our own races, and neither hides an access made by Plateau's code:
#   G_SLICE=always-malloc  GLib 2.74's slice allocator recycles GstBuffers and GstEvents through
#       per-thread magazines whose locks are raw futexes the sanitizers cannot see; with it every
#       slice is a malloc/free the sanitizers intercept (ASan then also catches use-after-free of a
#       GstBuffer, which the magazines would hide).
#   ignore_noninstrumented_modules=1 (TSan)  accesses made inside GLib/GStreamer's own code (through
#       intercepted calls such as memcpy or pthread_rwlock_rdlock) are not checked; GMutex is a
#       futex TSan cannot see, so without it every GStreamer object lock is a false report.
# Suppressions (libraries we do not build only, each with its reason): tests/sanitizers/.
# Extra arguments go to `meson test` (e.g. a suite or test name to run only that).
set -uo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: sanitize.sh asan|tsan [meson test args...]}
shift
san=$PWD/tests/sanitizers
# The threaded suites TSan runs: everything with more than one thread of ours (the engine, the
# transport, the listener, the Switchboard and its media executor, WebRTC legs, the terminals).
# The single-threaded unit suites (domain, parsers, layouts, packetizers) gain nothing from TSan
# and are not even built in its tree; ASan runs them all.
tsan_tests=(integration scheduler_service_api srtp_shared_kernel mcu_net_integration mcu_audio
  mcu_media mcu_conference signaling_unit signaling_integration signaling_media
  terminal_cli_integration terminal_cli_media terminal_cli_file webrtc_session mixed_venues)
case "$kind" in
  asan)
    bash scripts/build.sh build-asan asan || exit 1  # everything: the fuzz targets run from it too
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0
    export LSAN_OPTIONS=suppressions=$san/lsan.supp:print_suppressions=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$san/ubsan.supp
    mult=3
    export PLATEAU_TEST_SLACK=3  # tests/support/slack.hpp
    ;;
  tsan)
    BUILD_TARGETS=plateau/plateau bash scripts/build.sh build-tsan tsan || exit 1
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 ignore_noninstrumented_modules=1 suppressions=$san/tsan.supp"
    mult=5
    export PLATEAU_TEST_SLACK=5
    ;;
  *) echo "sanitize.sh: unknown kind $kind (asan|tsan)" >&2; exit 2 ;;
esac
export G_SLICE=always-malloc
dir=build-$kind
if [ $# -eq 0 ]; then
  if [ "$kind" = tsan ]; then
    set -- "${tsan_tests[@]}"
  else
    # Every test of the tree but the three named above.
    mapfile -t tests < <(meson test -C "$dir" --list --no-rebuild 2>/dev/null |
      awk -F' / ' '{print $2}' | grep -vxE 'terminal_load|browser_terminal|bench_smoke')
    [ ${#tests[@]} -gt 0 ] || { echo "sanitize.sh: no tests listed in $dir" >&2; exit 1; }
    set -- "${tests[@]}"
  fi
fi
if [ "$kind" = tsan ]; then
  # Build just the executables of the tests asked for (meson test --no-rebuild below).
  targets=$(meson introspect "$dir" --tests | python3 -c '
import json, os, sys
want = set(sys.argv[2:])
root = os.path.realpath(sys.argv[1])
for t in json.load(sys.stdin):
    exe = os.path.realpath(t["cmd"][0])
    if t["name"] in want and exe.startswith(root + "/"):
        print(os.path.relpath(exe, root))
' "$dir" "$@")
  BUILD_TARGETS="$targets" bash scripts/build.sh "$dir" tsan || exit 1
fi
exec meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 1 \
  --timeout-multiplier "$mult" "$@"
