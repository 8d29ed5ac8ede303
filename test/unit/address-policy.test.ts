// The address policy (SSRF guard) as pure tables: address normalisation (one-number, hex, octal
// IPv4; IPv4-mapped, NAT64 and IPv4-compatible IPv6), the built-in rules and their CIDR edges,
// operator deny and allow lists (deny wins), the node's own endpoints, metadata host names, and
// the literal-target decision the spec API applies. No sockets.
import {
  BUILT_IN_DENY,
  buildAddressPolicy,
  decideAddress,
  decideHost,
  decideTarget,
  endpointRule,
  parseCidrList,
  parseIp,
  splitHostPort,
} from '../../checks/address-policy';
import { ConfigError, loadConfig } from '../../runtime/config';
import { nodeTargetPolicy } from '../../runtime/target-policy';

describe('parseIp: every form getaddrinfo takes as an address', () => {
  test.each([
    ['169.254.169.254', '169.254.169.254'],
    ['2852039166', '169.254.169.254'], // one number
    ['0xa9fea9fe', '169.254.169.254'], // hex
    ['0251.0376.0251.0376', '169.254.169.254'], // octal
    ['0xa9.0376.43518', '169.254.169.254'], // mixed, three parts
    ['0x7f.1', '127.0.0.1'], // two parts
    ['127.1', '127.0.0.1'],
    ['169.254.169.254.', '169.254.169.254'], // trailing dot
    ['::ffff:169.254.169.254', '169.254.169.254'], // IPv4-mapped
    ['[::ffff:a9fe:a9fe]', '169.254.169.254'],
    ['[fd00:ec2::254]', 'fd00:ec2::254'],
    ['FD00:EC2:0:0:0:0:0:254', 'fd00:ec2::254'],
  ])('%s → %s', (text, address) => {
    expect(parseIp(text)?.toString()).toBe(address);
  });

  test.each(['example.com', 'metadata.google.internal', '08.1.1.1', '256.1.1.1', '', 'localhost', '1.2.3.4.5'])('%s is not an address', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe('defaults: built-in rules deny metadata, link-local, this-network; private and loopback stay allowed', () => {
  const policy = buildAddressPolicy();
  test.each([
    ['169.254.169.254', '169.254.0.0/16'],
    ['169.254.0.0', '169.254.0.0/16'], // first
    ['169.254.255.255', '169.254.0.0/16'], // last
    ['2852039166', '169.254.0.0/16'],
    ['0xa9fea9fe', '169.254.0.0/16'],
    ['0251.0376.0251.0376', '169.254.0.0/16'],
    ['::ffff:169.254.169.254', '169.254.0.0/16'],
    ['64:ff9b::a9fe:a9fe', '169.254.0.0/16'], // NAT64 of 169.254.169.254
    ['::a9fe:a9fe', '169.254.0.0/16'], // IPv4-compatible
    ['fe80::1', 'fe80::/10'],
    ['febf:ffff::1', 'fe80::/10'], // last of fe80::/10
    ['fd00:ec2::254', 'fd00:ec2::254/128'],
    ['fd20:ce::254', 'fd20:ce::254/128'],
    ['100.100.100.200', '100.100.100.200/32'],
    ['192.0.0.192', '192.0.0.192/32'],
    ['168.63.129.16', '168.63.129.16/32'],
    ['0.0.0.0', '0.0.0.0/8'],
    ['0.255.255.255', '0.0.0.0/8'],
    ['::', '::/128'],
  ])('%s is denied by %s', (address, cidr) => {
    const d = decideAddress(policy, address, 80);
    expect(d).toMatchObject({ denied: true });
    expect(d.denied && d.rule).toMatch(new RegExp(`^built-in rule \\(.*\\): ${cidr.replace(/[.]/g, '\\.')}$`));
  });

  test.each([
    '169.253.255.255', // just below 169.254.0.0/16
    '169.255.0.0', // just above
    'fec0::1', // just above fe80::/10
    'fd00:ec2::253',
    '100.100.100.201',
    '1.0.0.0', // just above 0.0.0.0/8
    '127.0.0.1',
    '127.0.0.2',
    '::1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    'fd00::2',
    '64:ff9b::a00:1', // NAT64 of 10.0.0.1
    '8.8.8.8',
  ])('%s is allowed', (address) => {
    expect(decideAddress(policy, address, 80)).toMatchObject({ denied: false });
  });

  test('every built-in rule parses', () => {
    expect(policy.deny.map((r) => r.text)).toEqual(BUILT_IN_DENY.map((r) => r.cidr));
  });
});

describe('LOOKOUT_TARGET_DENY', () => {
  const policy = buildAddressPolicy({ deny: ['127.0.0.2/32', '10.0.0.0/8', 'fd00::/8', '::ffff:192.168.0.0/112'] });
  test.each([
    ['127.0.0.2', 'LOOKOUT_TARGET_DENY: 127.0.0.2/32'],
    ['0x7f000002', 'LOOKOUT_TARGET_DENY: 127.0.0.2/32'],
    ['2130706434', 'LOOKOUT_TARGET_DENY: 127.0.0.2/32'],
    ['::ffff:127.0.0.2', 'LOOKOUT_TARGET_DENY: 127.0.0.2/32'],
    ['10.0.0.0', 'LOOKOUT_TARGET_DENY: 10.0.0.0/8'],
    ['10.255.255.255', 'LOOKOUT_TARGET_DENY: 10.0.0.0/8'],
    ['fd00::', 'LOOKOUT_TARGET_DENY: fd00::/8'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'LOOKOUT_TARGET_DENY: fd00::/8'],
    ['192.168.3.4', 'LOOKOUT_TARGET_DENY: 192.168.0.0/16'], // a mapped-IPv6 range is an IPv4 range
  ])('%s → denied (%s)', (address, rule) => {
    expect(decideAddress(policy, address, 443)).toMatchObject({ denied: true, rule });
  });

  test.each(['127.0.0.1', '127.0.0.3', '9.255.255.255', '11.0.0.0', 'fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe00::1', '192.169.0.0'])(
    '%s → allowed',
    (address) => {
      expect(decideAddress(policy, address, 443)).toMatchObject({ denied: false });
    },
  );
});

describe('LOOKOUT_TARGET_ALLOW: only these, and deny still wins', () => {
  const policy = buildAddressPolicy({ allow: ['10.0.0.0/8', '169.254.0.0/16'], deny: ['10.0.0.5/32'] });
  test.each([
    ['10.1.1.1', false, undefined],
    ['10.0.0.6', false, undefined],
    ['10.0.0.5', true, 'LOOKOUT_TARGET_DENY: 10.0.0.5/32'],
    ['169.254.169.254', true, undefined], // built-in deny beats the allow list
    ['192.168.0.1', true, 'not in LOOKOUT_TARGET_ALLOW'],
    ['127.0.0.1', true, 'not in LOOKOUT_TARGET_ALLOW'],
    ['::ffff:10.1.1.1', false, undefined],
  ])('%s → denied %s', (address, denied, rule) => {
    const d = decideAddress(policy, address, 80);
    expect(d.denied).toBe(denied);
    if (rule) expect(d).toMatchObject({ rule });
  });

  test('an empty allow list is no allow list', () => {
    expect(buildAddressPolicy({ allow: [] }).allow).toBeNull();
    expect(decideAddress(buildAddressPolicy({ allow: [] }), '192.168.0.1', 80).denied).toBe(false);
  });
});

describe("the node's own endpoints", () => {
  const locals = ['127.0.0.1', '::1', '192.0.2.2', 'fd00::2', 'fe80::fc:ff:fe00:1'];
  const policy = buildAddressPolicy({
    endpoints: [
      endpointRule('http endpoint', 9464, ['0.0.0.0'], locals), // bound to every interface
      endpointRule('nats local', 4222, ['127.0.0.1'], locals), // a local server: any local address
      endpointRule('nats remote', 4222, ['10.0.0.7'], locals), // a remote server: that address only
    ],
  });
  test.each([
    ['127.0.0.1', 9464, 'http endpoint'],
    ['127.0.0.5', 9464, 'http endpoint'],
    ['192.0.2.2', 9464, 'http endpoint'],
    ['fd00::2', 9464, 'http endpoint'],
    ['::1', 9464, 'http endpoint'],
    ['::ffff:127.0.0.1', 9464, 'http endpoint'],
    ['127.0.0.1', 4222, 'nats local'],
    ['127.0.0.2', 4222, 'nats local'],
    ['10.0.0.7', 4222, 'nats remote'],
  ])('%s:%d → denied (%s)', (address, port, rule) => {
    expect(decideAddress(policy, address, port)).toMatchObject({ denied: true, rule });
  });

  test.each([
    ['127.0.0.1', 9465],
    ['10.0.0.7', 9464],
    ['10.0.0.8', 4222],
    ['127.0.0.1', 80],
  ])('%s:%d → allowed', (address, port) => {
    expect(decideAddress(policy, address, port).denied).toBe(false);
  });

  test('an endpoint bound to one remote address covers only that address', () => {
    expect(endpointRule('x', 1, ['10.0.0.7'], locals).cidrs.map(([ip, bits]) => `${ip.toString()}/${bits}`)).toEqual(['10.0.0.7/32']);
  });
});

describe('host names and literal targets', () => {
  const policy = buildAddressPolicy({ deny: ['127.0.0.2/32'] });
  test.each(['metadata.google.internal', 'METADATA.google.internal.', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com'])(
    '%s is denied before any lookup',
    (host) => {
      expect(decideHost(policy, host, 80)).toMatchObject({ denied: true, rule: 'built-in rule (cloud metadata host name)' });
    },
  );

  test('any other name waits for resolution; a literal is decided now', () => {
    expect(decideHost(policy, 'example.com', 80)).toBeNull();
    expect(decideHost(policy, 'metadata.example.com', 80)).toBeNull();
    expect(decideHost(policy, '127.0.0.2', 80)).toMatchObject({ denied: true, address: '127.0.0.2' });
    expect(decideHost(policy, '127.0.0.1', 80)).toEqual({ denied: false, address: '127.0.0.1' });
  });

  test.each([
    ['http', 'http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http', 'http://[fd00:ec2::254]/', 'fd00:ec2::254'],
    ['http', 'http://2852039166/', '169.254.169.254'], // WHATWG URL normalises it already
    ['http', 'http://[::ffff:169.254.169.254]/', '169.254.169.254'],
    ['http', 'http://metadata.google.internal/computeMetadata/v1/', 'metadata.google.internal'],
    ['http', 'https://127.0.0.2:8443/x', '127.0.0.2'],
    ['tcp', '0xa9fea9fe:80', '169.254.169.254'], // not a URL: normalised here
    ['tcp', '[::ffff:169.254.169.254]:80', '169.254.169.254'],
    ['tcp', '0x7f000002:22', '127.0.0.2'],
    ['tcp', 'instance-data:80', 'instance-data'],
    ['grpc', '0x7f000002:50051', '127.0.0.2'], // a grpc target is host:port, decided as tcp's (spec API: denied at target)
    ['grpc', 'metadata.google.internal:50051', 'metadata.google.internal'],
  ])('%s target %s is denied (%s)', (kind, target, address) => {
    expect(decideTarget(policy, kind, target)).toMatchObject({ denied: true, address });
  });

  test.each([
    ['http', 'https://example.com/health'],
    ['tcp', 'db.internal:5432'],
    ['grpc', 'orders.internal:50051'],
  ])('%s target %s: only DNS can tell', (kind, target) => {
    expect(decideTarget(policy, kind, target)).toBeNull();
  });

  test('allowed literal targets', () => {
    expect(decideTarget(policy, 'http', 'http://127.0.0.1:8080/')).toEqual({ denied: false, address: '127.0.0.1' });
    expect(decideTarget(policy, 'tcp', '[::1]:22')).toEqual({ denied: false, address: '::1' });
  });
});

describe('settings and target syntax', () => {
  test('parseCidrList normalises and accepts bare addresses', () => {
    expect(parseCidrList('10.0.0.0/8, fd00::/8 127.0.0.2,10.0.0.1/8')).toEqual(['10.0.0.0/8', 'fd00::/8', '127.0.0.2/32', '10.0.0.0/8']);
    expect(parseCidrList('')).toEqual([]);
    expect(parseCidrList('::ffff:10.0.0.0/104')).toEqual(['10.0.0.0/8']);
  });

  test.each(['10.0.0.0/33', 'example.com', '300.1.1.1', '10.0.0.0/8/1', 'fd00::/129'])('parseCidrList rejects %s', (raw) => {
    expect(() => parseCidrList(raw)).toThrow(/expected CIDR ranges/);
  });

  test.each([
    ['db:5432', { host: 'db', port: 5432 }],
    ['[::1]:22', { host: '::1', port: 22 }],
    ['db:0', null],
    ['db', null],
    ['::1:22', null],
  ])('splitHostPort(%s)', (target, parsed) => {
    expect(splitHostPort(target)).toEqual(parsed);
  });
});

describe('settings (runtime/config.ts)', () => {
  test('LOOKOUT_TARGET_ALLOW / LOOKOUT_TARGET_DENY parse to normalised ranges; unset by default; redacted detail by default', () => {
    const cfg = loadConfig({ LOOKOUT_TARGET_DENY: '127.0.0.2, 10.0.0.0/8', LOOKOUT_TARGET_ALLOW: '0x7f000000/8' });
    expect(cfg.targetDeny).toEqual(['127.0.0.2/32', '10.0.0.0/8']);
    expect(cfg.targetAllow).toEqual(['127.0.0.0/8']);
    const plain = loadConfig({});
    expect([plain.targetAllow, plain.targetDeny, plain.resultDetail]).toEqual([undefined, undefined, 'redacted']);
    expect(loadConfig({}, ['--result-detail', 'full']).resultDetail).toBe('full');
  });

  test.each([
    [{ LOOKOUT_TARGET_DENY: '10.0.0.0/33' }, /^LOOKOUT_TARGET_DENY: expected CIDR ranges/],
    [{ LOOKOUT_TARGET_ALLOW: 'intranet' }, /^LOOKOUT_TARGET_ALLOW: expected CIDR ranges/],
    [{ LOOKOUT_RESULT_DETAIL: 'all' }, /^LOOKOUT_RESULT_DETAIL: expected one of redacted, full/],
  ])('%j → ConfigError naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe("the node's policy (runtime/target-policy.ts)", () => {
  const lookup = async (host: string) => {
    const table: Record<string, string[]> = { 'nats.local': ['127.0.0.1'], 'nats.remote': ['10.0.0.7', '10.0.0.8'] };
    if (!table[host]) throw Object.assign(new Error('no such host'), { code: 'ENOTFOUND' });
    return table[host];
  };
  const locals = ['127.0.0.1', '::1', '192.0.2.2'];

  test('0.0.0.0 bind: the HTTP port on every local address; NATS servers resolved (a local one on every local address)', async () => {
    const policy = await nodeTargetPolicy(
      { httpHost: '0.0.0.0', targetAllow: undefined, targetDeny: ['127.0.0.2/32'] },
      9464,
      [
        { hostname: 'nats.local', port: 4222 },
        { hostname: 'nats.remote', port: 4223 },
        { hostname: 'nats.local', port: 4222 }, // listed twice
        { hostname: 'gone.invalid', port: 4224 }, // does not resolve: no rule, no failure
      ],
      lookup,
      locals,
    );
    expect(policy.endpoints.map((e) => e.source)).toEqual([
      "this node's HTTP endpoint (/metrics) on port 9464",
      'a NATS server of this node (nats.local:4222)',
      'a NATS server of this node (nats.remote:4223)',
    ]);
    for (const [address, port, denied] of [
      ['127.0.0.9', 9464, true],
      ['192.0.2.2', 9464, true],
      ['::1', 9464, true],
      ['127.0.0.3', 4222, true],
      ['10.0.0.8', 4223, true],
      ['10.0.0.9', 4223, false],
      ['127.0.0.3', 4223, false],
      ['127.0.0.2', 80, true], // LOOKOUT_TARGET_DENY
    ] as const) {
      expect([address, port, decideAddress(policy, address, port).denied]).toEqual([address, port, denied]);
    }
  });

  test('a specific bind address covers that address only', async () => {
    const policy = await nodeTargetPolicy({ httpHost: '10.1.1.1', targetAllow: undefined, targetDeny: undefined }, 9464, [], lookup, locals);
    expect(decideAddress(policy, '10.1.1.1', 9464).denied).toBe(true);
    expect(decideAddress(policy, '127.0.0.1', 9464).denied).toBe(false);
  });
});
