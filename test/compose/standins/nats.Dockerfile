# Stand-in for nats:2.10-alpine (test/compose/standins.sh): Debian's nats-server on a Debian
# bookworm minbase with wget (docker-compose.yml's healthcheck uses it, as busybox's in the real image).
ARG BASE
FROM ${BASE}
COPY nats-server /usr/local/bin/nats-server
EXPOSE 4222 6222 8222
CMD ["nats-server"]
