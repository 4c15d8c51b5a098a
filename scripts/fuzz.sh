#!/usr/bin/env bash
# fuzz.sh BUILD_DIR SECONDS: runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each,
# starting from the kept corpus and crash regressions in fuzz/corpus/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
secs=$2
shopt -s nullglob
targets=("$dir"/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets built in $dir/fuzz" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  [ -f "$t" ] && [ -x "$t" ] || continue
  name=$(basename "$t")
  seeds="fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d)
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
  [ "$name" = fuzz_config ] && cp configs/*.toml "$work"/
  echo "fuzz: $name for ${secs}s"
  "$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=0 "$work" 2>&1 | tail -3
  rm -rf "$work"
done
