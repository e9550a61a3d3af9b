#!/bin/bash
# setup.sh - install what gst-apm needs on Debian 12 and build it into build/.
# Installs only missing packages (apt-get update once, non-interactive).
# Usage: scripts/setup.sh [--tests]   (--tests adds the test-suite tools)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libsoup-3.0-dev libjson-glib-dev
  # run: gst-launch-1.0 and the elements of the demo and the tests
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  python3 curl
)
if [ "${1:-}" = --tests ]; then
  PKGS+=(valgrind)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
