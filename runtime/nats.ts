// The NATS connection: built from config (URL, credentials, TLS the way the `nats` CLI takes
// them), reconnects forever, and logs every connection state change.

import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Config } from './config';
import type { Logger } from './logger';

/** Connection state as an operator reads it (also exported as a metric). */
export const ConnState = { connected: 'connected', disconnected: 'disconnected', reconnecting: 'reconnecting', closed: 'closed' } as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

export type NatsAuthConfig = Pick<Config, 'natsUrl' | 'natsCreds' | 'natsUser' | 'natsPassword' | 'natsToken' | 'natsNkey' | 'natsCa' | 'natsCert' | 'natsKey'>;

export function connectionOptions(cfg: NatsAuthConfig, name: string): NodeConnectionOptions {
  const opts: NodeConnectionOptions = {
    servers: cfg.natsUrl.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
  };
  if (cfg.natsCreds) opts.authenticator = credsAuthenticator(readFileSync(cfg.natsCreds));
  else if (cfg.natsNkey) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(cfg.natsNkey, 'utf8').trim()));
  if (cfg.natsUser) {
    opts.user = cfg.natsUser;
    opts.pass = cfg.natsPassword;
  }
  if (cfg.natsToken) opts.token = cfg.natsToken;
  if (cfg.natsCa || cfg.natsCert || cfg.natsKey) {
    opts.tls = {
      ...(cfg.natsCa ? { caFile: cfg.natsCa } : {}),
      ...(cfg.natsCert ? { certFile: cfg.natsCert } : {}),
      ...(cfg.natsKey ? { keyFile: cfg.natsKey } : {}),
    };
  }
  return opts;
}

/** Connect and log connection state; `onState` hears every change (for metrics / readiness). */
export async function connectNats(cfg: NatsAuthConfig, name: string, log: Logger, onState: (s: ConnState) => void = () => {}): Promise<NatsConnection> {
  log.info({ servers: cfg.natsUrl }, 'connecting to NATS');
  const nc = await connect(connectionOptions(cfg, name));
  log.info({ server: nc.getServer() }, 'NATS connected');
  onState(ConnState.connected);
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          log.warn({ server: s.server }, 'NATS disconnected');
          onState(ConnState.disconnected);
          break;
        case 'reconnecting':
          onState(ConnState.reconnecting);
          break;
        case 'reconnect':
          log.info({ server: s.server }, 'NATS reconnected');
          onState(ConnState.connected);
          break;
        case 'error':
          log.error({ err: s.error }, 'NATS error');
          break;
        case 'ldm':
          log.warn({ server: s.server }, 'NATS server entering lame duck mode');
          break;
        case 'staleConnection':
          log.warn('NATS connection stale');
          break;
        case 'slowConsumer':
          log.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'NATS slow consumer');
          break;
        default:
          break;
      }
    }
  })();
  void nc.closed().then((err) => {
    if (err) log.error({ err }, 'NATS connection closed with error');
    else log.info('NATS connection closed');
    onState(ConnState.closed);
  });
  return nc;
}
