#!/usr/bin/env bash
# build.sh DIR [release|asan|fuzz]: configure (once) and build one build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
kind=${2:-release}
if [ ! -f "$dir/build.ninja" ]; then
  case "$kind" in
    release) meson setup "$dir" --buildtype=debugoptimized ;;
    asan) meson setup "$dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
            -Dbench=false ;;
    fuzz) CXX=clang++ CC=clang meson setup "$dir" --buildtype=debugoptimized -Dfuzz=true \
            -Db_lundef=false -Dtests=false -Dbench=false ;;
    *) echo "build.sh: unknown kind $kind" >&2; exit 2 ;;
  esac
fi
ninja -C "$dir"
