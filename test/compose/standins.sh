# Local stand-ins for the base images the Dockerfile and docker-compose.yml name (node:20-slim,
# nats:2.10-alpine), for a machine that cannot pull images. Sourced by run.sh.
#
#   base   a minimal Debian bookworm root filesystem (debootstrap --variant=minbase from the
#          mirror this machine's apt uses, plus ca-certificates and wget), `docker import`ed
#   node   base + this machine's node binary and npm, its CA bundle (an outbound proxy that
#          re-signs TLS must be trusted for `npm ci` in the build), and user node (uid 1000)
#   nats   base + Debian's nats-server (this machine's /usr/sbin/nats-server)
#
# Each is built once and reused while its inputs are the same: a label on the image holds a hash
# of them (scripts, node version, npm version, nats-server version, CA bundle). An image of that
# name without the label is a real one (pulled elsewhere) and is left alone.
# shellcheck shell=bash

STANDIN_LABEL=org.lookout.standin-key
STANDIN_BASE=lookout-standin/bookworm

# The Debian mirror apt uses here (first URIs:/deb line), or LOOKOUT_COMPOSE_MIRROR.
debian_mirror() {
  if [ -n "${LOOKOUT_COMPOSE_MIRROR:-}" ]; then
    echo "$LOOKOUT_COMPOSE_MIRROR"
    return
  fi
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 ~ /\/debian\/?$/ { print $2; exit }')
  [ -n "$m" ] || m=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# standin_key WORDS...: a short hash of what an image is made of.
standin_key() {
  printf '%s\n' "$@" | sha256sum | cut -c1-16
}

# content_hash FILE...: one hash of the files' bytes (not their paths, which differ per run and checkout).
content_hash() {
  cat "$@" | sha256sum | cut -c1-64
}

# current_key IMAGE: the stand-in label of IMAGE; "real" for an image without one; "" if absent.
current_key() {
  docker image inspect "$1" >/dev/null 2>&1 || return 0
  local k
  k=$(docker image inspect --format "{{ index .Config.Labels \"$STANDIN_LABEL\" }}" "$1" 2>/dev/null || true)
  if [ -z "$k" ] || [ "$k" = "<no value>" ]; then echo real; else echo "$k"; fi
}

# The base image's tag for this script and mirror; built with debootstrap when missing.
build_base() {
  local mirror key tag rootfs
  mirror=$(debian_mirror)
  key=$(standin_key base-v1 "$mirror" bookworm minbase ca-certificates,wget)
  tag="$STANDIN_BASE:$key"
  BASE_IMAGE=$tag
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "stand-in base $tag: cached"
    return
  fi
  need debootstrap debootstrap
  rootfs="$RUN_DIR/rootfs"
  log "stand-in base $tag: debootstrap bookworm from $mirror (a few minutes; log $RUN_DIR/debootstrap.log)"
  nice -n 10 debootstrap --variant=minbase --include=ca-certificates,wget bookworm "$rootfs" "$mirror" >"$RUN_DIR/debootstrap.log" 2>&1 ||
    { tail -n 20 "$RUN_DIR/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
  # What an image needs no copy of: downloaded packages, package lists, docs.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  nice -n 10 tar -C "$rootfs" -c . | docker import --change "LABEL $STANDIN_LABEL=$key" --change 'CMD ["bash"]' - "$tag" >/dev/null ||
    fail "docker import of the bookworm rootfs failed"
  rm -rf "$rootfs"
}

# build_standin IMAGE DOCKERFILE KEY CONTEXT: docker build IMAGE from one of standins/*.Dockerfile.
build_standin() {
  local image=$1 dockerfile=$2 key=$3 context=$4 have
  have=$(current_key "$image")
  if [ "$have" = real ]; then
    log "$image: a real image is here (no stand-in label): using it"
    return
  fi
  if [ "$have" = "$key" ]; then
    log "$image: stand-in cached"
    return
  fi
  log "$image: building the stand-in (log $RUN_DIR/standin-${image%%:*}.log)"
  local old
  old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  nice -n 10 docker build -f "$COMPOSE_DIR/standins/$dockerfile" --build-arg "BASE=$BASE_IMAGE" \
    --label "$STANDIN_LABEL=$key" -t "$image" "$context" >"$RUN_DIR/standin-${image%%:*}.log" 2>&1 ||
    { tail -n 20 "$RUN_DIR/standin-${image%%:*}.log" >&2; fail "building the $image stand-in failed (log above)"; }
  # The stand-in it replaces (kept only while an image built on it still is).
  [ -z "$old" ] || docker rmi "$old" >/dev/null 2>&1 || true
}

# The node:20-slim and nats:2.10-alpine stand-ins (the names docker-compose.yml and the Dockerfile use).
build_standins() {
  build_base
  local node_bin npm_dir nats_bin ca ctx key
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  ca=${LOOKOUT_COMPOSE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
  [ -x "$nats_bin" ] || fail "nats-server is missing: apt-get install nats-server"
  [ -f "$ca" ] || fail "no CA bundle at $ca (set LOOKOUT_COMPOSE_CA_BUNDLE)"

  ctx="$RUN_DIR/node-context"
  mkdir -p "$ctx"
  cp "$node_bin" "$ctx/node"
  cp -r "$npm_dir" "$ctx/npm"
  cp "$ca" "$ctx/ca-certificates.crt"
  key=$(standin_key "$BASE_IMAGE" "$(content_hash "$COMPOSE_DIR/standins/node.Dockerfile" "$ctx/node" "$ctx/ca-certificates.crt")" "$(node -p 'require(process.argv[1]).version' "$ctx/npm/package.json")")
  build_standin node:20-slim node.Dockerfile "$key" "$ctx"

  ctx="$RUN_DIR/nats-context"
  mkdir -p "$ctx"
  cp "$nats_bin" "$ctx/nats-server"
  key=$(standin_key "$BASE_IMAGE" "$(content_hash "$COMPOSE_DIR/standins/nats.Dockerfile" "$ctx/nats-server")")
  build_standin nats:2.10-alpine nats.Dockerfile "$key" "$ctx"
  rm -rf "$RUN_DIR/node-context" "$RUN_DIR/nats-context"

  # The stand-ins run what they stand for.
  local v
  v=$(docker run --rm node:20-slim node --version) || fail "node:20-slim: node does not run"
  log "node:20-slim runs node $v, npm $(docker run --rm node:20-slim npm --version)"
  v=$(docker run --rm nats:2.10-alpine nats-server --version) || fail "nats:2.10-alpine: nats-server does not run"
  log "nats:2.10-alpine runs $v"
}
