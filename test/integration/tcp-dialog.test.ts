// tcp.dialog against real servers on 127.0.0.1 (raw `net` sockets, test/helpers/line-server.ts):
// a multi-step line protocol, a mismatch, a server that closes mid-dialog, one budget of bytes for
// the whole dialog, and an SMTP-like STARTTLS upgrade with a self-signed certificate made by the
// test (openssl): verify on → `tls` at the starttls step, verify off → the rest runs over TLS.
// Regex expects: a version captured and sent back, a regex that never matches, and a pattern whose
// automaton blows up on a 1 MiB answer, stopped by the body worker's budget off the event loop.
import { closeProbeEnv, DIRECT_PROBE_ENV } from '../../checks/probe-env';
import { normalizeSpec, type TcpOptions } from '../../checks/spec';
import { probeTcp } from '../../checks/tcp-probe';
import { validateSpec } from '../../checks/validate';
import { certExpiringIn, type TestCert } from '../helpers/certs';
import { startLineServer, type LineServer, type LineServerOptions } from '../helpers/line-server';
import { waitFor } from '../helpers/poll';
import { startSilentTarget } from '../helpers/targets';

const servers: { close(): Promise<void> }[] = [];
async function server(options: LineServerOptions): Promise<LineServer> {
  const s = await startLineServer(options);
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await closeProbeEnv(DIRECT_PROBE_ENV);
});

/** A spec through the validator (so every dialog here is one a user could put), normalized. */
function spec(target: string, tcp: TcpOptions, timeoutMs = 3000) {
  const r = validateSpec({ kind: 'tcp', target, timeoutMs, tcp }, 'dialog');
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return normalizeSpec('dialog', r.spec);
}

const IRC_GREETING = ':ircd.localhost NOTICE AUTH :*** Looking up your hostname...\r\n';
const IRC_DIALOG: TcpOptions['dialog'] = [
  { expect: 'NOTICE AUTH' },
  { send: 'NICK prober\r\nUSER prober prober prober :prober\r\n' },
  { expect: ' 001 prober ' },
  { send: 'QUIT\r\n' },
];

describe('a line protocol (IRC-like)', () => {
  test('NICK / USER → 001: every step passes', async () => {
    const irc = await server({
      greeting: IRC_GREETING,
      answer: (line) => (line.startsWith('USER ') ? ':ircd.localhost 001 prober :Welcome\r\n' : line === 'QUIT' ? { then: 'close' } : ''),
    });
    const out = await probeTcp(spec(irc.target, { dialog: IRC_DIALOG }));
    expect(out).toMatchObject({ ok: true, reason: null, truncated: false });
    expect(out.step).toBeUndefined();
    expect(out.bodyBytes).toBe(IRC_GREETING.length + ':ircd.localhost 001 prober :Welcome\r\n'.length);
    expect(irc.lines.slice(0, 2)).toEqual(['NICK prober', 'USER prober prober prober :prober']);
  });

  test('a mismatch at step 2: the server answers something else and closes → body, naming the step', async () => {
    const banned = await server({ greeting: IRC_GREETING, answer: (line) => (line.startsWith('USER ') ? { write: 'ERROR :Your IP is banned\r\n', then: 'close' } : '') });
    const out = await probeTcp(spec(banned.target, { dialog: IRC_DIALOG }));
    expect(out).toMatchObject({ ok: false, reason: 'body', step: 'tcp.dialog[2]' });
    expect(out.message).toMatch(/^tcp\.dialog\[2\]: peer closed before sending " 001 prober " \(\d+ bytes received\)$/);
    expect(out.message).not.toContain('banned'); // the target's answer is never echoed
  });

  test('the server closes mid-dialog without answering → reset at that step', async () => {
    const quits = await server({ greeting: IRC_GREETING, answer: (line) => (line.startsWith('USER ') ? { then: 'close' } : '') });
    const out = await probeTcp(spec(quits.target, { dialog: IRC_DIALOG }));
    expect(out).toMatchObject({ ok: false, reason: 'reset', step: 'tcp.dialog[2]' });
    expect(out.message).toMatch(/^tcp\.dialog\[2\]: the peer closed the connection before sending " 001 prober "/);
  });

  test('bytes after a match stay for the next expect (two answers in one packet)', async () => {
    const both = await server({ greeting: '220 first\r\n250 second\r\n', answer: () => '' });
    expect(await probeTcp(spec(both.target, { dialog: [{ expect: '220 first' }, { expect: '250 second' }] }))).toMatchObject({ ok: true });
  });

  test('maxBodyBytes bounds the whole dialog, not each expect → too_large at the step that ran out', async () => {
    const chatty = await server({ greeting: `220 ${'x'.repeat(40)}\r\n`, answer: () => `250 ${'y'.repeat(40)}\r\n` });
    const dialog = [{ expect: '220 ' }, { send: 'HELO\r\n' }, { expect: '250 ok' }];
    const out = await probeTcp(spec(chatty.target, { dialog, maxBodyBytes: 64 }));
    expect(out).toMatchObject({ ok: false, reason: 'too_large', step: 'tcp.dialog[2]', bodyBytes: 64, truncated: true });
    expect(out.message).toBe('tcp.dialog[2]: "250 ok" not in the first 64 bytes');
  });

  test('a peer that never answers: timeout, naming the step that waited', async () => {
    const silent = await startSilentTarget();
    servers.push(silent);
    const out = await probeTcp(spec(silent.target, { dialog: [{ send: 'HELLO\r\n' }, { expect: 'WORLD' }] }, 300));
    expect(out).toMatchObject({ ok: false, reason: 'timeout', step: 'tcp.dialog[1]' });
  });
});

