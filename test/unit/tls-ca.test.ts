// tls.ca: what spec.put accepts as a bundle, and the TLS context cache (one context per bundle, bounded).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CA_CONTEXTS_KEPT, caContext, caProblem } from '../../checks/tls-ca';

// A CA certificate made once with openssl for this table (EC P-256, valid until 2126).
const CA = readFileSync(join(__dirname, '..', 'fixtures', 'certs', 'fixture-ca.pem'), 'utf8');
const KEY = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
const GARBLED = '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n';

describe('caProblem', () => {
  test.each([
    ['one certificate', CA, null],
    ['CRLF line ends', CA.replaceAll('\n', '\r\n'), null],
    ['four, with blank lines between', [CA, CA, CA, CA].join('\n\n'), null],
    ['no certificate', 'hello', 'must hold PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)'],
    ['five', CA.repeat(5), 'holds 5 certificates; at most 4'],
    ['many BEGIN lines, refused before any block is matched', '-----BEGIN CERTIFICATE-----\n'.repeat(500), 'holds 500 certificates; at most 4'],
    ['a key beside the certificate', CA + KEY, 'must hold only PEM certificates (no keys, no other text between them)'],
    ['text before it', `issuer: ours\n${CA}`, 'must hold only PEM certificates (no keys, no other text between them)'],
    ['the second does not parse', CA + GARBLED, 'certificate 2 of 2 is not a valid X.509 certificate'],
    ['an END missing', CA.replace('-----END CERTIFICATE-----', ''), 'must hold PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)'],
  ])('%s', (_, pem, problem) => expect(caProblem(pem)).toBe(problem));
});

describe('caContext', () => {
  test('one context per bundle, reused', () => {
    expect(caContext(CA)).toBe(caContext(CA));
    expect(caContext(CA + CA)).not.toBe(caContext(CA));
  });

  test(`at most ${CA_CONTEXTS_KEPT} kept: the least recently used is built anew`, () => {
    const first = caContext(CA);
    const built: unknown[] = [];
    // Distinct bundles (trailing newlines differ); the first is used again half way, so it stays.
    for (let i = 1; i <= CA_CONTEXTS_KEPT; i++) {
      built.push(caContext(CA + '\n'.repeat(i)));
      if (i === CA_CONTEXTS_KEPT / 2) expect(caContext(CA)).toBe(first);
    }
    expect(caContext(CA)).toBe(first);
    expect(caContext(CA + '\n'.repeat(CA_CONTEXTS_KEPT))).toBe(built[CA_CONTEXTS_KEPT - 1]);
    // One more bundle than kept went by: the least recently used (the loop's first) was dropped.
    expect(caContext(CA + '\n')).not.toBe(built[0]);
  });
});
