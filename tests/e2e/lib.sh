# gst-apm e2e tests: shared shell helpers (sourced, not run).
# Exit 77 means "skipped" to meson.
set -u -o pipefail

# a whitelist would hide our plugin; a tracer from the caller's environment
# would change what we test
unset GST_PLUGIN_LOADING_WHITELIST GST_TRACERS

E2E_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/apm-$E2E_NAME.XXXXXX")
BG_PIDS=()
# the test's stderr, for deadline reports from inside redirected commands
exec {E2E_ERR}>&2
E2E_WATCHDOG_PID=

cleanup() {
  local pid expired='' procs
  # a test with errexit on must still clean up all: a killed watchdog's
  # status (137) would otherwise end the trap, and the test, right here
  set +e
  if [ -n "$E2E_WATCHDOG_PID" ]; then
    # past the test's deadline, it is reporting: let it finish (bounded)
    [ ! -e "$WORK/.watchdog" ] || wait_gone "$E2E_WATCHDOG_PID" 60 || true
    kill -KILL "$E2E_WATCHDOG_PID" 2>/dev/null
    wait "$E2E_WATCHDOG_PID" 2>/dev/null
  fi
  # all the test started, listed before a wrapper in BG_PIDS (timeout(1))
  # dies and orphans its command
  procs=$(descendants $$)
  for pid in "${BG_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  for pid in $procs; do
    kill -KILL "$pid" 2>/dev/null
  done
  # a deadline passed (run_with_deadline, the test's): failed, whatever the
  # script concluded
  [ ! -e "$WORK/.deadline" ] || expired=$(cat "$WORK/.deadline")
  rm -rf "$WORK"
  if [ -n "$expired" ]; then
    echo "[$E2E_NAME] FAIL: $expired (a hang: backtraces above)" >&"$E2E_ERR"
    exit 1
  fi
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

# wait_gone PID TIMEOUT_S: waits (polling) until PID has ended, at most
# TIMEOUT_S; returns 1 if it has not
wait_gone() {
  local deadline=$(( $(now_ms) + $2 * 1000 ))
  while alive "$1"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# wait_exit PID TIMEOUT_S: waits (polling, bounded) for PID to end and
# reaps it; sets EXIT_STATUS.  Returns 1 on timeout, after printing the
# backtraces of PID's threads (and of its gst-* descendants') on stderr: a
# process that does not stop is stuck somewhere.
wait_exit() {
  local pid=$1 deadline=$(( $(now_ms) + $2 * 1000 ))
  while alive "$pid"; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      # shellcheck disable=SC2046
      deadline_report "$(proc_cmd "$pid") still running after waiting $2 s for it to exit" \
        "$pid" $(descendants "$pid") >&2
      return 1
    fi
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

# --- deadlines: a hang is a failed test, with the backtraces of what hung ---
#
# Every pipeline has a deadline: a foreground one its own (run_with_deadline),
# a background one the test's.  The test's deadline is APM_TEST_DEADLINE
# seconds (tests/meson.build sets it a quarter below meson's timeout) times
# CK_TIMEOUT_MULTIPLIER; unset (a script run by hand), only the commands'
# own deadlines apply.

# proc_cmd PID: PID's command line, for messages
proc_cmd() {
  local cmd
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || true
  echo "${cmd% }"
}

# descendants PID: the pids of PID's descendants (children first)
descendants() {
  local p stat ppid q out=() queue=("$1")
  local -A kids=()
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    { read -r stat <"/proc/$p/stat"; } 2>/dev/null || continue
    stat=${stat##*) }        # after the command name: "S PPID ..."
    ppid=${stat#* }
    ppid=${ppid%% *}
    kids[$ppid]+=" $p"
  done
  while [ "${#queue[@]}" -gt 0 ]; do
    q=${queue[0]}
    queue=("${queue[@]:1}")
    for p in ${kids[$q]:-}; do
      out+=("$p")
      queue+=("$p")
    done
  done
  echo "${out[@]}"
}

# dump_threads PID: every thread's backtrace of PID on stdout (gdb -p; when
# gdb is missing or cannot attach, each thread's state, kernel wait channel
# and kernel stack from /proc)
dump_threads() {
  local pid=$1 out t
  echo "--- threads of pid $pid: $(proc_cmd "$pid")"
  if command -v gdb >/dev/null 2>&1; then
    out=$(timeout -s KILL 30 gdb -p "$pid" -batch -nx \
      -iex 'set debuginfod enabled off' -ex 'set pagination off' \
      -ex 'thread apply all bt' </dev/null 2>&1) || true
    echo "$out"
    case $out in *$'\n#0 '*) return 0 ;; esac
    echo "(gdb gave no backtrace: ptrace denied?)"
  else
    echo "(no gdb: scripts/setup.sh --tests installs it)"
  fi
  for t in /proc/"$pid"/task/*; do
    [ -d "$t" ] || continue
    echo "thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)):" \
      "$(grep -m1 '^State:' "$t/status" 2>/dev/null | cut -f2)," \
      "waiting in $(cat "$t/wchan" 2>/dev/null)"
    sed 's/^/    /' "$t/stack" 2>/dev/null || true
  done
}

# deadline_report WHAT PID [PID...]: "DEADLINE: $E2E_NAME: WHAT" and the
# backtraces of PID's threads (none if PID is -), then those of the other
# PIDs that are pipelines (gst-*) and a line for each of the rest
deadline_report() {
  local what=$1 pid=$2 p comm
  shift 2
  echo "DEADLINE: $E2E_NAME: $what; thread backtraces follow"
  [ "$pid" = - ] || dump_threads "$pid"
  for p in "$@"; do
    [ -r "/proc/$p/comm" ] || continue
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || true
    case $comm in
      gst-*) dump_threads "$p" ;;
      *) echo "--- pid $p ($(grep -m1 '^State:' "/proc/$p/status" 2>/dev/null | cut -f2)): $(proc_cmd "$p")" ;;
    esac
  done
  echo "--- end of thread backtraces"
}

# run_with_deadline SECONDS CMD...: runs CMD (in the foreground, as far as
# the caller sees: its redirections, its exit status).  Past SECONDS, prints
# the backtraces of CMD's threads (and of its children's) on the test's
# stderr, kills them and fails the test.
run_with_deadline() {
  local secs=$1 pid end stat nap=0.01 rc=0 procs p
  shift
  "$@" {E2E_ERR}>&- &
  pid=$!
  # polled with builtins and growing naps: a short run costs no more than
  # it did under timeout(1)
  end=$(( ${EPOCHREALTIME//[!0-9]/} + secs * 1000000 ))
  while { read -r stat <"/proc/$pid/stat"; } 2>/dev/null &&
      stat=${stat##*) } && [ "${stat:0:1}" != Z ]; do
    if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ]; then
      procs=$(descendants "$pid")
      # shellcheck disable=SC2086
      deadline_report "$* still running after $secs s" "$pid" $procs >&"$E2E_ERR"
      for p in "$pid" $procs; do
        kill -KILL "$p" 2>/dev/null || true
      done
      wait "$pid" 2>/dev/null || true
      echo "$1 still running after $secs s" >"$WORK/.deadline"
      exit 1   # the EXIT trap says why
    fi
    sleep "$nap"
    case $nap in 0.01) nap=0.02 ;; 0.02) nap=0.05 ;; 0.05) nap=0.1 ;; esac
  done
  wait "$pid" || rc=$?
  return "$rc"
}

# The test's deadline: a watchdog that, past it, reports every process the
# test started (backtraces of the pipelines'), kills them and ends the test
# (SIGTERM: its EXIT trap still cleans up) as failed.
E2E_DEADLINE_S=$(( ${APM_TEST_DEADLINE:-0} * ${CK_TIMEOUT_MULTIPLIER:-1} ))
if [ "$E2E_DEADLINE_S" -gt 0 ]; then
  (
    set +e
    trap - EXIT
    end=$(( $(now_ms) + E2E_DEADLINE_S * 1000 ))
    # short sleeps that hold none of meson's pipes (stdio is /dev/null
    # here): once we are killed, nothing of ours delays the end of the test
    while [ "$(now_ms)" -lt "$end" ]; do
      kill -0 $$ 2>/dev/null || exit 0
      sleep 1 {E2E_ERR}>&-
    done
    echo "the test still running after $E2E_DEADLINE_S s" >"$WORK/.deadline"
    : >"$WORK/.watchdog"
    self=$BASHPID
    procs=()
    mine=" $self $(descendants "$self") "
    for p in $(descendants $$); do
      [[ $mine == *" $p "* ]] || procs+=("$p")
    done
    deadline_report "the test ($0) still running after $E2E_DEADLINE_S s" - \
      "${procs[@]}" >&"$E2E_ERR"
    for p in "${procs[@]}"; do
      kill -KILL "$p" 2>/dev/null
    done
    kill -TERM $$
  ) </dev/null >/dev/null 2>&1 &
  E2E_WATCHDOG_PID=$!
fi

# launch NAME TRACERS gst-launch-args...: runs gst-launch-1.0 -m to the end
# (bounded by run_with_deadline) with GST_TRACERS=TRACERS; output in
# $WORK/NAME.out and $WORK/NAME.err, exit status in LAUNCH_STATUS
launch() {
  local name=$1 tracers=$2
  shift 2
  GST_TRACERS=$tracers run_with_deadline 30 gst-launch-1.0 -m "$@" \
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

# served_url FILE: the URL of the "apm: serving" line in FILE (a process's
# stderr), or nothing; the file may not exist yet (a background process
# whose shell has not opened it)
served_url() {
  grep -Eo '^apm: serving http://[0-9.]+:[0-9]+' "$1" 2>/dev/null |
    head -n 1 | cut -d' ' -f3 || true
}
