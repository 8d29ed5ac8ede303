#!/usr/bin/env bash
# `npm run test:compose`: docker-compose.yml run for real in Docker, as root.
#
#  1. a Docker engine: the one that answers, else dockerd started here (stopped by its PID at the end)
#  2. stand-ins for node:20-slim and nats:2.10-alpine when they cannot be pulled (standins.sh), cached
#  3. free host ports for every host-port variable of the compose file that is not set
#  4. compose build, compose up -d (the compose file's own healthchecks and depends_on order)
#  5. expectations, each polled with a deadline and decided from what the cluster published
#     (testkit/compose/check.ts): the NATS cluster, every container healthy, the seed exited 0 and
#     stored the examples, 3 members, checks spread over the 3 nodes, verdicts as the examples'
#     labels say, the CLI inside the network; a node killed (its checks move to the others, it
#     comes back); a NATS server killed by PID (checks go on, specs stay, it restarts and rejoins)
#  6. compose down -v, the replaced Lookout image removed, dockerd stopped if started here
#
# Any broken expectation: "compose-test: FAILED: ..." with what was last seen, logs kept in the run
# folder, exit 1. Settings (environment): LOOKOUT_COMPOSE_WAIT_S (each wait, default 180),
# LOOKOUT_COMPOSE_EXPECT_NODES (alive members expected, default 3), LOOKOUT_COMPOSE_PROJECT
# (compose project name, default lookout-compose-test), LOOKOUT_COMPOSE_MIRROR (Debian mirror for
# the stand-ins), the host-port variables of docker-compose.yml (e.g. NATS_1_HOST_PORT).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COMPOSE_DIR="$ROOT/test/compose"
PROJECT=${LOOKOUT_COMPOSE_PROJECT:-lookout-compose-test}
WAIT_S=${LOOKOUT_COMPOSE_WAIT_S:-180}
RUN_DIR=$(mktemp -d /tmp/lookout-compose.XXXXXX)
CHECK=(node "$ROOT/dist/testkit/compose/check.js")
# shellcheck source=test/compose/lib.sh
source "$COMPOSE_DIR/lib.sh"
# shellcheck source=test/compose/standins.sh
source "$COMPOSE_DIR/standins.sh"

STARTED=$(uptime_s)
UP=""
OLD_IMAGE=""
OK=""

step() { log "--- $* (at +$(($(uptime_s) - STARTED)) s)"; }

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$UP" ]; then
    if [ -z "$OK" ]; then
      compose ps >"$RUN_DIR/ps.txt" 2>&1 || true
      local c
      for c in $(compose ps -q 2>/dev/null); do
        docker inspect -f '{{.Name}} {{json .State}}' "$c" >>"$RUN_DIR/states.txt" 2>&1 || true
      done
      compose logs --no-color --timestamps >"$RUN_DIR/compose.log" 2>&1 || true
      log "containers at the failure:"
      cat "$RUN_DIR/ps.txt" >&2
      log "last lines of every service's log (all of it in $RUN_DIR/compose.log):"
      tail -n 60 "$RUN_DIR/compose.log" >&2 || true
    fi
    docker rm -f "$PROJECT-demo-alone" >/dev/null 2>&1 || true
    step "compose down"
    compose down -v --remove-orphans -t 10 >"$RUN_DIR/down.log" 2>&1 || log "compose down failed: see $RUN_DIR/down.log"
    local now
    now=$(docker image inspect -f '{{.Id}}' lookout:local 2>/dev/null || true)
    if [ -n "$OLD_IMAGE" ] && [ "$OLD_IMAGE" != "$now" ]; then docker rmi "$OLD_IMAGE" >/dev/null 2>&1 || true; fi
  fi
  stop_dockerd
  if [ -n "$OK" ]; then
    rm -rf "$RUN_DIR"
    log "passed in $(($(uptime_s) - STARTED)) s"
  else
    log "logs kept in $RUN_DIR"
    [ "$rc" -ne 0 ] || rc=1
  fi
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || fail "run as root: the script starts dockerd (CI runs as root)"
need docker docker.io
[ -f "$ROOT/dist/testkit/compose/check.js" ] || fail "dist/ is missing: npm run build first (npm run test:compose does)"

step "Docker engine"
ensure_dockerd
find_compose
step "stand-in base images"
build_standins

step "host ports"
eval "$("${CHECK[@]}" ports)"
"${CHECK[@]}" ports | sed 's/^export /compose-test: /' >&2

# A previous run that was interrupted may have left its containers and volumes.
compose down -v --remove-orphans -t 5 >"$RUN_DIR/down-before.log" 2>&1 || true
OLD_IMAGE=$(docker image inspect -f '{{.Id}}' lookout:local 2>/dev/null || true)
UP=1
step "compose build (log $RUN_DIR/build.log)"
nice -n 10 "${COMPOSE[@]}" --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" -p "$PROJECT" build >"$RUN_DIR/build.log" 2>&1 ||
  { tail -n 30 "$RUN_DIR/build.log" >&2; fail "compose build failed (log above)"; }
