// What a node asks of nats.js when it connects (connectionOptions, pure apart from reading key files).
import { connectionOptions, NATS_MAX_PING_OUT, NATS_PING_MS, NATS_RETRY_MS, type NatsAuthConfig } from '../../runtime/nats';

const none = { natsCreds: undefined, natsUser: undefined, natsPassword: undefined, natsToken: undefined, natsNkey: undefined, natsCa: undefined, natsCert: undefined, natsKey: undefined };
const base: NatsAuthConfig = { natsUrl: 'nats://a:4222,nats://b:4222', ...none };

describe('connectionOptions', () => {
  test('every server of the list, reconnecting forever, pings as configured', () => {
    expect(connectionOptions(base, 'n1')).toMatchObject({
      servers: ['nats://a:4222', 'nats://b:4222'],
      name: 'n1',
      maxReconnectAttempts: -1,
      reconnectTimeWait: NATS_RETRY_MS,
      pingInterval: NATS_PING_MS,
      maxPingOut: NATS_MAX_PING_OUT,
    });
  });

  // nats.js otherwise builds an Error (a captured stack) per request and per request timer: ~23% of
  // a 100k-check start's long tasks (BENCHMARKS.md §2).
  test('no async stack traces per request', () => {
    expect(connectionOptions(base, 'n1').noAsyncTraces).toBe(true);
  });

  test.each([
    ['user and password', { natsUser: 'u', natsPassword: 'p' }, { user: 'u', pass: 'p' }],
    ['token', { natsToken: 't' }, { token: 't' }],
    ['TLS files', { natsCa: '/ca.pem', natsCert: '/c.pem', natsKey: '/k.pem' }, { tls: { caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' } }],
    ['a CA alone', { natsCa: '/ca.pem' }, { tls: { caFile: '/ca.pem' } }],
  ])('%s', (_what, extra, want) => {
    expect(connectionOptions({ ...base, ...extra }, 'n1')).toMatchObject(want);
  });

  test('no credentials: none sent', () => {
    const o = connectionOptions(base, 'n1');
    expect([o.user, o.pass, o.token, o.tls, o.authenticator]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
