// The node's address policy (checks/address-policy.ts) from its settings and its own endpoints:
// LOOKOUT_TARGET_ALLOW / LOOKOUT_TARGET_DENY, the built-in rules, this node's HTTP port (/metrics,
// on every local address when bound to 0.0.0.0 or ::) and the NATS servers it connects to
// (resolved; a server on this host counts on every local address, it may listen on 0.0.0.0).
// Built once at start, after NATS is connected and the HTTP endpoints listen.
import { networkInterfaces } from 'node:os';
import { buildAddressPolicy, endpointRule, parseIp, type AddressPolicy, type EndpointRule } from '../checks/address-policy';
import { systemLookup, type LookupFn } from '../checks/connector';
import type { Config } from './config';

/** A NATS server as the client's pool lists it (nc.getServers()). */
export interface NatsServerAddress {
  hostname: string;
  port: number;
}

/** Every address of this host's network interfaces. */
export function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address)
    .filter((a): a is string => typeof a === 'string');
}

/** The addresses of `host` (itself when a literal); [] when it does not resolve. */
async function addressesOf(host: string, lookup: LookupFn): Promise<string[]> {
  if (parseIp(host)) return [host];
  return lookup(host).catch(() => []);
}

export async function nodeTargetPolicy(
  cfg: Pick<Config, 'targetAllow' | 'targetDeny' | 'httpHost'>,
  httpPort: number,
  natsServers: readonly NatsServerAddress[],
  lookup: LookupFn = systemLookup,
  localAddresses: readonly string[] = interfaceAddresses(),
): Promise<AddressPolicy> {
  const endpoints: EndpointRule[] = [
    endpointRule(`this node's HTTP endpoint (/metrics) on port ${httpPort}`, httpPort, await addressesOf(cfg.httpHost, lookup), localAddresses),
  ];
  const seen = new Set<string>();
  for (const { hostname, port } of natsServers) {
    const key = `${hostname}:${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const addresses = await addressesOf(hostname, lookup);
    if (addresses.length > 0) endpoints.push(endpointRule(`a NATS server of this node (${key})`, port, addresses, localAddresses));
  }
  return buildAddressPolicy({ allow: cfg.targetAllow ?? [], deny: cfg.targetDeny ?? [], endpoints });
}

/** The policy as a log record: ranges and endpoints, no objects. */
export function describePolicy(policy: AddressPolicy): Record<string, unknown> {
  return {
    allow: policy.allow?.map((r) => r.text) ?? 'any not denied',
    deny: policy.deny.map((r) => r.text),
    deniedEndpoints: policy.endpoints.map((e) => e.source),
    deniedHostNames: [...policy.hostNames.keys()],
  };
}
