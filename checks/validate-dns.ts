// The `dns` section of a CheckSpec and a dns check's target (used by validate.ts). Field lists,
// order and limits come from the schema (checks/spec-schema-dns.ts) through `fields`; written here
// is what the schema does not say: the query name's syntax, the server's host:port syntax, each
// expected value's syntax for the queried type (checks/dns-answer.ts), and the conflicts:
//
//   answersContain with answersEqual                       conflict  dns.answersEqual
//   answers or minAnswers > 0 with an rcode not NOERROR    conflict  dns.answersContain / answersEqual / minAnswers
//   maxLatencyMs >= timeoutMs                              conflict  dns.maxLatencyMs
//
// A server's *address* is decided by the answering node's address policy (spec API, `denied`)
// and, for a name, at every probe after it resolves (checks/dns-probe.ts).
import { isIP } from 'node:net';
import { expectedText } from './dns-answer';
import { DnsOptionsSchema, type DnsOptions } from './spec-schema';
import { DNS_DEFAULTS, DNS_LIMITS, type DnsRecordType } from './spec-schema-dns';
import { checkLatencyBound, type TimeoutBound } from './validate-sections';
import { at, fail, hostnameProblem, object, show, tcpTargetProblem } from './validate-fields';
import { choice, fields, integer, list, text } from './validate-table';

/** Why `name` cannot be a dns check's query name; undefined when it can. */
export function dnsNameProblem(name: string): string | undefined {
  if (isIP(name)) return 'the query name must be a DNS name, not an IP address (reverse lookups are not supported)';
  if (name.length > DNS_LIMITS.nameMaxLength + (name.endsWith('.') ? 1 : 0)) return `a DNS name is at most ${DNS_LIMITS.nameMaxLength} characters`;
  return hostnameProblem(name);
}

/** The `dns` section of a spec whose effective timeout is `timeout`. */
export function checkDns(path: string, v: unknown, timeout: TimeoutBound): DnsOptions {
  const values = (p: string, x: unknown, s: typeof DnsOptionsSchema.properties.answersContain, before: Partial<DnsOptions>): string[] =>
    list(p, x, s).map((item, i) => expectedValue(at(p, i), text(at(p, i), item, s.items), before.type ?? DNS_DEFAULTS.type));
  const d = fields(path, object(path, v), DnsOptionsSchema, {
    type: choice,
    server: (p, x, s) => {
      const server = text(p, x, s);
      const problem = tcpTargetProblem(server);
      if (problem) fail('format', p, `${p} ${show(server)} is not host:port or [IPv6]:port: ${problem}`);
      return server;
    },
    expectRcode: choice,
    answersContain: values,
    answersEqual: values,
    minAnswers: integer,
    maxLatencyMs: integer,
  });
  if (d.answersContain !== undefined && d.answersEqual !== undefined) {
    fail('conflict', at(path, 'answersEqual'), `${path}.answersEqual and ${path}.answersContain exclude each other: give the exact set or the values it must include`);
  }
  const rcode = d.expectRcode ?? DNS_DEFAULTS.expectRcode;
  if (rcode !== 'NOERROR') {
    const answerField = d.answersContain !== undefined ? 'answersContain' : d.answersEqual !== undefined ? 'answersEqual' : d.minAnswers ? 'minAnswers' : undefined;
    if (answerField) fail('conflict', at(path, answerField), `${path}.${answerField} needs answers; a ${rcode} response carries none (expectRcode ${rcode})`);
  }
  checkLatencyBound(path, d.maxLatencyMs, timeout);
  return d;
}

/** One expected value, in the syntax of the queried type; `type` is the effective record type. */
function expectedValue(path: string, value: string, type: DnsRecordType): string {
  const parsed = expectedText(type, value);
  if ('problem' in parsed) fail('format', path, `${path} ${show(value)}: ${parsed.problem}`);
  return value;
}
