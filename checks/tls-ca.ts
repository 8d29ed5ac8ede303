// A check's own trust anchors (`tls.ca`, blackbox `tls_config.ca_file`): PEM certificates that
// replace the node's trust store when the probe verifies its peer. Read twice: at spec.put, where
// the text must be nothing but well-formed certificates (caProblem), and at connect, where the
// TLS context built from it is taken from a small cache (one context per distinct bundle: building
// one parses every certificate, which a probe every second should not repeat).
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { SPEC_LIMITS } from './spec-limits';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----/g;

/**
 * Why `pem` is not a usable bundle (null: it is): between the certificates only whitespace, at
 * least one and at most SPEC_LIMITS.tlsCa.maxCertificates, each one parsing as X.509. The message
 * names the certificate by its place (1-based), never quotes the text.
 */
export function caProblem(pem: string): string | null {
  const { maxCertificates } = SPEC_LIMITS.tlsCa;
  // Counted before the blocks are matched: each match scans at most one certificate's text.
  const begun = pem.split(BEGIN).length - 1;
  if (begun > maxCertificates) return `holds ${begun} certificates; at most ${maxCertificates}`;
  const blocks = pem.match(BLOCK) ?? [];
  if (blocks.length === 0) return 'must hold PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)';
  if (pem.replace(BLOCK, '').trim() !== '') return 'must hold only PEM certificates (no keys, no other text between them)';
  for (let i = 0; i < blocks.length; i++) {
    try {
      new X509Certificate(blocks[i]!);
    } catch {
      return `certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate`;
    }
  }
  return null;
}

/** Distinct bundles whose TLS context is kept (least recently used dropped first). */
export const CA_CONTEXTS_KEPT = 256;
const contexts = new Map<string, tls.SecureContext>();

/** The TLS context that trusts exactly `ca` (a bundle caProblem accepted). */
export function caContext(ca: string): tls.SecureContext {
  let context = contexts.get(ca);
  if (context) {
    contexts.delete(ca); // most recently used last
  } else {
    context = tls.createSecureContext({ ca });
    if (contexts.size >= CA_CONTEXTS_KEPT) contexts.delete(contexts.keys().next().value!);
  }
  contexts.set(ca, context);
  return context;
}
