# Stand-in for node:20-slim (test/compose/standins.sh): this machine's node and npm on a Debian
# bookworm minbase, where the real image has them (/usr/local), with user node (uid 1000).
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
# The machine's CA bundle: `npm ci` in the Lookout build goes through whatever proxy this machine uses.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && mkdir -p /usr/local/etc && echo "cafile=/etc/ssl/certs/ca-certificates.crt" > /usr/local/etc/npmrc \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD ["node"]
