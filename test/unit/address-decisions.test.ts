// The address policy's decisions, remembered (checks/address-decisions.ts): the same answers as
// deciding afresh, per policy (one policy's answer never serves another), per port, and bounded.
import { decideAddressKept, decideHostKept, DECISIONS_KEPT } from '../../checks/address-decisions';
import { buildAddressPolicy, decideAddress, decideHost, endpointRule } from '../../checks/address-policy';

const open = buildAddressPolicy();
const strict = buildAddressPolicy({
  deny: ['10.0.0.0/8', '127.0.0.2/32'],
  endpoints: [endpointRule('nats local', 4222, ['127.0.0.1'], [])],
});
const allowOnly = buildAddressPolicy({ allow: ['192.0.2.0/24'] });

describe('remembered decisions are the policy decisions', () => {
  const hosts = ['127.0.0.1', '127.0.0.2', '10.1.2.3', '0x7f.1', '169.254.169.254', '::ffff:10.0.0.1', '192.0.2.7', 'metadata.google.internal', 'example.test', 'METADATA.goog.'];
  const ports = [80, 4222];
  const cases = [open, strict, allowOnly].flatMap((policy, p) => hosts.flatMap((host) => ports.map((port) => ({ p, policy, host, port }))));

  test.each(cases)('policy $p, $host:$port — asked twice, the same answer as decideHost', ({ policy, host, port }) => {
    const first = decideHostKept(policy, host, port);
    expect(first).toEqual(decideHost(policy, host, port));
    expect(decideHostKept(policy, host, port)).toBe(first); // the second from memory
  });

  test.each(cases.filter((c) => !/[a-z]{3}/i.test(c.host)))('policy $p, resolved $host:$port — the same answer as decideAddress', ({ policy, host, port }) => {
    expect(decideAddressKept(policy, host, port)).toEqual(decideAddress(policy, host, port));
  });

  test("one policy's memory never answers for another, nor one port's for another", () => {
    // Asked of the open policy first: allowed there; denied by the strict one (its deny list, its NATS endpoint).
    expect(decideHostKept(open, '10.9.9.9', 80)).toMatchObject({ denied: false });
    expect(decideHostKept(strict, '10.9.9.9', 80)).toMatchObject({ denied: true, rule: expect.stringContaining('10.0.0.0/8') });
    expect(decideHostKept(strict, '127.0.0.1', 80)).toMatchObject({ denied: false });
    expect(decideHostKept(strict, '127.0.0.1', 4222)).toMatchObject({ denied: true, rule: 'nats local' });
    // A name is null (to be resolved) as a host; resolved addresses are remembered apart from hosts.
    expect(decideHostKept(strict, 'db.test', 80)).toBeNull();
    expect(decideAddressKept(strict, '127.0.0.2', 80)).toMatchObject({ denied: true });
  });
});

test(`bounded: past ${DECISIONS_KEPT} remembered, the memory starts again and answers stay right`, () => {
  const policy = buildAddressPolicy({ deny: ['10.0.0.0/8'] });
  const first = decideHostKept(policy, '10.0.0.1', 80);
  expect(decideHostKept(policy, '10.0.0.1', 80)).toBe(first);
  // DECISIONS_KEPT distinct addresses (10.x.y.z and 11.x.y.z, alternately denied and allowed).
  for (let i = 0; i < DECISIONS_KEPT; i++) {
    const a = `${10 + (i % 2)}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    expect(decideHostKept(policy, a, 80)?.denied).toBe(i % 2 === 0);
  }
  const again = decideHostKept(policy, '10.0.0.1', 80);
  expect(again).toEqual(first);
  expect(again).not.toBe(first); // decided afresh: the memory was dropped
});
