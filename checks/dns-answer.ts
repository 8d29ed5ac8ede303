// What a dns check's answer must be, and whether it is: the text form of each record type (what
// a spec's expected values are written as and answers are compared in), the expected values as a
// spec writes them, and the judgement of a response's rcode and answers. Pure.
//
//   A, AAAA   the address, normalised ("10.0.0.1", "2001:db8::1")
//   CNAME, NS the name, lower case, without the trailing dot
//   MX        "preference exchange"               e.g. "10 mail.example.com"
//   SRV       "priority weight port target"       e.g. "0 5 5060 sip.example.com"
//   TXT       the record's strings joined, as UTF-8 text
//
// Only answers of the queried type count (an A query answered through a CNAME counts the A
// records). Expected values are the spec's, so messages quote them; what the server answered is
// quoted only with LOOKOUT_RESULT_DETAIL=full (checks/result-detail.ts).
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Failure } from './failures';
import { FailureReason } from './outcome';
import { ResultDetail, preview } from './result-detail';
import { DNS_NAME_PATTERN, type DnsRcode, type DnsRecordType } from './spec-schema-dns';

/** A record as a decoder hands it over: its type and its data (dns-packet's shapes). */
export interface DnsRecord {
  type: string;
  data?: unknown;
}

/** The dns section of a normalized spec: what the judgement reads. */
export interface DnsExpectation {
  type: DnsRecordType;
  expectRcode: DnsRcode;
  answersContain: readonly string[];
  answersEqual?: readonly string[];
  minAnswers: number;
}

const NAME = new RegExp(DNS_NAME_PATTERN);
const MX = /^([0-9]{1,5}) (\S+)$/;
const SRV = /^([0-9]{1,5}) ([0-9]{1,5}) ([0-9]{1,5}) (\S+)$/;

const lowerName = (name: string): string => (name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name).toLowerCase();
const u16 = (s: string): boolean => Number(s) <= 65535;
const nameOk = (s: string): boolean => s === '.' || NAME.test(s);

/** The text form of `value` expected of a `type` answer, or why a spec's value cannot be one. */
export function expectedText(type: DnsRecordType, value: string): { text: string } | { problem: string } {
  switch (type) {
    case 'A':
      return isIP(value) === 4 ? { text: ipaddr.parse(value).toString() } : { problem: 'an A value is an IPv4 address such as 10.0.0.1' };
    case 'AAAA':
      return isIP(value) === 6 ? { text: ipaddr.parse(value).toString() } : { problem: 'an AAAA value is an IPv6 address such as 2001:db8::1' };
    case 'CNAME':
    case 'NS':
      return nameOk(value) && value.length <= 254 ? { text: lowerName(value) } : { problem: `a ${type} value is a DNS name such as host.example.com` };
    case 'MX': {
      const m = MX.exec(value);
      if (!m || !u16(m[1]!) || !nameOk(m[2]!)) return { problem: 'an MX value is "preference exchange", e.g. "10 mail.example.com"' };
      return { text: `${Number(m[1])} ${lowerName(m[2]!)}` };
    }
    case 'SRV': {
      const m = SRV.exec(value);
      if (!m || ![m[1]!, m[2]!, m[3]!].every(u16) || !nameOk(m[4]!)) return { problem: 'an SRV value is "priority weight port target", e.g. "0 5 5060 sip.example.com"' };
      return { text: `${Number(m[1])} ${Number(m[2])} ${Number(m[3])} ${lowerName(m[4]!)}` };
    }
    case 'TXT':
      return { text: value };
    default: {
      const never: never = type;
      return { problem: `unknown record type ${String(never)}` };
    }
  }
}

/** The text form of an answer of the queried type; null for a record of another type or a malformed one. */
export function answerText(type: DnsRecordType, record: DnsRecord): string | null {
  if (record.type !== type) return null;
  const d = record.data as Record<string, unknown> | string | Buffer[] | undefined;
  try {
    switch (type) {
      case 'A':
      case 'AAAA':
        return typeof d === 'string' ? ipaddr.parse(d).toString() : null;
      case 'CNAME':
      case 'NS':
        return typeof d === 'string' ? lowerName(d || '.') : null;
      case 'MX': {
        const mx = d as { preference?: number; exchange?: string };
        return typeof mx?.exchange === 'string' ? `${mx.preference ?? 0} ${lowerName(mx.exchange || '.')}` : null;
      }
      case 'SRV': {
        const srv = d as { priority?: number; weight?: number; port?: number; target?: string };
        return typeof srv?.target === 'string' ? `${srv.priority ?? 0} ${srv.weight ?? 0} ${srv.port ?? 0} ${lowerName(srv.target || '.')}` : null;
      }
      case 'TXT':
        return Array.isArray(d) ? Buffer.concat(d.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from(String(b))))).toString('utf8') : null;
    }
  } catch {
    return null;
  }
  return null;
}

/** What the answer's rcode means as a failure reason when it is not the expected one. */
export function rcodeReason(rcode: string): FailureReason {
  if (rcode === 'NXDOMAIN') return FailureReason.nxdomain;
  if (rcode === 'SERVFAIL') return FailureReason.servfail;
  if (rcode === 'REFUSED') return FailureReason.refused;
  return FailureReason.answer;
}

/** Judge a response: its rcode, then the count and values of its answers of the queried type. */
export function judgeAnswers(e: DnsExpectation, rcode: string, records: readonly DnsRecord[], detail: ResultDetail): Failure | null {
  if (rcode !== e.expectRcode) return { reason: rcodeReason(rcode), message: `expected rcode ${e.expectRcode}, got ${rcode}` };
  const found = records.map((r) => answerText(e.type, r)).filter((t): t is string => t !== null);
  const seen = new Set(found);
  const got = `${found.length} ${e.type} answer${found.length === 1 ? '' : 's'}${shown(found, detail)}`;
  if (found.length < e.minAnswers) return { reason: FailureReason.answer, message: `expected at least ${e.minAnswers} ${e.type} answer${e.minAnswers === 1 ? '' : 's'}, got ${got}` };
  const wanted = e.answersEqual ?? e.answersContain;
  const missing = wanted.map((v) => [v, textOf(e.type, v)] as const).filter(([, t]) => !seen.has(t));
  if (missing.length > 0) return { reason: FailureReason.answer, message: `the answers lack ${missing.map(([v]) => JSON.stringify(v)).join(', ')}; got ${got}` };
  if (e.answersEqual) {
    const allowed = new Set(e.answersEqual.map((v) => textOf(e.type, v)));
    const extra = [...seen].filter((t) => !allowed.has(t)).length;
    if (extra > 0) return { reason: FailureReason.answer, message: `expected exactly ${e.answersEqual.length} value${e.answersEqual.length === 1 ? '' : 's'}, got ${extra} more; got ${got}` };
  }
  return null;
}

function textOf(type: DnsRecordType, value: string): string {
  const t = expectedText(type, value);
  return 'text' in t ? t.text : value;
}

/** The answers themselves, only with `full` detail: at most 4, each cut short. */
function shown(found: readonly string[], detail: ResultDetail): string {
  if (detail !== ResultDetail.full || found.length === 0) return '';
  const first = found.slice(0, 4).map((t) => preview(t));
  return ` (${first.join(', ')}${found.length > 4 ? ', …' : ''})`;
}
