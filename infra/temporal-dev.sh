#!/usr/bin/env bash
# The local Temporal dev server for the demo and for operators: start | stop | status | search-attributes.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

STATE_DIR="${TRACEMEND_STATE_DIR:-$REPO_ROOT/.tracemend}"
HOST="127.0.0.1"
PORT="${TRACEMEND_TEMPORAL_PORT:-7233}"
UI_PORT="${TRACEMEND_TEMPORAL_UI_PORT:-8233}"
NAMESPACE="default"
DB_FILE="$STATE_DIR/temporal/dev.db"
LOG_FILE="$STATE_DIR/logs/temporal.log"
PID_FILE="$STATE_DIR/run/temporal.pid"
START_WAIT_SECONDS="${TRACEMEND_TEMPORAL_START_WAIT_SECONDS:-60}"
STOP_WAIT_SECONDS=30
ADDRESS="$HOST:$PORT"
UI_URL="http://$HOST:$UI_PORT"

# Must equal SEARCH_ATTRIBUTES in packages/contracts/src/incident.ts (infra/test checks it).
SEARCH_ATTRIBUTES=(
  TracemendService=Keyword
  TracemendErrorType=Keyword
  TracemendStage=Keyword
  TracemendRisk=Int
  TracemendOutcome=Keyword
)

fail() { echo "temporal-dev: $*" >&2; exit 1; }

temporal_cli() {
  if [[ -n "${TRACEMEND_TEMPORAL_CLI:-}" ]]; then
    echo "$TRACEMEND_TEMPORAL_CLI"
  elif [[ -x "$REPO_ROOT/.tracemend/bin/temporal" ]]; then
    echo "$REPO_ROOT/.tracemend/bin/temporal"
  elif command -v temporal >/dev/null 2>&1; then
    command -v temporal
  else
    fail "temporal CLI not found: run infra/bootstrap.sh (links .tracemend/bin/temporal) or put temporal on PATH"
  fi
}

# Prints the pid of the server this script started, if that process is still a dev server.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # The pid may have been reused by an unrelated process since the server died.
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'server start-dev' || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

healthy() { "$CLI" operator cluster health --address "$ADDRESS" >/dev/null 2>&1; }

# INDEXED_VALUE_TYPE_<TYPE> as `operator search-attribute list -o json` spells a type (KeywordList → KEYWORD_LIST).
indexed_type() { sed -E 's/([a-z])([A-Z])/\1_\2/g' <<<"$1" | tr '[:lower:]' '[:upper:]' | sed 's/^/INDEXED_VALUE_TYPE_/'; }

# start-dev registers search attributes only into a new database: add any missing from an older one.
ensure_search_attributes() {
  local listed custom entry name type have
  listed="$("$CLI" operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" -o json)" \
    || fail "could not list search attributes on $ADDRESS"
  custom="$(tr -d ' \n' <<<"$listed" | sed -E 's/.*"customAttributes":\{([^}]*)\}.*/\1/')"
  for entry in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${entry%%=*}"
    type="${entry#*=}"
    have="$(grep -oE "\"$name\":\"[A-Z_]+\"" <<<"$custom" | cut -d'"' -f4 || true)"
    if [[ -z "$have" ]]; then
      "$CLI" operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
        --name "$name" --type "$type" >/dev/null || fail "could not create search attribute $name ($type)"
    elif [[ "$have" != "$(indexed_type "$type")" ]]; then
      fail "search attribute $name is $have in $DB_FILE but tracemend needs $type; move that database aside and start again"
    fi
  done
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    echo "[skip] temporal dev server: already running (pid $pid) on $ADDRESS"
    echo "Temporal UI: $UI_URL"
    return
  fi
  # A server this checkout did not start (another checkout's, say) is used as it is, given
  # tracemend's search attributes; its own scripts stop it.
  if port_in_use "$PORT" && healthy; then
    ensure_search_attributes
    echo "[skip] temporal dev server: $ADDRESS already answers, a server this checkout did not start"
    echo "Temporal UI: $UI_URL"
    return
  fi
  for port in "$PORT" "$UI_PORT"; do
    port_in_use "$port" && fail "port $port on $HOST is in use by another process; set TRACEMEND_TEMPORAL_PORT / TRACEMEND_TEMPORAL_UI_PORT or stop it"
  done
  mkdir -p "$(dirname "$DB_FILE")" "$(dirname "$LOG_FILE")" "$(dirname "$PID_FILE")"
  local args=(server start-dev --ip "$HOST" --port "$PORT" --ui-port "$UI_PORT"
    --db-filename "$DB_FILE" --namespace "$NAMESPACE" --ui-disable-news-fetch)
  local entry
  for entry in "${SEARCH_ATTRIBUTES[@]}"; do
    args+=(--search-attribute "$entry")
  done
  echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) start ---" >>"$LOG_FILE"
  # setsid: the server outlives the shell (and any test runner or terminal) that started it.
  nohup setsid "$CLI" "${args[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  local deadline=$((SECONDS + START_WAIT_SECONDS))
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      tail -n 20 "$LOG_FILE" >&2 || true
      fail "the dev server exited during start; log: $LOG_FILE"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$LOG_FILE" >&2 || true
      fail "the dev server did not answer on $ADDRESS within ${START_WAIT_SECONDS} s (pid $pid still running); log: $LOG_FILE"
    fi
    sleep 0.3
  done
  # A server without tracemend's search attributes would fail every incident: do not leave it running.
  if ! (ensure_search_attributes); then
    cmd_stop >/dev/null
    fail "stopped the dev server again (pid $pid): its search attributes do not match"
  fi
  echo "[done] temporal dev server: started (pid $pid) on $ADDRESS, namespace $NAMESPACE, database ${DB_FILE#"$REPO_ROOT"/}"
  echo "Temporal UI: $UI_URL"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    echo "[skip] temporal dev server: not running"
    return
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_WAIT_SECONDS))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      echo "temporal-dev: pid $pid ignored SIGTERM for ${STOP_WAIT_SECONDS} s; killed it" >&2
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  echo "[done] temporal dev server: stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if healthy; then
      echo "running (pid $pid) on $ADDRESS, UI $UI_URL"
    else
      echo "running (pid $pid) on $ADDRESS, not answering yet; log: $LOG_FILE"
    fi
    return 0
  fi
  echo "stopped"
  return 3
}

usage() {
  echo "usage: $0 start|stop|status|search-attributes" >&2
  exit 2
}

[[ $# -eq 1 ]] || usage
case "$1" in
  start) CLI="$(temporal_cli)"; cmd_start ;;
  stop) cmd_stop ;;
  status) CLI="$(temporal_cli)"; cmd_status ;;
  search-attributes) printf '%s\n' "${SEARCH_ATTRIBUTES[@]}" ;;
  *) usage ;;
esac
