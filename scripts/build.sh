#!/usr/bin/env bash
# build.sh DIR [release|asan|tsan|fuzz]: configure (once) and build one build tree (or only the
# targets named in BUILD_TARGETS).
#   release  gcc, debugoptimized: the binaries `plateau serve` runs and the main test run.
#   asan     clang, ASan+UBSan: the tests and the libFuzzer targets in one tree (every library is
#            built once, with coverage for libFuzzer; the tests link the same objects).
#   tsan     clang, ThreadSanitizer, tests.
#   fuzz     clang, ASan+UBSan, libFuzzer targets only (no tests): quicker when only fuzzing.
# Every clang build also checks the locking annotations (-Wthread-safety).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
kind=${2:-release}
if [ ! -f "$dir/build.ninja" ]; then
  case "$kind" in
    release) meson setup "$dir" --buildtype=debugoptimized ;;
    # The sanitizer trees compile at -O1 with line tables only (what a symbolised report needs):
    # less compile and link time than debugoptimized, which keeps the test command in its budget.
    asan) CXX=clang++ CC=clang meson setup "$dir" --buildtype=plain \
            -Dcpp_args="-O1 -gline-tables-only" -Dfuzz=true -Db_lundef=false -Dbench=false ;;
    tsan) CXX=clang++ CC=clang meson setup "$dir" --buildtype=plain \
            -Dcpp_args="-O1 -gline-tables-only" -Db_sanitize=thread -Db_lundef=false \
            -Dbench=false ;;
    fuzz) CXX=clang++ CC=clang meson setup "$dir" --buildtype=debugoptimized -Dfuzz=true \
            -Db_lundef=false -Dtests=false -Dbench=false ;;
    *) echo "build.sh: unknown kind $kind" >&2; exit 2 ;;
  esac
fi
# BUILD_TARGETS (space-separated ninja targets) builds only those; default everything.
# shellcheck disable=SC2086
ninja -C "$dir" ${BUILD_TARGETS:-}
