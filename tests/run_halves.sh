#!/usr/bin/env bash
# The suite as two pytest sessions at once, each starting its own real servers once. On two cores the tests wait
# on servers, subprocesses and the terminal as much as they compute, so two halves finish well before one whole.
# Usage: tests/run_halves.sh PYTHON [pytest args...]; exits non-zero if either half fails or collects nothing.
set -uo pipefail
py="$1"; shift
cd "$(dirname "${BASH_SOURCE[0]}")/.."
halves=("tests/kube tests/shell tests/demo tests/dvc" "tests/mlflow tests/prom")

# every folder of tests is in one half (a new one must be added above, not skipped)
for dir in tests/*/; do
  dir="${dir%/}"
  ls "$dir"/test_*.py >/dev/null 2>&1 || continue
  [[ " ${halves[*]} " == *" $dir "* ]] || { echo "run_halves.sh: $dir is in neither half" >&2; exit 2; }
done

logs=$(mktemp -d)
pids=()
for i in "${!halves[@]}"; do
  # shellcheck disable=SC2086
  "$py" -m pytest -q -rs "$@" ${halves[$i]} >"$logs/$i.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!halves[@]}"; do
  wait "${pids[$i]}"; rc=$?
  echo "=== ${halves[$i]} (exit $rc)"
  cat "$logs/$i.log"
  [ "$rc" -eq 0 ] || status=1  # 5 (nothing collected) fails too
done
rm -rf "$logs"
exit $status
