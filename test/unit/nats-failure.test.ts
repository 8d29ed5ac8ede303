// Connection failures in an operator's words (describeNatsFailure) and how often they are logged
// (FailureLog). The error shapes are the ones nats.js 3.4 and Node 20 produced on this machine
// (test/integration/nats-tls.test.ts drives the real ones end to end).
import { nodeInboxPrefix } from '../../runtime/nats';
import { describeNatsFailure, FailureLog, NatsFailureReason as R } from '../../runtime/nats-failure';

const err = (message: string, props: Record<string, unknown> = {}) => Object.assign(new Error(message), props);

describe('describeNatsFailure', () => {
  test.each([
    ['wrong or missing CA', err('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), R.tlsUntrusted, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['self-signed server certificate', err('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), R.tlsUntrusted, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['CA sent in the chain but not trusted', err('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), R.tlsUntrusted, 'SELF_SIGNED_CERT_IN_CHAIN'],
    ['name not in the certificate', err("Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), R.tlsHostname, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['expired certificate', err('certificate has expired', { code: 'CERT_HAS_EXPIRED' }), R.tlsExpired, 'CERT_HAS_EXPIRED'],
    ['CA file missing (nats.js)', err("/etc/nats/ca.pem doesn't exist"), R.tlsFile, null],
    ['CA file unreadable', err("EACCES: permission denied, open '/etc/nats/ca.pem'", { code: 'EACCES' }), R.tlsFile, 'EACCES'],
    ['TLS asked of a plain server', err("server does not support 'tls'", { name: 'ConnectionError' }), R.tlsUnsupported, null],
    ['other TLS error', err('wrong version number', { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), R.tls, 'ERR_SSL_WRONG_VERSION_NUMBER'],
    ['bad password', err('Authorization Violation', { name: 'AuthorizationError' }), R.auth, null],
    ['nothing listening (code on the cause)', err('connection refused', { name: 'ConnectionError', cause: err('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }) }), R.refused, 'ECONNREFUSED'],
    ['unknown host', err('getaddrinfo ENOTFOUND nats.invalid', { code: 'ENOTFOUND' }), R.dns, 'ENOTFOUND'],
    ['no answer', err('timeout', { name: 'TimeoutError' }), R.timeout, null],
    ['anything else', err('something odd'), R.other, null],
    ['not even an Error', 'boom', R.other, null],
  ])('%s', (_what, e, reason, code) => {
    const f = describeNatsFailure(e);
    expect(f).toMatchObject({ reason, code });
    expect(f.error).toBe(typeof e === 'string' ? e : (e as Error).message);
    expect(f.hint.length).toBeGreaterThan(0);
  });

  test('the hint names the CA file the node was given, or says to set one', () => {
    const e = err('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(describeNatsFailure(e, { natsCa: '/etc/lookout/ca.pem' }).hint).toContain('NATS_CA (/etc/lookout/ca.pem)');
    expect(describeNatsFailure(e, {}).hint).toMatch(/set NATS_CA/);
  });

  test('every reason has its own hint', () => {
    const hints = new Set(Object.values(R).map((reason) => describeNatsFailure(probeFor(reason)).hint));
    expect(hints.size).toBe(Object.values(R).length);
  });
});

/** An error that classifies as `reason` (checked, so the table above and this stay in step). */
function probeFor(reason: R): unknown {
  const table: Record<R, unknown> = {
    [R.tlsUntrusted]: err('x', { code: 'CERT_UNTRUSTED' }),
    [R.tlsHostname]: err('x', { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
    [R.tlsExpired]: err('x', { code: 'CERT_NOT_YET_VALID' }),
    [R.tlsFile]: err('x', { code: 'ENOENT' }),
    [R.tlsUnsupported]: err("server does not support 'tls'"),
    [R.tls]: err('x', { code: 'ERR_SSL_DECRYPTION_FAILED' }),
    [R.auth]: err('x', { name: 'AuthorizationError' }),
    [R.refused]: err('x', { code: 'ECONNREFUSED' }),
    [R.dns]: err('x', { code: 'EAI_AGAIN' }),
    [R.timeout]: err('x', { code: 'ETIMEDOUT' }),
    [R.other]: err('x'),
  };
  expect(describeNatsFailure(table[reason]).reason).toBe(reason);
  return table[reason];
}

describe('FailureLog', () => {
  // [key, now, logged?, failures it stands for]
  type Step = [string, number, boolean, number];
  test.each<[string, Step[]]>([
    [
      'one failing server retried every 500 ms: the first line at once, then one per 30 s with the count',
      [
        ['a tls_untrusted', 0, true, 1],
        ['a tls_untrusted', 500, false, 1],
        ['a tls_untrusted', 1000, false, 2],
        ['a tls_untrusted', 29_999, false, 3],
        ['a tls_untrusted', 30_000, true, 4],
        ['a tls_untrusted', 30_500, false, 1],
      ],
    ],
    [
      'a new reason is logged at once',
      [
        ['a refused', 0, true, 1],
        ['a refused', 500, false, 1],
        ['a tls_untrusted', 1000, true, 1],
        ['a refused', 1500, false, 2],
      ],
    ],
    [
      'each server has its own budget',
      [
        ['a refused', 0, true, 1],
        ['b tls_untrusted', 0, true, 1],
        ['a refused', 10, false, 1],
        ['b tls_untrusted', 10, false, 1],
      ],
    ],
  ])('%s', (_what, steps) => {
    const log = new FailureLog(30_000);
    for (const [key, now, logged, failures] of steps) expect([key, now, log.record(key, now)]).toEqual([key, now, { log: logged, failures }]);
  });

  test('after a success the next failure is logged at once', () => {
    const log = new FailureLog(30_000);
    expect(log.record('a refused', 0).log).toBe(true);
    expect(log.record('a refused', 1).log).toBe(false);
    log.clear();
    expect(log.record('a refused', 2)).toEqual({ log: true, failures: 1 });
  });
});

describe('nodeInboxPrefix (the node role subscribes to <it>.> only)', () => {
  test.each([
    ['lookout', '_INBOX_lookout'],
    ['acme.hc', '_INBOX_acme_hc'],
    ['team-a.lookout', '_INBOX_team_a_lookout'],
  ])('%s → %s', (prefix, want) => expect(nodeInboxPrefix(prefix)).toBe(want));
});
