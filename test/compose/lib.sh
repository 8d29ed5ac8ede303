# Shared helpers of test/compose/*.sh (sourced, not run): logging, failing with a clear message,
# the Docker engine (started here when none answers, stopped by its PID) and the compose command.
# shellcheck shell=bash

log() { printf 'compose-test: %s\n' "$*" >&2; }

# fail MESSAGE: say what broke and exit non-zero (the EXIT trap tears everything down).
fail() {
  printf 'compose-test: FAILED: %s\n' "$*" >&2
  exit 1
}

# Seconds since boot: a monotonic clock for deadlines (never the wall clock).
uptime_s() {
  local up _
  read -r up _ </proc/uptime
  printf '%s\n' "${up%.*}"
}

# need CMD PACKAGE: fail unless CMD is on PATH (.ci/run installs PACKAGE).
need() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is missing: apt-get install $2 (as .ci/run does)"
}

# --- the Docker engine ----------------------------------------------------------------------

DOCKERD_PID=""

# Use the engine that answers on the default socket; else start dockerd with its own log and pid
# file in $RUN_DIR (DOCKERD_PID says the script started it, so the teardown stops it).
ensure_dockerd() {
  if docker info >/dev/null 2>&1; then
    log "using the Docker engine that is already running"
    return
  fi
  need dockerd docker.io
  log "starting dockerd (log $RUN_DIR/dockerd.log)"
  # setsid: its own process group, so a Ctrl-C of the script reaches the script, which stops it.
  setsid dockerd --pidfile "$RUN_DIR/dockerd.pid" >"$RUN_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local deadline=$(($(uptime_s) + ${LOOKOUT_COMPOSE_DOCKERD_WAIT_S:-60}))
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
      tail -n 20 "$RUN_DIR/dockerd.log" >&2
      DOCKERD_PID=""
      fail "dockerd exited while starting (log above, all of it in $RUN_DIR/dockerd.log)"
    fi
    [ "$(uptime_s)" -lt "$deadline" ] || fail "dockerd did not answer within ${LOOKOUT_COMPOSE_DOCKERD_WAIT_S:-60} s (see $RUN_DIR/dockerd.log)"
    sleep 0.5
  done
  # The PID dockerd wrote itself is the one to stop (the same as $! unless setsid had to fork).
  if [ -s "$RUN_DIR/dockerd.pid" ]; then DOCKERD_PID=$(cat "$RUN_DIR/dockerd.pid"); fi
  log "dockerd $(docker version --format '{{.Server.Version}}') running as PID $DOCKERD_PID"
}

# Stop the dockerd this script started, by its PID: SIGTERM, then SIGKILL if it is still there
# after LOOKOUT_COMPOSE_DOCKERD_STOP_S.
stop_dockerd() {
  [ -n "$DOCKERD_PID" ] || return 0
  log "stopping dockerd (PID $DOCKERD_PID)"
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  local deadline=$(($(uptime_s) + ${LOOKOUT_COMPOSE_DOCKERD_STOP_S:-30}))
  while kill -0 "$DOCKERD_PID" 2>/dev/null && [ "$(uptime_s)" -lt "$deadline" ]; do sleep 0.5; done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    log "dockerd (PID $DOCKERD_PID) still running after SIGTERM: SIGKILL"
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  fi
  wait "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=""
}

# --- compose --------------------------------------------------------------------------------

# `docker compose` (v2 plugin) when the docker CLI has it, else `docker-compose` (v1: Debian 12
# has no v2 package). COMPOSE is an array: "${COMPOSE[@]}" up ...
COMPOSE=()
find_compose() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  else
    fail "neither 'docker compose' nor docker-compose is installed: apt-get install docker-compose (as .ci/run does)"
  fi
  log "compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || echo '?'))"
}

# compose ARGS...: the compose command on this checkout's file, under the test's project name.
compose() {
  "${COMPOSE[@]}" --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" -p "$PROJECT" "$@"
}

# container SERVICE: the id of the service's container (empty when there is none).
container() {
  { compose ps -q "$1" 2>/dev/null || true; } | head -n 1
}
