# bench-lib.sh - shared by bench/load.sh and bench/soak.sh (source it).
#
# Needs: BENCH_WORK (a scratch dir) set before sourcing.  Gives:
#   bench_env              GST_PLUGIN_PATH/GST_REGISTRY from $APM_BUILD_DIR
#                          (default $APM_BUILD_ROOT as meson sets it, else
#                          build/), node and python checks
#   start_target ARGS...   bench/load-target.py in the background; sets
#                          TARGET_PID and URL (fails after 30 s)
#   start_sampler          RSS (kB) of the target each second into
#                          $BENCH_WORK/rss.log: "EPOCH KB PHASE"; kills the
#                          target past RSS_ABORT_MB (default 4096): the
#                          machine matters more than the run
#   start_prober           GET /health with curl every second (-m 10) into
#                          $BENCH_WORK/probe.log: "EPOCH PHASE CODE SECONDS"
#   phase NAME             tags the following samples; logs NAME and start
#   stop_target            SIGTERM, waits for the result line (20 s)
#   step NAME TIMEOUT CMD...  runs CMD bounded, output in $BENCH_WORK/NAME.out,
#                          records "NAME rc" in $BENCH_WORK/steps
# Everything started here is killed on exit (by pid).

APM_BUILD_DIR=${APM_BUILD_DIR:-${APM_BUILD_ROOT:-$PWD/build}}
RSS_ABORT_MB=${RSS_ABORT_MB:-4096}
PY=/usr/bin/python3
BENCH_PIDS=()

bench_cleanup() {
  local p
  for p in "${BENCH_PIDS[@]}"; do
    kill "$p" 2>/dev/null
  done
  [ -n "${TARGET_PID:-}" ] && kill -0 "$TARGET_PID" 2>/dev/null && {
    kill "$TARGET_PID" 2>/dev/null; sleep 1; kill -9 "$TARGET_PID" 2>/dev/null; }
  return 0
}

bench_env() {
  export GST_PLUGIN_PATH=$APM_BUILD_DIR/gst-plugin
  export GST_REGISTRY=$BENCH_WORK/registry.bin
  unset GST_PLUGIN_LOADING_WHITELIST GST_TRACERS GST_DEBUG G_DEBUG
  [ -f "$APM_BUILD_DIR/gst-plugin/libgstapm.so" ] ||
    { echo "bench: no plugin in $APM_BUILD_DIR/gst-plugin: build first" >&2; return 1; }
  command -v node >/dev/null || { echo "bench: node is missing" >&2; return 1; }
  [ -d "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/node_modules/ws" ] ||
    { echo "bench: tests/e2e/node_modules/ws is missing (cd tests/e2e && npm ci)" >&2; return 1; }
  $PY -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null ||
    { echo "bench: python3-gi is missing" >&2; return 1; }
  : >"$BENCH_WORK/steps"
  : >"$BENCH_WORK/phases"
  echo start >"$BENCH_WORK/phase"
}

start_target() {
  local bound=$1; shift
  rm -f "$BENCH_WORK/url"
  # the target bounds itself too (-d), timeout is the last resort
  timeout -k 5 "$bound" $PY bench/load-target.py -d "$((bound - 10))" \
    --url-file "$BENCH_WORK/url" --result "$BENCH_WORK/result.json" \
    --canary-log "$BENCH_WORK/canary.log" "$@" \
    >"$BENCH_WORK/target.out" 2>"$BENCH_WORK/target.err" &
  TARGET_WRAPPER=$!
  BENCH_PIDS+=("$TARGET_WRAPPER")
  local i
  for ((i = 0; i < 300; i++)); do
    [ -s "$BENCH_WORK/url" ] && break
    kill -0 "$TARGET_WRAPPER" 2>/dev/null || break
    sleep 0.1
  done
  URL=$(cat "$BENCH_WORK/url" 2>/dev/null)
  TARGET_PID=$(awk '/^pid /{print $2}' "$BENCH_WORK/target.out")
  if [ -z "$URL" ] || [ -z "$TARGET_PID" ]; then
    echo "bench: the target did not start:" >&2
    tail -5 "$BENCH_WORK/target.err" >&2
    return 1
  fi
}

start_sampler() {
  (
    while kill -0 "$TARGET_PID" 2>/dev/null; do
      kb=$(awk '/^VmRSS/{print $2}' "/proc/$TARGET_PID/status" 2>/dev/null)
      [ -n "$kb" ] || break
      echo "$(date +%s.%N) $kb $(cat "$BENCH_WORK/phase")"
      if [ "$kb" -gt $((RSS_ABORT_MB * 1024)) ]; then
        echo "bench: RSS ${kb} kB over RSS_ABORT_MB=$RSS_ABORT_MB: killing the target" >&2
        echo "$(date +%s.%N) $kb ABORTED" >>"$BENCH_WORK/aborted"
        kill "$TARGET_PID"
        break
      fi
      sleep 1
    done
  ) >"$BENCH_WORK/rss.log" &
  BENCH_PIDS+=("$!")
}

start_prober() {
  (
    while kill -0 "$TARGET_PID" 2>/dev/null; do
      t=$(date +%s.%N)
      r=$(curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' "$URL/health")
      echo "$t $(cat "$BENCH_WORK/phase") $r"
      sleep 1
    done
  ) >"$BENCH_WORK/probe.log" 2>/dev/null &
  BENCH_PIDS+=("$!")
}

phase() {
  echo "$1" >"$BENCH_WORK/phase"
  echo "$1 $(date +%s.%N)" >>"$BENCH_WORK/phases"
  echo "bench: [$(date +%T)] $1" >&2
}

step() {
  local name=$1 bound=$2; shift 2
  local rc
  timeout -k 5 "$bound" "$@" >"$BENCH_WORK/$name.out" 2>&1
  rc=$?
  [ $rc = 124 ] && echo "(timed out after $bound s)" >>"$BENCH_WORK/$name.out"
  echo "$name $rc" >>"$BENCH_WORK/steps"
  return $rc
}

stop_target() {
  phase stop
  kill -0 "$TARGET_PID" 2>/dev/null && kill -TERM "$TARGET_PID"
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$TARGET_WRAPPER" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$TARGET_WRAPPER" 2>/dev/null && kill "$TARGET_WRAPPER"
  wait "$TARGET_WRAPPER" 2>/dev/null
  return 0
}
