#!/usr/bin/env bash
# build.sh DIR [release|asan|tsan|fuzz]: configure (once) and build one build tree.
#   release  gcc, debugoptimized: the binaries `plateau serve` runs and the main test run.
#   asan     gcc, ASan+UBSan, tests.
#   tsan     clang, ThreadSanitizer, tests (scripts/sanitize.sh); clang also checks the locking
#            annotations (-Wthread-safety, as in every clang build).
#   fuzz     clang, ASan+UBSan, libFuzzer targets only (no tests).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
kind=${2:-release}
if [ ! -f "$dir/build.ninja" ]; then
  case "$kind" in
    release) meson setup "$dir" --buildtype=debugoptimized ;;
    asan) meson setup "$dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
            -Dbench=false ;;
    tsan) CXX=clang++ CC=clang meson setup "$dir" --buildtype=debugoptimized \
            -Db_sanitize=thread -Db_lundef=false -Dbench=false ;;
    fuzz) CXX=clang++ CC=clang meson setup "$dir" --buildtype=debugoptimized -Dfuzz=true \
            -Db_lundef=false -Dtests=false -Dbench=false ;;
    *) echo "build.sh: unknown kind $kind" >&2; exit 2 ;;
  esac
fi
ninja -C "$dir"
