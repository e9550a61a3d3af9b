#!/bin/bash
# demo.sh - the live demo: a live audio pipeline watched by the apm tracer and
# two apmonitor checkpoints.  Prints the URLs; runs until Ctrl-C.
# Env: APM_PORT (default 9464), APM_ADDRESS (default 127.0.0.1),
#      DEMO_SINK (default: autoaudiosink if a sound device works, else fakesink)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export GST_PLUGIN_PATH=$PWD/build/gst-plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
PORT=${APM_PORT:-9464}
ADDRESS=${APM_ADDRESS:-127.0.0.1}

if [ -z "${DEMO_SINK:-}" ]; then
  DEMO_SINK="fakesink sync=true"
  if { [ -e /dev/snd ] || [ -n "${PULSE_SERVER:-}" ] || [ -S "${XDG_RUNTIME_DIR:-/nonexistent}/pulse/native" ]; } &&
     timeout 5 gst-launch-1.0 -q audiotestsrc num-buffers=2 volume=0 ! autoaudiosink >/dev/null 2>&1; then
    DEMO_SINK=autoaudiosink
  fi
fi

URL="http://$ADDRESS:$PORT"
[ "$PORT" = 0 ] && URL="(a free port, printed below)"
cat <<MSG
gst-apm demo: sink '$DEMO_SINK'
  dashboard:  $URL/monitoring/dashboard
  metrics:    $URL/metrics
  health:     $URL/health/monitoring
Press Ctrl-C to stop.
MSG

export GST_TRACERS="apm(port=$PORT,address=$ADDRESS)"
# shellcheck disable=SC2086
exec gst-launch-1.0 -e \
  audiotestsrc is-live=true wave=sine freq=440 volume=0.5 \
  ! audio/x-raw,format=S16LE,rate=48000,channels=2 \
  ! apmonitor name=capture \
  ! audioconvert ! volume volume=0.8 ! queue \
  ! apmonitor name=output \
  ! $DEMO_SINK
