// The address policy's decisions, remembered. Every probe asks whether its address may be reached
// (checks/connector.ts allowedAddresses); deciding parses the address with ipaddr.js and walks the
// rules, and at 100k checks (1,667 probes/s) that was a fifth of what a probe allocated — the same
// answer each time for a check whose target is an IP literal (BENCHMARKS.md §2, 2026-12-04 second
// session). A built policy never changes (AddressPolicy is read-only, built once per node), and a
// decision is a pure function of the policy, the host or address, and the port, so it is kept per
// policy, by port then by the string asked about.
//
// Bounded: a spec controls its target, and a name may resolve to any number of addresses; past
// DECISIONS_KEPT strings a policy's memory is dropped and starts again (one more parse each).

import { decideAddress, decideHost, type AddressPolicy, type Decision } from './address-policy';

/** Decisions kept per policy before they are dropped and made afresh. */
export const DECISIONS_KEPT = 10_000;

type ByPort<D> = Map<number, Map<string, D>>;

interface Memory {
  /** Hosts as a spec names them (IP literal or name) → decideHost's answer (null: a name, to be resolved). */
  hosts: ByPort<Decision | null>;
  /** Addresses a name resolved to → decideAddress's answer. */
  addresses: ByPort<Decision>;
  size: number;
}

const memories = new WeakMap<AddressPolicy, Memory>();

function memoryOf(policy: AddressPolicy): Memory {
  let m = memories.get(policy);
  if (!m) memories.set(policy, (m = { hosts: new Map(), addresses: new Map(), size: 0 }));
  return m;
}

// `decide` is the policy's own function, not a closure: a hit allocates nothing.
function remembered<D>(m: Memory, table: ByPort<D>, policy: AddressPolicy, key: string, port: number, decide: (policy: AddressPolicy, key: string, port: number) => D): D {
  let forPort = table.get(port);
  const known = forPort?.get(key);
  if (known !== undefined) return known;
  const d = decide(policy, key, port);
  if (m.size >= DECISIONS_KEPT) {
    m.hosts.clear();
    m.addresses.clear();
    m.size = 0;
    forPort = undefined;
  }
  if (!forPort) table.set(port, (forPort = new Map()));
  forPort.set(key, d);
  m.size++;
  return d;
}

/** decideHost, remembered: the decision for an IP literal, a denied name's, or null (a name to resolve). */
export function decideHostKept(policy: AddressPolicy, host: string, port: number): Decision | null {
  const m = memoryOf(policy);
  return remembered(m, m.hosts, policy, host, port, decideHost);
}

/** decideAddress, remembered (an address a name resolved to). */
export function decideAddressKept(policy: AddressPolicy, address: string, port: number): Decision {
  const m = memoryOf(policy);
  return remembered(m, m.addresses, policy, address, port, decideAddress);
}