describe('SMTP-like STARTTLS', () => {
  let cert: TestCert;
  let smtp: LineServer;
  beforeAll(async () => {
    cert = await certExpiringIn(30);
    smtp = await server({
      greeting: '220 mail.test ESMTP\r\n',
      cert,
      answer: (line, secure) => {
        if (line.startsWith('EHLO ')) return secure ? '250-mail.test\r\n250 SIZE 1000\r\n' : '250-mail.test\r\n250-STARTTLS\r\n250 SIZE 1000\r\n';
        if (line === 'STARTTLS' && !secure) return { write: '220 ready to start TLS\r\n', then: 'starttls' };
        if (line === 'QUIT') return { write: '221 bye\r\n', then: 'close' };
        return '500 unknown\r\n';
      },
    });
  });

  const SMTP: TcpOptions['dialog'] = [
    { expect: '220 ' },
    { send: 'EHLO lookout\r\n' },
    { expect: '250-STARTTLS' },
    { send: 'STARTTLS\r\n' },
    { expect: '220 ' },
    { starttls: true },
    { send: 'EHLO lookout\r\n' },
    { expect: '250 ' },
    { send: 'QUIT\r\n' },
  ];

  test('verify off: upgraded in place, EHLO over TLS → 250; the certificate is reported', async () => {
    const out = await probeTcp(spec(smtp.target, { tls: { verify: false }, dialog: SMTP }));
    expect(out).toMatchObject({ ok: true, reason: null });
    expect(out.timings.tls).toBeGreaterThan(0);
    expect(out.cert?.daysLeft).toBeGreaterThan(29);
    await expect(waitForLine(smtp, 'tls:QUIT')).resolves.toBe(true);
    expect(smtp.lines.filter((l) => l.startsWith('tls:'))).toEqual(['tls:EHLO lookout', 'tls:QUIT']);
  });

  test('verify on (the default): a self-signed certificate fails the starttls step with tls', async () => {
    const out = await probeTcp(spec(smtp.target, { dialog: SMTP }));
    expect(out).toMatchObject({ ok: false, reason: 'tls', step: 'tcp.dialog[5]' });
    expect(out.message).toMatch(/^tcp\.dialog\[5\]: STARTTLS handshake failed: TLS with 127\.0\.0\.1:\d+ failed: .*\(DEPTH_ZERO_SELF_SIGNED_CERT\)$/);
  });

  test('minDaysLeft applies to the certificate of the upgrade', async () => {
    const out = await probeTcp(spec(smtp.target, { tls: { verify: false, minDaysLeft: 60 }, dialog: SMTP }));
    expect(out).toMatchObject({ ok: false, reason: 'cert_expiry' });
  });

  test('a server that does not speak TLS after STARTTLS → tls', async () => {
    const fake = await server({ greeting: '220 fake\r\n', answer: (line) => (line === 'STARTTLS' ? '220 go ahead\r\n' : '250 ok\r\n') });
    const out = await probeTcp(spec(fake.target, { tls: { verify: false }, dialog: [{ expect: '220 ' }, { send: 'STARTTLS\r\n' }, { expect: '220 ' }, { starttls: true }, { send: 'EHLO x\r\n' }] }, 1500));
    expect(out).toMatchObject({ ok: false, step: 'tcp.dialog[3]' });
    expect(['tls', 'timeout']).toContain(out.reason);
  });
});

