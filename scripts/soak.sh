#!/usr/bin/env bash
# soak.sh [BUILD_DIR]: a 65-venue meeting (16 visible, two tiers) held for an hour, printing the
# resident memory after the warm-up and at the end; exit status 1 if it grew by 5 MB or more.
# Not part of scripts/test.sh (it takes an hour and wants the machine's two cores). Environment:
# MINUTES (default 60), VENUES (65), WARMUP_SECONDS (120), MAX_GROWTH_MB (5), NICE (e.g. 15 on
# a shared machine), JSON (1: print JSON on stdout; progress stays on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=debugoptimized
ninja -C "$build" plateau/plateau
args=(bench soak --venues "${VENUES:-65}" --visible 16 --minutes "${MINUTES:-60}"
      --warmup-seconds "${WARMUP_SECONDS:-120}" --max-growth-mb "${MAX_GROWTH_MB:-5}")
[ "${JSON:-0}" = 1 ] && args+=(--json)
exec nice -n "${NICE:-0}" "$build/plateau/plateau" "${args[@]}"
