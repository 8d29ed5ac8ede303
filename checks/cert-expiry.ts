// TLS certificate expiry: what every TLS probe (https with undici or the lean path, tcp with tls)
// reports about the certificate its peer presented, and the `tls.minDaysLeft` threshold that turns
// a soon-expiring one into a failure with reason `cert_expiry`.
//
// The connector (checks/connector.ts) reads the peer's chain once the handshake is done, with or
// without verification, and puts a CertInfo in the probe's connect context; the probe copies it to
// its outcome (`cert`) and, once every other assertion passed, applies the threshold to the
// earliest expiry of the chain (the leaf included): an intermediate that expires first breaks the
// site as surely as the leaf. Expiry is a wall-clock matter: `now` is the node's wall clock.
import type { PeerCertificate, DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Failure } from './failures';
import { FailureReason, type CertInfo } from './outcome';

const DAY_MS = 86_400_000;
/** Certificates of a chain read at most: a peer may send a long one, and a loop must end. */
const MAX_CHAIN = 16;

/** Days from `now` to `at`, 2 decimals. */
function daysUntil(at: number, now: number): number {
  return Math.round(((at - now) / DAY_MS) * 100) / 100;
}

/** The notAfter of one certificate (ms since the epoch), NaN when it cannot be read. */
function notAfter(cert: PeerCertificate): number {
  return typeof cert.valid_to === 'string' ? Date.parse(cert.valid_to) : NaN;
}

/** The leaf's and the chain's earliest expiry from certificates leaf-first; null without a readable leaf. */
export function certInfoOf(chain: readonly PeerCertificate[], now: number): CertInfo | null {
  const leaf = chain[0] ? notAfter(chain[0]) : NaN;
  if (!Number.isFinite(leaf)) return null;
  let earliest = leaf;
  for (const cert of chain.slice(1)) {
    const at = notAfter(cert);
    if (Number.isFinite(at) && at < earliest) earliest = at;
  }
  return {
    daysLeft: daysUntil(leaf, now),
    notAfter: new Date(leaf).toISOString(),
    chainDaysLeft: daysUntil(earliest, now),
    chainNotAfter: new Date(earliest).toISOString(),
  };
}

/** The chain a TLS socket's peer presented (leaf first, as Node links it), at most MAX_CHAIN long. */
export function peerChain(socket: TLSSocket): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  while (cert && Object.keys(cert).length > 0 && chain.length < MAX_CHAIN) {
    chain.push(cert);
    const next: DetailedPeerCertificate | undefined = cert.issuerCertificate;
    if (!next || next === cert) break; // a self-signed root names itself
    cert = next;
  }
  return chain;
}

/** The CertInfo of a connected TLS socket, read now; null when the peer sent no readable certificate. */
export function readCertInfo(socket: TLSSocket): CertInfo | null {
  return certInfoOf(peerChain(socket), Date.now());
}

/** The `cert_expiry` failure when the chain expires sooner than `minDaysLeft` days; null otherwise (or without a threshold). */
export function certFailure(cert: CertInfo | undefined, minDaysLeft: number | undefined): Failure | null {
  if (minDaysLeft === undefined || cert === undefined) return null;
  if (cert.chainDaysLeft >= minDaysLeft) return null;
  const which = cert.chainNotAfter === cert.notAfter ? 'the certificate' : 'a certificate of the chain';
  const when = cert.chainDaysLeft < 0 ? `expired ${-cert.chainDaysLeft} days ago` : `expires in ${cert.chainDaysLeft} days`;
  return { reason: FailureReason.cert_expiry, message: `${which} ${when} (${cert.chainNotAfter}); at least ${minDaysLeft} days are required` };
}
