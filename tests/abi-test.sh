#!/bin/bash
# abi-test.sh LIBRARY HEADER... - an application sees only what the installed
# headers declare: the public version node (GSTAPM_1.0) holds exactly the
# functions the public headers declare, and every other symbol the library
# exports is in GSTAPM_PRIVATE (the core the plugin shares, see
# src/libgstapm.map).
set -euo pipefail
lib=$1; shift
fail=0
declared=$(grep -ohE '\bapm_[a-z0-9_]+ \(' "$@" | tr -d ' (' | sort -u)
# G_DECLARE_FINAL_TYPE (ApmMonitor, apm_monitor, ...) declares apm_monitor_get_type
types=$(grep -ohE 'G_DECLARE_[A-Z_]+_TYPE \([A-Za-z]+, [a-z_]+' "$@" |
  sed -E 's/.*, ([a-z_]+)$/\1_get_type/' | sort -u)
declared=$(printf '%s\n%s\n' "$declared" "$types" | sed '/^$/d' | sort -u)
exports=$(objdump -T "$lib" | awk '$2 == "g" && $4 != "*UND*" && $(NF) != $(NF-1) { print $(NF-1), $NF }')
public=$(awk '$1 == "GSTAPM_1.0" && $2 != "GSTAPM_1.0" { print $2 }' <<<"$exports" | sort -u)
other=$(awk '$1 != "GSTAPM_1.0" && $1 != "GSTAPM_PRIVATE" { print $1, $2 }' <<<"$exports")

if [ "$declared" != "$public" ]; then
  echo "FAIL: public symbols differ from what the headers declare:"
  diff <(echo "$declared") <(echo "$public") | sed 's/^</  declared, not public:/; s/^>/  public, not declared:/' | grep '^ '
  fail=1
fi
if [ -n "$other" ]; then
  echo "FAIL: exported outside both version nodes:"; echo "$other" | head -20
  fail=1
fi
n_public=$(wc -l <<<"$public"); n_private=$(grep -c '^GSTAPM_PRIVATE ' <<<"$exports" || true)
[ "$n_public" -ge 20 ] || { echo "FAIL: only $n_public public symbols found"; fail=1; }
echo "public: $n_public symbols (GSTAPM_1.0), private: $n_private (GSTAPM_PRIVATE)"
exit $fail