step "compose up -d (log $RUN_DIR/up.log)"
compose up -d >"$RUN_DIR/up.log" 2>&1 || { cat "$RUN_DIR/up.log" >&2; fail "compose up failed (output above)"; }

# The demo target as `docker run lookout demo-target` starts it: the image's own HEALTHCHECK.
DEMO_ALONE="$PROJECT-demo-alone"
docker rm -f "$DEMO_ALONE" >/dev/null 2>&1 || true
docker run -d --init --name "$DEMO_ALONE" lookout:local demo-target >/dev/null || fail "docker run lookout:local demo-target failed"

# wait_healthy SERVICE...: each service's container reports healthy (its compose healthcheck);
# a name that is no service is taken as a container name.
wait_healthy() {
  local s ref status deadline=$(($(uptime_s) + WAIT_S))
  for s in "$@"; do
    ref=$(container "$s")
    until status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}no healthcheck{{end}}' "${ref:-$s}" 2>&1) && [ "$status" = healthy ]; do
      [ "$(uptime_s)" -lt "$deadline" ] || fail "$s is not healthy after ${WAIT_S} s: last status ${status}; its last healthchecks: $(docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}[exit {{.ExitCode}} {{.Start}} .. {{.End}}: {{.Output}}] {{end}}{{end}}' "${ref:-$s}" 2>&1 | tr '\n' ' ')"
      sleep 1
      ref=$(container "$s")
    done
  done
  log "ok: healthy: $*"
}

step "the NATS cluster"
"${CHECK[@]}" wait nats-cluster
step "every long-running container healthy (the demo target too)"
wait_healthy nats-1 nats-2 nats-3 lookout-1 lookout-2 lookout-3 demo "$DEMO_ALONE"
docker rm -f "$DEMO_ALONE" >/dev/null
step "the seed"
seed=$(container seed)
[ -n "$seed" ] || fail "no seed container"
code=$(timeout "$WAIT_S" docker wait "$seed") || fail "the seed did not exit within ${WAIT_S} s"
compose logs --no-color seed >&2
[ "$code" = 0 ] || fail "the seed exited $code"
"${CHECK[@]}" wait seeded
step "members"
"${CHECK[@]}" wait members
step "checks spread over the nodes (24 more checks of the demo target, put from the host)"
"${CHECK[@]}" put-spread 24 >"$RUN_DIR/put-spread.log" 2>&1 || { cat "$RUN_DIR/put-spread.log" >&2; fail "spec put of the spread checks failed"; }
"${CHECK[@]}" wait spread
"${CHECK[@]}" wait verdicts
node "$ROOT/dist/bin/lookout.js" -s "nats://127.0.0.1:$NATS_1_HOST_PORT,nats://127.0.0.1:$NATS_2_HOST_PORT" status --id-prefix demo- >&2 || fail "lookout status from the host failed"
step "the CLI inside the network: compose run --rm --no-deps seed cluster"
compose run --rm --no-deps -T seed cluster >"$RUN_DIR/cluster.txt" 2>&1 || { cat "$RUN_DIR/cluster.txt" >&2; fail "lookout cluster inside the network failed (output above)"; }
cat "$RUN_DIR/cluster.txt" >&2

step "a node killed: lookout-2 (SIGKILL, held down)"
"${CHECK[@]}" snapshot "$RUN_DIR/before-node-kill.json"
docker kill -s KILL "$(container lookout-2)" >/dev/null
"${CHECK[@]}" wait members lookout-1,lookout-3
"${CHECK[@]}" wait probed-since "$RUN_DIR/before-node-kill.json" lookout-2
step "lookout-2 started again"
compose start lookout-2 >/dev/null 2>&1 || fail "compose start lookout-2 failed"
"${CHECK[@]}" wait members
"${CHECK[@]}" wait spread

step "a NATS server killed: nats-2's process, SIGKILL by its PID (restart: unless-stopped brings it back)"
"${CHECK[@]}" snapshot "$RUN_DIR/before-nats-kill.json"
nats2=$(container nats-2)
restarts=$(docker inspect -f '{{.RestartCount}}' "$nats2")
pid=$(docker inspect -f '{{.State.Pid}}' "$nats2")
[ "${pid:-0}" -gt 0 ] || fail "nats-2 has no PID"
kill -KILL "$pid"
log "killed nats-server PID $pid (restart count $restarts)"
"${CHECK[@]}" wait probed-since "$RUN_DIR/before-nats-kill.json"
"${CHECK[@]}" wait seeded "$RUN_DIR/before-nats-kill.json"
deadline=$(($(uptime_s) + WAIT_S))
until [ "$(docker inspect -f '{{.RestartCount}}' "$nats2")" -gt "$restarts" ]; do
  [ "$(uptime_s)" -lt "$deadline" ] || fail "nats-2 was not restarted within ${WAIT_S} s (restart count $(docker inspect -f '{{.RestartCount}}' "$nats2"))"
  sleep 1
done
log "ok: nats-2 restarted by Docker (restart count $(docker inspect -f '{{.RestartCount}}' "$nats2"))"
"${CHECK[@]}" wait nats-cluster
"${CHECK[@]}" wait members
wait_healthy nats-2

OK=1
