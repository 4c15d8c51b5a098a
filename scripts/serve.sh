#!/usr/bin/env bash
# Command 1 of 2: set up everything on a fresh Debian 12 machine and run the server on the Qinghai
# topology with the embedded default store (SQLite under ./data). Extra arguments go to
# `plateau serve`, e.g. `scripts/serve.sh --listen 127.0.0.1:9000`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build release
exec build/plateau/plateau serve --config configs/qinghai.toml --data data "$@"