describe('regex expects with captures', () => {
  const SSH = '^SSH-2.0-([^ -]+)(?: (.*))?$';

  test('a banner\'s version captured (${1}) and sent back; the server confirms it', async () => {
    const ssh = await server({ greeting: 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n', answer: (line) => (line === 'VERSION OpenSSH_9.6p1 $' ? { write: 'OK\r\n', then: 'close' } : { then: 'close' }) });
    const dialog = [{ expectRegex: SSH }, { send: 'VERSION ${1} $$\r\n' }, { expect: 'OK' }]; // $ matches before CR LF
    expect(await probeTcp(spec(ssh.target, { dialog }))).toMatchObject({ ok: true, reason: null });
    expect(ssh.lines).toEqual(['VERSION OpenSSH_9.6p1 $']);
  });

  test('a regex that never matches: body at its step once the peer closes, the answer not quoted', async () => {
    const other = await server({ greeting: 'SSH-2.0-dropbear\r\n', answer: () => ({ write: 'ERR unknown command\r\n', then: 'close' }) });
    const dialog = [{ expect: 'SSH-2.0-' }, { send: 'HELLO\r\n' }, { expectRegex: '^OK (\\d+)' }];
    const out = await probeTcp(spec(other.target, { dialog }));
    expect(out).toMatchObject({ ok: false, reason: 'body', step: 'tcp.dialog[2]' });
    expect(out.message).toMatch(/^tcp\.dialog\[2\]: peer closed before sending \/\^OK \(\\d\+\)\/ \(\d+ bytes received\)$/);
    expect(out.message).not.toContain('ERR');
  });

  test('a pattern whose automaton blows up, on a 1 MiB answer: stopped at the worker\'s budget (body), while the event loop serves another probe', async () => {
    const hostile = await server({ greeting: abcText(MiB), answer: () => '' });
    const plain = await server({ greeting: '220 ready\r\n', answer: () => '' });
    const finished: string[] = [];
    const hostileRun = probeTcp(spec(hostile.target, { dialog: [{ expectRegex: '(a|b|c)*a(a|b|c){500}(d|e)' }], maxBodyBytes: MiB }, 4000)).then((out) => {
      finished.push('hostile');
      return out;
    });
    const plainRun = probeTcp(spec(plain.target, { dialog: [{ expect: '220 ' }] })).then((out) => {
      finished.push('plain');
      return out;
    });
    const [out, plainOut] = await Promise.all([hostileRun, plainRun]);
    expect(plainOut.ok).toBe(true);
    expect(out).toMatchObject({ ok: false, reason: 'body', step: 'tcp.dialog[0]', bodyBytes: MiB, truncated: true });
    expect(out.message).toMatch(/^tcp\.dialog\[0\]: expectRegex \/\(a\|b\|c\)\*a.*\/ was stopped after 200 ms on 1048576 characters of body; simplify the pattern or lower maxBodyBytes$/);
    expect(finished).toEqual(['plain', 'hostile']);
  });
});

const MiB = 1024 * 1024;

/** Seeded text over "abc" and one "d" at the end, with no line end: the blow-up pattern scans all of it. */
function abcText(chars: number): string {
  let a = 7;
  const out = Buffer.alloc(chars + 1, 'd');
  for (let i = 0; i < chars; i++) {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    out[i] = 0x61 + (a % 3);
  }
  return out.toString('latin1');
}

/** The server's lines reach it after the probe's last write; poll rather than sleep. */
async function waitForLine(s: LineServer, line: string): Promise<boolean> {
  await waitFor(`the server to read ${line}`, () => s.lines.includes(line) || undefined, { timeoutMs: 10_000 });
  return true;
}
