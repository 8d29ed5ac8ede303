// TLS to NATS: a node that cannot verify the server's certificate (wrong CA, no CA) says why in
// its log — reason, error code, the server, and the setting to change — and keeps retrying;
// before, it retried silently forever. Certificates are made here with openssl: a test CA that
// signs the server's certificate, and an unrelated CA. Every scenario has its own nats-server.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { runLookout, type LookoutProcess } from '../helpers/processes';

jest.setTimeout(60_000);

const run = promisify(execFile);
let dir: string;
const file = (name: string) => join(dir, name);

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A self-signed CA `name`.pem / `name`.key. */
async function makeCa(name: string, cn: string): Promise<void> {
  await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`);
}

/** A server certificate for localhost / 127.0.0.1 signed by `ca`. */
async function makeServerCert(name: string, ca: string): Promise<void> {
  await openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost');
  await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', 'san.cnf');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lookout-nats-tls-'));
  writeFileSync(file('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await makeCa('ca', 'Lookout test CA');
  await makeCa('other-ca', 'Some other CA');
  await makeServerCert('server', 'ca');
  await makeServerCert('other-server', 'other-ca');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: NatsServer[] = [];
const nodes: LookoutProcess[] = [];

afterEach(async () => {
  for (const n of nodes.splice(0)) {
    n.signal('SIGKILL');
    await n.exited;
  }
  for (const s of servers.splice(0)) await s.cleanup();
});

/** A TLS-only nats-server presenting `cert` (server: signed by our CA; other-server: by the other CA). */
async function tlsServer(cert = 'server', port?: number): Promise<NatsServer> {
  const s = await startNatsServer({
    ...(port ? { port } : {}),
    logFile: true,
    config: `tls { cert_file: "${file(`${cert}.pem`)}", key_file: "${file(`${cert}.key`)}" }`,
  });
  servers.push(s);
  return s;
}

function node(url: string, env: Record<string, string> = {}): LookoutProcess {
  const p = runLookout(['node'], { NATS_URL: url, LOOKOUT_NODE_ID: `tls-${nodes.length}`, LOOKOUT_TIMING: 'test', LOOKOUT_HTTP_PORT: '0', LOOKOUT_LOG_LEVEL: 'info', ...env });
  nodes.push(p);
  return p;
}

/** Wait for a log line with `event` (and matching `where`); the error shows the last lines seen. */
function logLine(p: LookoutProcess, event: string, where: (l: any) => boolean = () => true, timeoutMs = 20_000): Promise<any> {
  return waitFor(
    `log event ${event}`,
    () => {
      const hit = p.logs().find((l) => l.event === event && where(l));
      if (hit) return hit;
      if (p.proc.exitCode !== null) throw new Error(`node exited ${p.proc.exitCode}: ${p.output().slice(-1500)}`);
      throw new Error(`last lines: ${p.output().slice(-1500)}`);
    },
    { timeoutMs, intervalMs: 50 },
  );
}

const handshakeErrors = (s: NatsServer) => s.log().split('\n').filter((l) => l.includes('TLS handshake error')).length;

test('control: with the CA that signed the server certificate the node connects over TLS', async () => {
  const s = await tlsServer();
  const p = node(s.url, { NATS_CA: file('ca.pem') });
  await logLine(p, 'stores_ready');
  expect(p.logs().filter((l) => l.event === 'nats_connect_failed')).toEqual([]);
});

test.each([
  ['a wrong CA', { NATS_CA: 'other-ca.pem' }, /not signed by the CA in NATS_CA \(.*other-ca\.pem\)/],
  ['no CA (the system store does not know the test CA)', {}, /set NATS_CA/],
])('%s: the node logs the TLS failure and the server, and keeps retrying', async (_what, env: Record<string, string>, hint) => {
  const s = await tlsServer();
  const p = node(s.url, Object.fromEntries(Object.entries(env).map(([k, v]) => [k, file(v)])));
  const line = await logLine(p, 'nats_connect_failed');
  expect(line).toMatchObject({ level: 'error', actor: 'nats', server: s.url, reason: 'tls_untrusted', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  expect(line.error).toMatch(/unable to verify the first certificate/);
  expect(line.hint).toMatch(hint);

  // It keeps trying (the server sees handshake after handshake) but does not log every attempt.
  await waitFor('the server to see four handshakes', () => {
    if (handshakeErrors(s) < 4) throw new Error(`${handshakeErrors(s)} so far; server log: ${s.log().slice(-800)}`);
    return true;
  }, { timeoutMs: 20_000 });
  expect(p.proc.exitCode).toBeNull();
  const lines = p.logs().filter((l) => l.event === 'nats_connect_failed').length;
  expect(lines).toBeLessThan(handshakeErrors(s));
  expect(p.logs().some((l) => l.event === 'nats_connected')).toBe(false);
});

test('nothing listening at start: the node logs "refused", serves /healthz meanwhile, and connects once the server is up', async () => {
  const port = await freePort();
  const p = node(`nats://127.0.0.1:${port}`);
  const line = await logLine(p, 'nats_connect_failed');
  expect(line).toMatchObject({ server: `nats://127.0.0.1:${port}`, reason: 'refused', code: 'ECONNREFUSED' });
  // The HTTP endpoints are up before NATS: alive, not ready, and why.
  const http = (await logLine(p, 'http_listening')).port;
  expect((await fetch(`http://127.0.0.1:${http}/healthz`)).status).toBe(200);
  const ready = await fetch(`http://127.0.0.1:${http}/readyz`);
  expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 503, body: { ready: false, natsConnected: false, assigned: false } });
  servers.push(await startNatsServer({ port }));
  await logLine(p, 'stores_ready');
});

test('a reconnect to a server whose certificate the node does not trust is logged with its reason', async () => {
  const first = await tlsServer('server');
  const p = node(first.url, { NATS_CA: file('ca.pem') });
  await logLine(p, 'stores_ready');
  // The same address now answers with a certificate from another CA (a botched rotation).
  const port = first.port;
  await first.cleanup();
  servers.splice(servers.indexOf(first), 1);
  await tlsServer('other-server', port);
  await logLine(p, 'nats_disconnected');
  const line = await logLine(p, 'nats_reconnect_failing', (l) => l.reason === 'tls_untrusted');
  expect(line).toMatchObject({ level: 'warn', server: first.url, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  expect(line.hint).toContain(file('ca.pem'));
  expect(p.proc.exitCode).toBeNull();
});
