#!/usr/bin/env bash
# Runs the CI entry point (.ci/run) on fresh clones of this repository's HEAD (as it was at start) while a CPU hog keeps
# every core busy, a given number of times in a row, and prints one line per run with its time and
# result. A suite that passes only on an idle machine fails here; keep it green.
#
#   bash infra/ci-under-load.sh [runs]        # default 3 runs, hog: one busy worker per core
#   TRACEMEND_LOAD_HOG=none bash infra/ci-under-load.sh 1   # no extra hog (the machine is busy already)
#
# The hog is stress-ng (installed from Debian when missing and running as root), else busy node loops.
# Logs of each run stay in the printed folder; the clones are removed.
set -euo pipefail

RUNS="${1:-3}"
HOG="${TRACEMEND_LOAD_HOG:-cpu}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/tracemend-ci-under-load-XXXXXX")"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "ci-under-load: runs must be a positive whole number, got \"$RUNS\"" >&2; exit 2; }

hog_pids=()
stop_hog() {
  for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_hog EXIT

start_hog() {
  local cores
  cores="$(nproc)"
  case "$HOG" in
    none) echo "hog: none"; return ;;
    cpu) ;;
    *) echo "ci-under-load: TRACEMEND_LOAD_HOG must be cpu or none, got \"$HOG\"" >&2; exit 2 ;;
  esac
  if ! command -v stress-ng >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    apt-get install -y -qq stress-ng >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq stress-ng >/dev/null 2>&1) || true
  fi
  if command -v stress-ng >/dev/null 2>&1; then
    stress-ng --cpu "$cores" --quiet &
    hog_pids+=("$!")
    echo "hog: stress-ng --cpu $cores"
  else
    for _ in $(seq "$cores"); do
      node -e 'for (;;) {}' &
      hog_pids+=("$!")
    done
    echo "hog: $cores busy node loops"
  fi
}

start_hog
# Every run tests the commit that was HEAD when the script started, so work can go on meanwhile.
COMMIT="$(git -C "$REPO_ROOT" rev-parse HEAD)"
echo "commit: ${COMMIT:0:7}; logs in $OUT"
failed=0
for run in $(seq "$RUNS"); do
  clone="$(mktemp -d "${TMPDIR:-/tmp}/tracemend-ci-clone-XXXXXX")"
  git clone -q "$REPO_ROOT" "$clone/tracemend"
  git -C "$clone/tracemend" checkout -q "$COMMIT"
  # CI runs with a read-only copy of shared/ beside the clone; give it the same neighbour when there is one.
  [[ -d "$REPO_ROOT/../shared" ]] && cp -r "$REPO_ROOT/../shared" "$clone/shared" && chmod -R a-w "$clone/shared"
  started="$(date +%s)"
  if (cd "$clone/tracemend" && CI=true bash .ci/run </dev/null >"$OUT/run-$run.log" 2>&1); then result=passed; else result=failed; failed=$((failed + 1)); fi
  seconds=$(( $(date +%s) - started ))
  echo "run $run: $result in ${seconds} s (load average $(cut -d' ' -f1-3 /proc/loadavg)); log $OUT/run-$run.log"
  chmod -R u+w "$clone" 2>/dev/null || true
  rm -rf "$clone"
done
echo "$((RUNS - failed)) passed, $failed failed"
[[ "$failed" == 0 ]]
