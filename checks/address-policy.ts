// Which addresses a probe may reach (the SSRF guard). Pure: the connector asks it about every
// address it is about to connect to — after DNS, on every redirect hop — and the spec API asks it
// about a spec's literal target before storing the spec.
//
// An address is denied when it matches (deny wins over allow):
//   - a built-in rule (BUILT_IN_DENY: link-local and cloud metadata, "this network", unspecified),
//   - a range of LOOKOUT_TARGET_DENY,
//   - one of the node's own endpoints on that port (its /metrics port, its NATS servers),
//   - nothing in LOOKOUT_TARGET_ALLOW, when an allow list is set.
// Everything else is allowed: private ranges and loopback included (checking internal services is
// the job); the operator denies them with LOOKOUT_TARGET_DENY or LOOKOUT_TARGET_ALLOW.
//
// Host names: the well-known cloud metadata names are denied before any lookup; any other name is
// decided on the addresses it resolves to. Addresses are normalised first: IPv4 written as one
// number, in hex or octal (what inet_aton, and so getaddrinfo, accepts: 2852039166, 0xa9fea9fe,
// 0251.0376.0251.0376, 0x7f.1) and IPv4-mapped IPv6 (::ffff:169.254.169.254) become the IPv4
// address; an IPv4 address embedded in NAT64 (64:ff9b::/96) or IPv4-compatible (::a.b.c.d) IPv6
// is denied when the IPv4 address is.
import ipaddr from 'ipaddr.js';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Ip, number];

export interface AddressRule {
  cidr: Cidr;
  /** The range as written in messages, e.g. "169.254.0.0/16". */
  text: string;
  /** Where the rule comes from, e.g. "LOOKOUT_TARGET_DENY" or "built-in (IPv4 link-local, cloud metadata)". */
  source: string;
}

/** host:port pairs a probe must not reach (any of `cidrs` on `port`). */
export interface EndpointRule {
  cidrs: Cidr[];
  port: number;
  /** e.g. "this node's HTTP endpoint (/metrics) on port 9464". */
  source: string;
}

export interface AddressPolicy {
  readonly deny: readonly AddressRule[];
  /** null: no allow list, every address that is not denied is allowed. */
  readonly allow: readonly AddressRule[] | null;
  readonly endpoints: readonly EndpointRule[];
  /** Denied host names (lower case, no trailing dot) → why. */
  readonly hostNames: ReadonlyMap<string, string>;
}

/** `address` is the normalised address (or the denied host name). */
export type Decision = { denied: false; address: string } | { denied: true; address: string; rule: string };

/** Always denied, whatever the settings. */
export const BUILT_IN_DENY: readonly { cidr: string; why: string }[] = [
  { cidr: '0.0.0.0/8', why: '"this network"; 0.0.0.0 reaches the local host' },
  { cidr: '::/128', why: 'unspecified IPv6 address; reaches the local host' },
  { cidr: '169.254.0.0/16', why: 'IPv4 link-local: cloud metadata 169.254.169.254 (AWS, GCP, Azure, OpenStack, …), AWS ECS 169.254.170.2' },
  { cidr: 'fe80::/10', why: 'IPv6 link-local' },
  { cidr: 'fd00:ec2::254/128', why: 'AWS instance metadata over IPv6' },
  { cidr: 'fd20:ce::254/128', why: 'Google Cloud metadata over IPv6' },
  { cidr: '100.100.100.200/32', why: 'Alibaba Cloud metadata' },
  { cidr: '192.0.0.192/32', why: 'Oracle Cloud metadata (legacy address)' },
  { cidr: '168.63.129.16/32', why: 'Azure host agent (WireServer)' },
];

/** Cloud metadata host names, denied before any lookup (they resolve to the addresses above). */
export const METADATA_HOST_NAMES: readonly string[] = [
  'metadata', // GCP short name (search domain)
  'metadata.google.internal',
  'metadata.goog',
  'instance-data', // AWS
  'instance-data.ec2.internal',
  'metadata.azure.com',
  'metadata.azure.internal',
  'metadata.tencentyun.com',
  'rancher-metadata',
  'metadata.packet.net',
  'metadata.platformequinix.com',
];

/** Ranges every local listener bound to 0.0.0.0 / :: is reachable on, besides the interface addresses. */
const LOCAL_RANGES = ['127.0.0.0/8', '::1/128', '0.0.0.0/8', '::/128'];

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * Parse an IP literal in any form getaddrinfo would take as one ([brackets], a trailing dot,
 * one-number / hex / octal IPv4, IPv4-mapped IPv6 → IPv4). null when `text` is not an address.
 */
export function parseIp(text: string): Ip | null {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (s.endsWith('.')) s = s.slice(0, -1);
  // Fast path for host names: an address has a ':' (IPv6) or only digits, hex, 'x' and dots.
  if (!s.includes(':') && !/^[0-9a-fx.]+$/i.test(s)) return null;
  if (!ipaddr.isValid(s)) return null;
  try {
    return ipaddr.process(s);
  } catch {
    return null;
  }
}

