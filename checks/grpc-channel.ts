// One fresh, bounded grpc-js channel per probe, to an address the node's address policy already
// allowed (checks/grpc-probe.ts resolves and decides it), closed by the probe when it ends.
//
// grpc-js dials the address itself: the channel target is the vetted IP (`ipv4:1.2.3.4:50051`,
// `ipv6:[::1]:50051`), so nothing is resolved again (no DNS rebinding), and the spec's host name
// is only the `:authority` of the call and the TLS name. The TLS handshake is ours, not grpc-js's:
// a ChannelCredentials whose connector wraps the TCP socket grpc-js connected, so a handshake error
// keeps its Node code (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID, …: reason `tls`),
// the peer certificate's expiry is read as for every TLS probe (checks/cert-expiry.ts) and the
// connect and tls phases are timed.
//
// The channel options bound what a target can make it do: no retries, no HTTP proxy from the
// environment (grpc_proxy / http_proxy), no keepalive pings, its own subchannel (a fresh
// connection: no pool shared between probes), no channelz registry, no service config lookup, and
// a 4 KiB cap on a received message (a health response is 2 bytes).
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { CallCredentials, ChannelCredentials, Client, type ChannelOptions } from '@grpc/grpc-js';
import { readCertInfo } from './cert-expiry';
import { caContext } from './tls-ca';
import type { ProbeTimings, TlsProfile } from './connector';
import type { CertInfo } from './outcome';
import { GRPC_LIMITS } from './spec-schema-grpc';

/** The options of every probe channel (see above). */
export const GRPC_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.enable_retries': 0,
  'grpc.enable_http_proxy': 0,
  'grpc.use_local_subchannel_pool': 1,
  'grpc.enable_channelz': 0,
  'grpc.service_config_disable_resolution': 1,
  'grpc.max_receive_message_length': GRPC_LIMITS.maxResponseBytes,
  'grpc.max_send_message_length': GRPC_LIMITS.maxResponseBytes,
};

type SecureConnector = ReturnType<ChannelCredentials['_createSecureConnector']>;

/** Where the channel reports what happened on its connection. */
export interface ChannelReport {
  timings: ProbeTimings;
  /** Milliseconds since the probe's start. */
  elapsed(): number;
  /** The TLS handshake's error, with its Node code (grpc-js passes on only its text). */
  tlsError?: unknown;
  cert?: CertInfo;
  /** Every socket of the connection, destroyed at teardown (a handshake in progress included). */
  sockets: net.Socket[];
}

/** What a probe channel connects to. */
export interface ChannelTarget {
  /** The allowed address (IPv6 without brackets) and port grpc-js dials. */
  address: string;
  port: number;
  /** The spec's host, as written: the call's :authority (with the port) and the default TLS name. */
  host: string;
  tls?: TlsProfile;
  userAgent?: string;
}

/** The grpc-js target URI of an address: `ipv4:a.b.c.d:port` or `ipv6:[…]:port`. */
export function channelUri(address: string, port: number): string {
  return net.isIPv6(address) ? `ipv6:[${address}]:${port}` : `ipv4:${address}:${port}`;
}

/** The :authority of the calls: the spec's host and port (an IPv6 literal in brackets). */
export function authorityOf(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A new Client on a channel of its own; the caller closes it. */
export function openProbeChannel(target: ChannelTarget, report: ChannelReport): Client {
  const dialStart = report.elapsed();
  const options: ChannelOptions = {
    ...GRPC_CHANNEL_OPTIONS,
    'grpc.default_authority': authorityOf(target.host, target.port),
    ...(target.userAgent ? { 'grpc.primary_user_agent': target.userAgent } : {}),
  };
  return new Client(channelUri(target.address, target.port), new ProbeCredentials(target, report, dialStart), options);
}

/** Channel credentials whose connector is this probe's: times the connect, does the TLS handshake itself. */
class ProbeCredentials extends ChannelCredentials {
  constructor(
    private readonly target: ChannelTarget,
    private readonly report: ChannelReport,
    private readonly dialStart: number,
  ) {
    super();
  }

  _isSecure(): boolean {
    return this.target.tls !== undefined;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(): SecureConnector {
    return {
      connect: async (socket: net.Socket) => {
        const r = this.report;
        r.sockets.push(socket);
        r.timings.connect = round(r.elapsed() - this.dialStart);
        if (!this.target.tls) return { socket, secure: false };
        const secure = await this.handshake(socket, this.target.tls);
        return { socket: secure, secure: true };
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => CallCredentials.createEmpty(),
      destroy: () => {},
    };
  }

  private handshake(socket: net.Socket, profile: TlsProfile): Promise<TLSSocket> {
    const r = this.report;
    const start = r.elapsed();
    const host = this.target.host;
    const servername = profile.servername ?? (net.isIP(host) ? undefined : host);
    return new Promise((resolve, reject) => {
      const secure = tls.connect({
        socket,
        // The name the certificate is checked against when no servername is given.
        host,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: profile.verify,
        ...(profile.ca !== undefined ? { secureContext: caContext(profile.ca) } : {}),
        ALPNProtocols: ['h2'],
      });
      // A late error (after grpc-js took the socket over) must never go unhandled.
      secure.on('error', noop);
      r.sockets.push(secure);
      secure.once('secureConnect', () => {
        secure.off('error', onError);
        r.timings.tls = round(r.elapsed() - start);
        const cert = readCertInfo(secure);
        if (cert) r.cert = cert;
        resolve(secure);
      });
      const onError = (err: Error): void => {
        r.tlsError = err;
        secure.destroy();
        reject(err);
      };
      secure.once('error', onError);
    });
  }
}

const noop = (): void => {};

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
