// One DNS probe: pick the server (the spec's `dns.server`, through the node's address policy like
// any target, or the node's system resolver) → one UDP query → the response read as hostile input
// (checks/dns-wire.ts) → over TCP when the UDP answer was truncated → rcode and answers judged
// (checks/dns-answer.ts), all within one Deadline (checks/probe-envelope.ts).
//
// The UDP socket is connected to the server, so the kernel drops datagrams from anyone else and a
// closed port comes back as ECONNREFUSED (`refused`). The first datagram decides: one that is not
// the response to the query sent (garbage, another id, another question) is `protocol`.
// Timings: `dns` resolving a server given by name, `connect` the TCP fallback's connect,
// `firstByte` the first response, from the probe's start.
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { showEndpoint, splitHostPort } from './address-policy';
import { allowedAddresses, connectTimed, type ConnectContext, type ProbeTimings } from './connector';
import { answerText, judgeAnswers } from './dns-answer';
import { buildQuery, readResponse, TcpFrameReader, tcpFrame, type DnsQuery, type DnsResponse } from './dns-wire';
import type { Deadline } from './deadline';
import { networkFailure, type Failure } from './failures';
import { FailureReason, type DnsInfo, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from './probe-env';
import { runWithinDeadline } from './probe-envelope';
import type { NormalizedSpec } from './spec';
import { DNS_DEFAULTS } from './spec-schema-dns';
import type { StopSignal } from './probe-stop';

const noop = (): void => {};

interface DnsAttempt {
  timings: ProbeTimings;
  udp?: dgram.Socket;
  tcp?: Socket;
  /** "address:port" of the server, once chosen. */
  endpoint?: string;
  info?: DnsInfo;
}

/** Where the node's system resolver sends queries: its first configured server (resolv.conf, as node:dns read it). */
export function systemDnsServer(servers: readonly string[] = dns.getServers()): { host: string; port: number } | null {
  const first = servers[0];
  if (first === undefined) return null;
  if (isIP(first)) return { host: first, port: DNS_DEFAULTS.port };
  return splitHostPort(first);
}

/** `env`: the address policy and resolver (a node passes its own). */
export function probeDns(spec: NormalizedSpec, signal?: StopSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  return runWithinDeadline<DnsAttempt>({ timeoutMs: spec.timeoutMs, maxLatencyMs: spec.dns.maxLatencyMs }, signal, {
    begin: () => ({ timings: {} }),
    exchange: (deadline, a) => exchange(spec, deadline, a, env),
    classify: (err, a) => networkFailure(err, a.endpoint ?? spec.dns.server ?? 'the system resolver', env.detail),
    teardown: (a) => {
      a.tcp?.destroy();
      if (a.udp) closeQuietly(a.udp);
    },
    extra: (a) => (a.info ? { dns: a.info } : {}),
  });
}

async function exchange(spec: NormalizedSpec, deadline: Deadline, a: DnsAttempt, env: ProbeEnv): Promise<Failure | null> {
  const d = spec.dns;
  const ctx: ConnectContext = { timings: a.timings, signal: deadline.signal, policy: env.policy, lookup: env.lookup };
  let server: { host: string; port: number };
  if (d.server !== undefined) {
    const given = splitHostPort(d.server);
    if (!given) return { reason: FailureReason.error, message: `invalid DNS server ${JSON.stringify(d.server)}` };
    // The spec's server is a target like any other: a denied address is never sent a byte.
    const [address] = await allowedAddresses(given.host, given.port, ctx);
    server = { host: address!, port: given.port };
  } else {
    // The operator's own resolver (not a spec's choice): not subject to the target policy.
    const system = systemDnsServer();
    if (!system) return { reason: FailureReason.error, message: 'this node has no system DNS server configured' };
    server = system;
  }
  a.endpoint = showEndpoint(server.host, server.port);
  const query = buildQuery(spec.target, d.type);
  let transport: DnsInfo['transport'] = 'udp';
  let read = readResponse(await udpExchange(server, query, deadline, a), query);
  if ('response' in read && read.response.truncated) {
    transport = 'tcp';
    read = readResponse(await tcpExchange(server, query, ctx, a), query);
  }
  if ('problem' in read) return { reason: FailureReason.protocol, message: `invalid DNS response from ${a.endpoint} (${transport}): ${read.problem}` };
  const response: DnsResponse = read.response;
  const answers = response.answers.filter((r) => answerText(d.type, r) !== null).length;
  a.info = { server: a.endpoint, transport, rcode: response.rcode, answers };
  return judgeAnswers(d, response.rcode, response.answers, env.detail);
}

/** Send the query over a connected UDP socket; the first datagram back. Rejects on a socket error (ECONNREFUSED: port closed). */
function udpExchange(server: { host: string; port: number }, query: DnsQuery, deadline: Deadline, a: DnsAttempt): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: isIP(server.host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 65_536 });
    a.udp = socket;
    // A late error (an ICMP after the answer) must not go unhandled.
    socket.on('error', noop).once('error', reject);
    socket.once('message', (msg: Buffer) => {
      a.timings.firstByte = deadline.elapsed();
      resolve(msg);
    });
    socket.connect(server.port, server.host, () => socket.send(query.bytes));
  });
}

/** The query again over TCP (a truncated UDP answer): connect (timed), framed query, framed response (at most 64 KiB). */
async function tcpExchange(server: { host: string; port: number }, query: DnsQuery, ctx: ConnectContext, a: DnsAttempt): Promise<Buffer> {
  const socket = await connectTimed({ host: server.host, port: server.port }, ctx);
  a.tcp = socket;
  const reader = new TcpFrameReader();
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const message = reader.push(chunk);
      if (message) resolve(message);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(Object.assign(new Error(`${a.endpoint} closed the TCP connection before a whole response`), { code: 'ECONNRESET' })));
    socket.write(tcpFrame(query.bytes));
  });
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
