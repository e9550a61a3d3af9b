#!/bin/bash
# The dashboard's A/B comparison card in headless Chromium, against an
# application (python3-gi) whose jobs carry the label "variant":
# tests/e2e/jobs_compare_app.py and tests/e2e/jobs-compare-dashboard.mjs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
set -euo pipefail
E2E=$APM_SOURCE_ROOT/tests/e2e
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ARTIFACTS=${DASHBOARD_ARTIFACTS:-$APM_BUILD_ROOT/e2e-artifacts}

# skipped on a developer's machine without the browser, a failure in CI
missing() {
  [ -z "${CI:-}" ] || fail "$1 (CI is set: the browser test must run)"
  echo "SKIP: $1"
  exit 77
}
require /usr/bin/python3
command -v node >/dev/null 2>&1 || missing "node not found (apt-get install nodejs)"
[ -x "$CHROMIUM" ] || missing "no chromium at $CHROMIUM (apt-get install chromium)"
[ -f "$E2E/node_modules/playwright-core/package.json" ] ||
  missing "no node modules in $E2E (run: npm ci --prefix $E2E)"

export GI_TYPELIB_PATH=$APM_BUILD_ROOT/src${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}
export LD_LIBRARY_PATH=$APM_BUILD_ROOT/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkfifo "$WORK/stdin"
/usr/bin/python3 "$E2E/jobs_compare_app.py" <"$WORK/stdin" >"$WORK/app.out" 2>"$WORK/app.err" &
BG_PIDS+=($!)
exec {APP_IN}>"$WORK/stdin"    # the app serves until this closes
url=
for _ in $(seq 100); do
  url=$(head -n1 "$WORK/app.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  alive "${BG_PIDS[-1]}" || break
  sleep 0.1
done
[ -n "$url" ] || { dump_files "$WORK/app.out" "$WORK/app.err"; fail "the application did not start its service"; }
log "application at $url"
run_with_deadline 60 node "$E2E/jobs-compare-dashboard.mjs" --url "$url" --artifacts "$ARTIFACTS" ||
  { dump_files "$WORK/app.err"; fail "the comparison card check failed (see $ARTIFACTS)"; }
exec {APP_IN}>&-
log "PASS"
