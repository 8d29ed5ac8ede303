// TLS certificates with chosen lifetimes, made by the test with the `openssl` CLI (EC P-256: fast)
// in a temp dir removed right away. For the certificate-expiry tests: a leaf that expires in N
// days, self-signed, or signed by a CA of its own lifetime (the server then sends leaf + CA).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';

export interface TestCert {
  key: string;
  /** The leaf, then the CA when there is one: what a server sends. */
  cert: string;
  /** The CA's certificate alone, when there is one (what a client trusts: `tls.ca`). */
  ca?: string;
}

/**
 * A key and certificate for CN=localhost (SAN DNS:localhost, IP:127.0.0.1) valid for `days` days
 * from now; with `caDays`, signed by a fresh CA valid for that many days, whose certificate follows.
 */
export async function certExpiringIn(days: number, caDays?: number): Promise<TestCert> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-cert-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) =>
    run('openssl', args).catch((err: Error) => {
      throw new Error(`certExpiringIn needs the openssl CLI: ${err.message}`);
    });
  try {
    if (caDays === undefined) {
      // prettier-ignore
      await openssl(['req', '-x509', ...KEY, '-keyout', file('key.pem'), '-out', file('cert.pem'), '-subj', '/CN=localhost', '-addext', SAN, '-days', String(days)]);
      return { key: await readFile(file('key.pem'), 'utf8'), cert: await readFile(file('cert.pem'), 'utf8') };
    }
    // prettier-ignore
    await openssl(['req', '-x509', ...KEY, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-subj', '/CN=lookout test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-days', String(caDays)]);
    await openssl(['req', '-new', ...KEY, '-keyout', file('key.pem'), '-out', file('leaf.csr'), '-subj', '/CN=localhost']);
    await writeFile(file('leaf.ext'), `${SAN}\n`);
    // prettier-ignore
    await openssl(['x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('leaf.pem'), '-days', String(days), '-extfile', file('leaf.ext')]);
    const ca = await readFile(file('ca.pem'), 'utf8');
    return { key: await readFile(file('key.pem'), 'utf8'), cert: (await readFile(file('leaf.pem'), 'utf8')) + ca, ca };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
