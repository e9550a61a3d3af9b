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
  gstreamer1.0-plugins-base-apps
  python3 curl
)
TESTS=0
if [ "${1:-}" = --tests ]; then
  TESTS=1
  # valgrind (with vgdb) and sanitizers, a real Prometheus and promtool,
  # headless Chromium with Node for the browser and WebSocket tests,
  # PyGObject, gdb (a test past its deadline prints the backtraces of the
  # stuck process's threads: tests/check/apmtestdeadline.c, tests/e2e/lib.sh)
  PKGS+=(valgrind clang libclang-rt-14-dev prometheus chromium gdb
    python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
    python3-prometheus-client
    gobject-introspection libgirepository1.0-dev wrk
    # tier 4: apt-get source needs dpkg-source, each program runs in its own
    # network namespace (ip); tier 5: the Debian 13 and unstable roots;
    # pgrep in the end-to-end tests
    dpkg-dev iproute2 mmdebstrap debian-archive-keyring procps)
  # Node may come from another packaging that bundles npm (and conflicts
  # with Debian's npm): ask for them only when the commands are missing
  command -v node >/dev/null || PKGS+=(nodejs)
  command -v npm >/dev/null || PKGS+=(npm)
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

# again when the lock file changed since (a new package: the OTLP tests'
# @opentelemetry/otlp-transformer)
if [ $TESTS = 1 ] && [ -f tests/e2e/package-lock.json ] &&
   { [ ! -d tests/e2e/node_modules ] ||
     [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; }; then
  (cd tests/e2e && npm ci --no-audit --no-fund --silent)
fi

if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