/** A CIDR range or a bare address (→ /32, /128); IPv4-mapped IPv6 ranges become IPv4 ranges. */
export function parseCidr(text: string): Cidr | null {
  const s = text.trim();
  let cidr: Cidr;
  if (ipaddr.isValidCIDR(s)) cidr = ipaddr.parseCIDR(s);
  else {
    const ip = parseIp(s);
    if (!ip) return null;
    cidr = [ip, ip.kind() === 'ipv4' ? 32 : 128];
  }
  const [ip, bits] = cidr;
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(ip as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return cidr;
}

/** The network address of a range, written out: "10.0.0.0/8". */
export function cidrText([ip, bits]: Cidr): string {
  const Kind = ip.kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  return `${Kind.networkAddressFromCIDR(`${ip.toString()}/${bits}`).toString()}/${bits}`;
}

/** Parse a comma- or space-separated list of CIDR ranges into their normalised text; throws on a bad entry. */
export function parseCidrList(raw: string): string[] {
  const out: string[] = [];
  for (const entry of raw.split(/[\s,]+/).filter((e) => e !== '')) {
    const cidr = parseCidr(entry);
    if (!cidr) throw new Error(`expected CIDR ranges such as 10.0.0.0/8, fd00::/8 (comma-separated); ${JSON.stringify(entry)} is not one`);
    out.push(cidrText(cidr));
  }
  return out;
}

export interface PolicySettings {
  /** LOOKOUT_TARGET_ALLOW; empty or absent: no allow list. */
  allow?: readonly string[];
  /** LOOKOUT_TARGET_DENY, added to the built-in rules. */
  deny?: readonly string[];
  endpoints?: readonly EndpointRule[];
}

function rules(list: readonly string[], source: string): AddressRule[] {
  return list.map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`${source}: ${JSON.stringify(text)} is not a CIDR range`);
    return { cidr, text: cidrText(cidr), source };
  });
}

export function buildAddressPolicy(settings: PolicySettings = {}): AddressPolicy {
  const builtIn = BUILT_IN_DENY.map(({ cidr, why }) => rules([cidr], `built-in rule (${why})`)[0]!);
  return {
    deny: [...builtIn, ...rules(settings.deny ?? [], 'LOOKOUT_TARGET_DENY')],
    allow: settings.allow && settings.allow.length > 0 ? rules(settings.allow, 'LOOKOUT_TARGET_ALLOW') : null,
    endpoints: settings.endpoints ?? [],
    hostNames: new Map(METADATA_HOST_NAMES.map((n) => [n, 'built-in rule (cloud metadata host name)'])),
  };
}

/**
 * The rule for one of the node's own endpoints. When any of `addresses` (what it is bound to or
 * resolves to) is unspecified, loopback or one of `localAddresses` (this host's interfaces), the
 * endpoint is reachable on every local address (a 0.0.0.0 listener answers on 127.0.0.2 too): the
 * rule then covers all of them.
 */
export function endpointRule(source: string, port: number, addresses: readonly string[], localAddresses: readonly string[]): EndpointRule {
  const own = addresses.map(parseCidr).filter((c): c is Cidr => c !== null);
  const locals = [...LOCAL_RANGES, ...localAddresses].map(parseCidr).filter((c): c is Cidr => c !== null);
  const isLocal = own.some(([ip]) => locals.some((range) => matches(ip, range)));
  return { source, port, cidrs: isLocal ? [...own, ...locals] : own };
}

function matches(ip: Ip, [base, bits]: Cidr): boolean {
  return ip.kind() === base.kind() && ip.match(base, bits);
}

/** The address itself, plus the IPv4 address a NAT64 or IPv4-compatible IPv6 address carries. */
function candidates(ip: Ip): Ip[] {
  if (ip.kind() !== 'ipv6') return [ip];
  const v6 = ip as ipaddr.IPv6;
  const embeds = matches(v6, NAT64) || (matches(v6, IPV4_COMPATIBLE) && v6.parts.slice(0, 6).every((p) => p === 0) && (v6.parts[6] ?? 0) !== 0);
  if (!embeds) return [ip];
  const [hi, lo] = [v6.parts[6]!, v6.parts[7]!];
  return [ip, new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff])];
}

/** Decide one address (any literal form) on `port`. A string that is not an address is denied. */
export function decideAddress(policy: AddressPolicy, address: string, port: number): Decision {
  const ip = parseIp(address);
  if (!ip) return { denied: true, address, rule: 'not an IP address' };
  const shown = ip.toString();
  for (const c of candidates(ip)) {
    const rule = policy.deny.find((r) => matches(c, r.cidr));
    if (rule) return { denied: true, address: shown, rule: `${rule.source}: ${rule.text}` };
    const endpoint = policy.endpoints.find((e) => e.port === port && e.cidrs.some((range) => matches(c, range)));
    if (endpoint) return { denied: true, address: shown, rule: endpoint.source };
  }
  if (policy.allow && !policy.allow.some((r) => matches(ip, r.cidr))) {
    return { denied: true, address: shown, rule: 'not in LOOKOUT_TARGET_ALLOW' };
  }
  return { denied: false, address: shown };
}

/** Lower case, without the trailing dot of a fully qualified name. */
export function normalizeHostName(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Decide a host before any lookup: an IP literal is decided in full, a denied host name is
 * denied; null for any other name (decided on the addresses it resolves to).
 */
export function decideHost(policy: AddressPolicy, host: string, port: number): Decision | null {
  if (parseIp(host)) return decideAddress(policy, host, port);
  const name = normalizeHostName(host);
  const rule = policy.hostNames.get(name);
  return rule ? { denied: true, address: name, rule } : null;
}

/** `host:port` or `[ipv6]:port` (a tcp target); null when malformed. */
export function splitHostPort(target: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

/** The host and port a spec's target connects to first; null when the target does not parse. */
export function targetEndpoint(kind: string, target: string): { host: string; port: number } | null {
  if (kind !== 'http') return splitHostPort(target);
  if (!URL.canParse(target)) return null;
  const url = new URL(target);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
}

/** Decide a spec's literal target (IP literal or denied name); null when only DNS can tell. */
export function decideTarget(policy: AddressPolicy, kind: string, target: string): Decision | null {
  const endpoint = targetEndpoint(kind, target);
  return endpoint ? decideHost(policy, endpoint.host, endpoint.port) : null;
}

/** "address:port" ("[v6]:port") for messages. */
export function showEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
