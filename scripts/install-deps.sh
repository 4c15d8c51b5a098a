#!/usr/bin/env bash
# Installs the Debian 12 packages Plateau builds, runs and tests with. Idempotent:
# packages already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

PKGS=(
  # build
  meson ninja-build pkg-config g++ clang clang-format lld llvm libclang-rt-14-dev
  # core libraries
  libboost1.74-dev libboost-system1.74-dev libssl-dev
  nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libsodium-dev
  # media
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice gstreamer1.0-tools
  libnice-dev libsrtp2-dev libopus-dev libopenh264-dev fonts-noto-cjk
  gstreamer1.0-x  # textoverlay/clockoverlay (Pango) for tile captions and the terminal's clock
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
  gir1.2-soup-3.0  # libsoup's WebSocket for docs/examples/webrtc_venue.py (docs/integrating.md)
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev iproute2 curl
  python3-jsonschema  # docs/signaling/schemas checked against the message corpus
  chromium
)
# Node.js and npm: this machine kind ships them (Node 20, npm 11); Debian's npm conflicts with
# that build, so only fall back to Debian's packages where no npm exists at all.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
