# Lookout image: the `lookout` command (node, demo-target, spec, watch, cluster) on Node 20.
#   docker build -t lookout .
#   docker run --rm -e NATS_URL=nats://nats:4222 lookout            # a node (CMD "node")
#   docker run --rm -p 8080:8080 lookout demo-target --port 8080     # the demo target
# Configuration is environment only (see `docker run --rm lookout node --help`). The node sizes its
# own heap from LOOKOUT_MEMORY_MB (default 256 MiB of RSS): no NODE_OPTIONS needed.
# No `# syntax=` line: BuildKit would pull a frontend image for it, and nothing here needs one
# (test/compose/run.sh builds this file on a machine that cannot pull images).

# --- build: compile TypeScript to dist/ ------------------------------------------------------
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` would run tsc before the sources are here: install without scripts, build below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY checks ./checks
COPY protocol ./protocol
COPY runtime ./runtime
COPY actors ./actors
COPY app ./app
COPY cli ./cli
COPY dev ./dev
COPY bin ./bin
COPY testkit ./testkit
COPY bench ./bench
RUN npm run build

# --- runtime: production dependencies, compiled code, example specs, non-root -----------------
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No dev dependencies (no tsc), so lifecycle scripts such as `prepare` must not run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The status page's files (runtime/status-page.ts finds them beside dist/); uPlot comes with the dependencies.
COPY web ./web
COPY examples ./examples
# The node image's unprivileged user (uid 1000).
USER node
# /metrics, /healthz, /readyz and the status page at / (LOOKOUT_HTTP_PORT).
EXPOSE 9464
# No curl in the slim image: Node's fetch. Healthy when either long-running command answers: a
# node's /healthz on LOOKOUT_HTTP_PORT (200 while the process is alive), or the demo target's
# /healthy on DEMO_PORT (`docker run lookout demo-target` is healthy too; give it its port with
# DEMO_PORT rather than --port for this to follow). docker-compose.yml sets its own per service.
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 \
  CMD node -e "Promise.any(['http://127.0.0.1:${LOOKOUT_HTTP_PORT:-9464}/healthz', 'http://127.0.0.1:${DEMO_PORT:-8080}/healthy'].map((u) => fetch(u).then((r) => r.ok || Promise.reject(new Error(u + ' ' + r.status))))).then(() => process.exit(0), () => process.exit(1))"
ENTRYPOINT ["node", "dist/bin/lookout.js"]
CMD ["node"]
