// A small DNS server for tests and the efficiency benchmark, on 127.0.0.1 (UDP and TCP on the
// same port, picked by the OS), built with dns-packet. Each name answers as its zone entry says; a name without one is NXDOMAIN.
// It counts the queries it gets per transport. Nothing here sleeps: a `silent` name never answers.
//
//   records          NOERROR with these answers (an empty list: NOERROR, no answers)
//   rcode            that rcode, no answers
//   silent           no answer at all (the probe times out)
//   garbage          a datagram that is not a DNS message
//   wrongId          a well-formed answer with another id
//   truncateUdp      over UDP: TC set, no answers; over TCP: the records
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';

export interface ZoneEntry {
  records?: packet.Answer[];
  rcode?: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'FORMERR';
  silent?: boolean;
  garbage?: boolean;
  wrongId?: boolean;
  truncateUdp?: boolean;
}

export interface DnsTestServer {
  port: number;
  /** "127.0.0.1:port", as a spec's dns.server. */
  address: string;
  zone: Map<string, ZoneEntry>;
  queries: { udp: number; tcp: number };
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** The reply to `query` (raw bytes), or null for none, as the zone entry says. */
function reply(zone: Map<string, ZoneEntry>, query: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
  let q: packet.Packet;
  try {
    q = packet.decode(query);
  } catch {
    return null;
  }
  const question = q.questions?.[0];
  const entry: ZoneEntry = (question && zone.get(question.name.toLowerCase())) ?? { rcode: 'NXDOMAIN' };
  if (entry.silent) return null;
  if (entry.garbage) return Buffer.from('this is not a DNS message');
  const truncated = entry.truncateUdp === true && transport === 'udp';
  const answers = truncated ? [] : (entry.records ?? []).filter((r) => r.type === question?.type || r.type === 'CNAME');
  const rcode = RCODE[entry.rcode ?? 'NOERROR'];
  const flags = packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (truncated ? packet.TRUNCATED_RESPONSE : 0) | rcode;
  const id = entry.wrongId ? ((q.id ?? 0) + 1) % 65_536 : q.id;
  return packet.encode({ type: 'response', id, flags, questions: q.questions, answers });
}

export async function startDnsServer(zone: Record<string, ZoneEntry> = {}): Promise<DnsTestServer> {
  const entries = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase(), v]));
  const queries = { udp: 0, tcp: 0 };
  const tcp = net.createServer((socket) => {
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + message.length);
        queries.tcp++;
        const answer = reply(entries, message, 'tcp');
        if (answer) socket.write(Buffer.concat([Buffer.from([answer.length >> 8, answer.length & 0xff]), answer]));
      }
    });
  });
  await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, from) => {
    queries.udp++;
    const answer = reply(entries, msg, 'udp');
    if (answer) udp.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(port, '127.0.0.1', resolve));
  return {
    port,
    address: `127.0.0.1:${port}`,
    zone: entries,
    queries,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/** An answer record of `name` (helpers for zone entries). */
export const rr = {
  a: (name: string, address: string): packet.Answer => ({ type: 'A', name, ttl: 60, data: address }),
  aaaa: (name: string, address: string): packet.Answer => ({ type: 'AAAA', name, ttl: 60, data: address }),
  cname: (name: string, to: string): packet.Answer => ({ type: 'CNAME', name, ttl: 60, data: to }),
  mx: (name: string, preference: number, exchange: string): packet.Answer => ({ type: 'MX', name, ttl: 60, data: { preference, exchange } }),
  txt: (name: string, ...text: string[]): packet.Answer => ({ type: 'TXT', name, ttl: 60, data: text }),
  srv: (name: string, priority: number, weight: number, port: number, target: string): packet.Answer => ({ type: 'SRV', name, ttl: 60, data: { priority, weight, port, target } }),
};
