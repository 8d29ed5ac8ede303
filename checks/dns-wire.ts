// DNS messages on the wire for the dns probe (checks/dns-probe.ts), with dns-packet doing the
// encoding: the query a probe sends, and the response read back as hostile input — bounded in
// size, decoded without trusting its counts (dns-packet throws past the end of the buffer and
// follows only backward compression pointers), and refused unless it is a response to exactly
// the query sent (same id, QR set, opcode QUERY, the one question with the same name, type and
// class). Pure, apart from the Buffer it reads.
import { randomInt } from 'node:crypto';
import * as packet from 'dns-packet';
import type { DnsRecord } from './dns-answer';
import type { DnsRecordType } from './spec-schema-dns';

/** The most of a response read: a DNS message over TCP has a 16-bit length, over UDP it is a datagram. */
export const MAX_RESPONSE_BYTES = 65_535;

/** The query a probe sent: what its response must echo. */
export interface DnsQuery {
  id: number;
  name: string;
  type: DnsRecordType;
  bytes: Buffer;
}

/** A response that answers the query: its rcode, whether it was truncated, its answer records. */
export interface DnsResponse {
  rcode: string;
  truncated: boolean;
  answers: DnsRecord[];
}

/** A fresh query for `name` / `type` with a random id and recursion desired. */
export function buildQuery(name: string, type: DnsRecordType, id: number = randomInt(0, 65_536)): DnsQuery {
  const question = { type, name: bare(name), class: 'IN' as const };
  const bytes = packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [question] });
  return { id, name: question.name, type, bytes };
}

/** The name without its trailing dot (dns-packet's form); "." stays the root. */
function bare(name: string): string {
  return name.length > 1 && name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Read `bytes` as the response to `query`: the response, or why it is not one. */
export function readResponse(bytes: Buffer, query: DnsQuery): { response: DnsResponse } | { problem: string } {
  if (bytes.length > MAX_RESPONSE_BYTES) return { problem: `the response is ${bytes.length} bytes, more than ${MAX_RESPONSE_BYTES}` };
  if (bytes.length < 12) return { problem: `the response is ${bytes.length} bytes, shorter than a DNS header` };
  // The id first, from the header itself: a mismatch says more than a decoding error would.
  const id = bytes.readUInt16BE(0);
  if (id !== query.id) return { problem: `the response's id ${id} does not match the query's ${query.id}` };
  let decoded: packet.Packet;
  try {
    decoded = packet.decode(bytes);
  } catch (err) {
    return { problem: `the response does not decode (${err instanceof Error ? err.message : 'malformed'})` };
  }
  if (decoded.type !== 'response') return { problem: 'the message is a query, not a response (QR bit clear)' };
  const header = decoded as { opcode?: string; rcode?: string };
  const opcode = header.opcode ?? 'QUERY';
  if (opcode !== 'QUERY') return { problem: `the response's opcode is ${opcode}, not QUERY` };
  const questions = decoded.questions ?? [];
  if (questions.length !== 1) return { problem: `the response carries ${questions.length} questions; the query asked one` };
  const [q] = questions;
  const sameName = bare(q!.name).toLowerCase() === query.name.toLowerCase();
  if (!sameName || q!.type !== query.type || (q!.class ?? 'IN') !== 'IN') {
    return { problem: 'the response answers another question than the one asked' };
  }
  return {
    response: {
      rcode: header.rcode ?? 'NOERROR',
      truncated: ((decoded.flags ?? 0) & packet.TRUNCATED_RESPONSE) !== 0,
      answers: (decoded.answers ?? []) as DnsRecord[],
    },
  };
}

/** A DNS message framed for TCP: a two-byte length, then the message (RFC 1035 §4.2.2). */
export function tcpFrame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length, 0);
  return Buffer.concat([length, message]);
}

/**
 * Collects a TCP response: bytes in, the message out once its length prefix is satisfied. It
 * keeps at most 2 + 65,535 bytes, whatever the peer sends.
 */
export class TcpFrameReader {
  private chunks: Buffer[] = [];
  private held = 0;

  /** Add a chunk; the whole message once complete, else null. */
  push(chunk: Buffer): Buffer | null {
    const room = 2 + MAX_RESPONSE_BYTES - this.held;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.held += kept.length;
    if (this.held < 2) return null;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [all];
    const length = all.readUInt16BE(0);
    return all.length >= 2 + length ? all.subarray(2, 2 + length) : null;
  }
}
