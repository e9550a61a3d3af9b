# gst-apm e2e tests: shared shell helpers (sourced, not run).
# Exit 77 means "skipped" to meson.
set -u -o pipefail

# a whitelist would hide our plugin; a tracer from the caller's environment
# would change what we test
unset GST_PLUGIN_LOADING_WHITELIST GST_TRACERS

E2E_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/apm-$E2E_NAME.XXXXXX")
BG_PIDS=()

cleanup() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "[$E2E_NAME] $*"; }

fail() {
  echo "[$E2E_NAME] FAIL: $*" >&2
  exit 1
}

# dump_files FILE...: show captured output, to explain a failure
dump_files() {
  local f
  for f in "$@"; do
    echo "----- $f" >&2
    tail -n 40 "$f" >&2 2>/dev/null
  done
}

require() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not found"; exit 77; }
  done
}

# now_ms: monotonic enough for deadlines
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# alive PID: the process exists and is not a zombie
alive() {
  [ -r "/proc/$1/status" ] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# wait_exit PID TIMEOUT_S: waits (polling, bounded) for PID to end and
# reaps it; sets EXIT_STATUS.  Returns 1 on timeout.
wait_exit() {
  local pid=$1 deadline=$(( $(now_ms) + $2 * 1000 ))
  while alive "$pid"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
  wait "$pid"
  EXIT_STATUS=$?
  return 0
}

# free_port: a TCP port that was free a moment ago on 127.0.0.1
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# launch NAME TRACERS gst-launch-args...: runs gst-launch-1.0 -m to the end
# (bounded by timeout) with GST_TRACERS=TRACERS; output in $WORK/NAME.out
# and $WORK/NAME.err, exit status in LAUNCH_STATUS
launch() {
  local name=$1 tracers=$2
  shift 2
  GST_TRACERS=$tracers timeout -s KILL 30 gst-launch-1.0 -m "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err"
  LAUNCH_STATUS=$?
}

# assert_eos NAME: the launch ended with status 0 after EOS
assert_eos() {
  local name=$1
  if [ "$LAUNCH_STATUS" -ne 0 ]; then
    dump_files "$WORK/$name.out" "$WORK/$name.err"
    fail "$name: gst-launch-1.0 exited with status $LAUNCH_STATUS"
  fi
  if ! grep -q '^Got EOS from element "pipeline0"' "$WORK/$name.out"; then
    dump_files "$WORK/$name.out" "$WORK/$name.err"
    fail "$name: no EOS"
  fi
}

# assert_grep NAME FILE-SUFFIX ERE WHAT: a line of $WORK/NAME.SUFFIX matches
assert_grep() {
  if ! grep -Eq -- "$3" "$WORK/$1.$2"; then
    dump_files "$WORK/$1.out" "$WORK/$1.err"
    fail "$1: $4 (no line matching /$3/ in std${2})"
  fi
}

# assert_no_grep NAME FILE-SUFFIX ERE WHAT
assert_no_grep() {
  if grep -Eq -- "$3" "$WORK/$1.$2"; then
    dump_files "$WORK/$1.out" "$WORK/$1.err"
    fail "$1: $4 (a line matches /$3/ in std${2})"
  fi
}

# every e2e test needs our plugin: say so clearly when it is not found
require gst-inspect-1.0 gst-launch-1.0
gst-inspect-1.0 apmonitor >/dev/null 2>&1 ||
  fail "the apm plugin is not found (GST_PLUGIN_PATH_1_0=${GST_PLUGIN_PATH_1_0:-unset})"
