import { normalizeSpec, type CheckSpec, type TcpOptions } from '../../checks/spec';
import { parseHostPort, probeTcp } from '../../checks/tcp-probe';
import { closedPort, resolverKnowingNothing, startSilentTarget, startTcpTarget, type TcpTarget } from '../helpers/targets';
import { DIRECT_PROBE_ENV } from '../../checks/probe-env';

function tcpSpec(target: string, tcp: TcpOptions = {}, extra: Partial<CheckSpec> = {}) {
  return normalizeSpec('tcp-test', { kind: 'tcp', target, timeoutMs: 2000, tcp, ...extra });
}

const targets: TcpTarget[] = [];
async function started(target: Promise<TcpTarget>): Promise<TcpTarget> {
  const t = await target;
  targets.push(t);
  return t;
}
afterAll(() => Promise.all(targets.map((t) => t.close())));

describe('parseHostPort', () => {
  test.each([
    ['127.0.0.1:80', { host: '127.0.0.1', port: 80 }],
    ['db.internal:5432', { host: 'db.internal', port: 5432 }],
    ['[::1]:6379', { host: '::1', port: 6379 }],
    ['[2001:db8::1]:65535', { host: '2001:db8::1', port: 65535 }],
    ['localhost', null],
    ['::1:80', null],
    ['host:0', null],
    ['host:65536', null],
    ['host:', null],
    [':80', null],
  ])('%s', (target, parsed) => {
    expect(parseHostPort(target)).toEqual(parsed);
  });
});

describe('probeTcp', () => {
  test('a completed connect passes', async () => {
    const silent = await started(startSilentTarget());
    const out = await probeTcp(tcpSpec(silent.target));
    expect(out).toMatchObject({ ok: true, reason: null, message: null });
    expect(out.timings.connect).toBeGreaterThanOrEqual(0);
    expect(out.timings.firstByte).toBeUndefined();
    expect(out.latencyMs).toBe(out.timings.total);
    expect(silent.connections).toBe(1);
  });

  test('connection refused', async () => {
    const port = await closedPort();
    expect(await probeTcp(tcpSpec(`127.0.0.1:${port}`))).toMatchObject({
      ok: false,
      reason: 'refused',
      message: `connection refused by 127.0.0.1:${port}`,
    });
  });

  test('an unresolvable host', async () => {
    expect((await probeTcp(tcpSpec('nope.invalid:80'), undefined, { ...DIRECT_PROBE_ENV, lookup: resolverKnowingNothing })).reason).toBe('dns');
  });

  test('send and expect: the peer answers', async () => {
    const echo = await started(startTcpTarget({ echo: true }));
    const out = await probeTcp(tcpSpec(echo.target, { send: 'PING héllo\r\n', expect: 'héllo' }));
    expect(out).toMatchObject({ ok: true, bodyBytes: 13, truncated: false });
    expect(out.timings.firstByte).toBeGreaterThanOrEqual(out.timings.connect!);
    expect(echo.received).toBe('PING héllo\r\n');
  });

  test('send without expect passes once the bytes are written', async () => {
    const silent = await started(startSilentTarget());
    expect((await probeTcp(tcpSpec(silent.target, { send: 'QUIT\r\n' }))).ok).toBe(true);
  });

  test('a banner is expected without sending anything', async () => {
    const ssh = await started(startTcpTarget({ banner: 'SSH-2.0-OpenSSH_9.6\r\n' }));
    expect((await probeTcp(tcpSpec(ssh.target, { expect: 'SSH-2.0-' }))).ok).toBe(true);
  });

  test('the peer closes without the expected bytes: body', async () => {
    const wrong = await started(startTcpTarget({ banner: '220 ftp ready\r\n', closeAfterBanner: true }));
    expect(await probeTcp(tcpSpec(wrong.target, { expect: 'SSH-2.0-' }))).toMatchObject({
      ok: false,
      reason: 'body',
      message: 'peer closed before sending "SSH-2.0-" (15 bytes received)',
      bodyBytes: 15,
    });
  });

  test('the cap is reached without the expected bytes: too_large', async () => {
    const chatty = await started(startTcpTarget({ banner: 'x'.repeat(100) }));
    expect(await probeTcp(tcpSpec(chatty.target, { expect: 'y', maxBodyBytes: 10 }))).toMatchObject({
      ok: false,
      reason: 'too_large',
      bodyBytes: 10,
      truncated: true,
    });
  });

  test('expected bytes just inside the cap pass', async () => {
    const banner = await started(startTcpTarget({ banner: '0123456789' }));
    expect((await probeTcp(tcpSpec(banner.target, { expect: '789', maxBodyBytes: 10 }))).ok).toBe(true);
    expect((await probeTcp(tcpSpec(banner.target, { expect: '789', maxBodyBytes: 9 }))).reason).toBe('too_large');
  });

  test('a peer that never answers: timeout after connecting (how soon: bench:deadline)', async () => {
    const silent = await started(startSilentTarget());
    const out = await probeTcp(tcpSpec(silent.target, { send: 'hello', expect: 'world' }, { timeoutMs: 300 }));
    expect(out).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 300 ms' });
    expect(out.timings.connect).toBeDefined();
    expect(out.timings.firstByte).toBeUndefined();
  });

  test('latency bound', async () => {
    const silent = await started(startSilentTarget());
    expect(await probeTcp(tcpSpec(silent.target, { maxLatencyMs: 0 }))).toMatchObject({ ok: false, reason: 'latency' });
    expect((await probeTcp(tcpSpec(silent.target, { maxLatencyMs: 1000 }))).ok).toBe(true);
  });

  test('an external abort: error "aborted"', async () => {
    const silent = await started(startSilentTarget());
    const shutdown = new AbortController();
    const probe = probeTcp(tcpSpec(silent.target, { expect: 'x' }, { timeoutMs: 5000 }), shutdown.signal);
    shutdown.abort();
    expect(await probe).toMatchObject({ ok: false, reason: 'error', message: 'aborted' });
  });

  describe('TLS', () => {
    let secure: TcpTarget;
    beforeAll(async () => {
      secure = await started(startTcpTarget({ tls: true, banner: '* OK IMAP4rev1 ready\r\n' }));
    });

    test('verification on rejects a self-signed certificate', async () => {
      expect(await probeTcp(tcpSpec(secure.target, { tls: {} }))).toMatchObject({ ok: false, reason: 'tls' });
    });

    test('verification off: handshake, then expect over TLS', async () => {
      const out = await probeTcp(tcpSpec(`localhost:${secure.port}`, { tls: { verify: false }, expect: '* OK' }));
      expect(out.ok).toBe(true);
      expect(out.timings.dns).toBeGreaterThanOrEqual(0);
      expect(out.timings.tls).toBeGreaterThan(0);
      expect(out.timings.firstByte).toBeGreaterThanOrEqual(out.timings.tls!);
    });
  });
});
