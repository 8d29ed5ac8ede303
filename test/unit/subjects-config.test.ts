import { ConfigError, loadConfig, parseFlags } from '../../runtime/config';
import { subjects } from '../../runtime/subjects';

describe('subjects', () => {
  const s = subjects();
  test.each([
    [s.specPut('api'), 'lookout.spec.put.api'],
    [s.specDelete('api'), 'lookout.spec.delete.api'],
    [s.specGet('api'), 'lookout.spec.get.api'],
    [s.specList(), 'lookout.spec.list'],
    [s.specRejected('api'), 'lookout.spec.rejected.api'],
    [s.specOpWildcard('put'), 'lookout.spec.put.>'],
    [s.result('api'), 'lookout.result.api'],
    [s.resultWildcard(), 'lookout.result.>'],
    [s.status('api'), 'lookout.status.api'],
    [s.statusWildcard(), 'lookout.status.>'],
    [s.cluster('leader'), 'lookout.cluster.leader'],
    [s.clusterStatus(), 'lookout.cluster.status'],
    [s.internal('heartbeat', 'n1'), 'lookout._node.heartbeat.n1'],
    [s.shardClaim(12, 1), 'lookout._node.shard.12.1.claim'],
    [s.shardRelease(12, 1), 'lookout._node.shard.12.1.release'],
    [s.bucket('specs'), 'lookout_specs'],
    [s.bucket('leader'), 'lookout_leader'],
    [s.resultStream(), 'lookout_results'],
    [s.resumeState('api', 2), 'lookout._resume.api.2'],
    [s.resumeStatesOf('api'), 'lookout._resume.api.*'],
    [s.resumeWildcard(), 'lookout._resume.>'],
    [s.resumeStream(), 'lookout_resume'],
  ])('%s', (got, want) => expect(got).toBe(want));

  test('a custom prefix changes every subject and bucket', () => {
    const c = subjects('acme.hc');
    expect(c.result('x')).toBe('acme.hc.result.x');
    expect(c.bucket('specs')).toBe('acme_hc_specs');
    expect(c.resultStream()).toBe('acme_hc_results');
    expect(c.resumeState('x', 1)).toBe('acme.hc._resume.x.1');
    expect(c.resumeStream()).toBe('acme_hc_resume');
  });

  test.each([
    ['lookout.spec.put.api', { op: 'put', id: 'api' }],
    ['lookout.spec.delete.a-b_c', { op: 'delete', id: 'a-b_c' }],
    ['lookout.spec.get.a.b', { op: 'get', id: 'a.b' }],
    ['lookout.spec.list', null],
    ['lookout.spec.fly.api', null],
    ['lookout.spec.put.', null],
    ['other.spec.put.api', null],
  ])('parseSpecSubject(%s)', (subject, want) => expect(s.parseSpecSubject(subject)).toEqual(want));

  test('checkIdOf reads result and status subjects only', () => {
    expect(s.checkIdOf('lookout.result.abc')).toBe('abc');
    expect(s.checkIdOf('lookout.status.abc')).toBe('abc');
    expect(s.checkIdOf('lookout.spec.put.abc')).toBeNull();
  });

  test.each(['', 'a..b', 'a b', '.a', 'a.*'])('invalid prefix %j is refused', (p) => {
    expect(() => subjects(p)).toThrow(/invalid subject prefix/);
  });
});

describe('config', () => {
  test('defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ natsUrl: 'nats://127.0.0.1:4222', prefix: 'lookout', shards: 256, kvReplicas: 1, jitterMs: 100, shutdownGraceMs: 5000, logLevel: 'info', resumeMaxBytes: 64 * 1024 * 1024 });
    expect(c.nodeId).toMatch(/^[A-Za-z0-9_-]+-\d+$/);
  });

  test('LOOKOUT_CLAIM_WAIT_MS defaults to the profile’s dead-after; LOOKOUT_HANDOVER_MS is accepted (deprecated) and plays no part', () => {
    expect(loadConfig({}).claimWaitMs).toBe(3500);
    expect(loadConfig({ LOOKOUT_TIMING: 'test' }).claimWaitMs).toBe(1000);
    expect(loadConfig({ LOOKOUT_DEAD_AFTER_MS: '8000' }).claimWaitMs).toBe(8000);
    expect(loadConfig({ LOOKOUT_CLAIM_WAIT_MS: '250' }, ['--claim-wait-ms', '300']).claimWaitMs).toBe(300);
    expect(loadConfig({ LOOKOUT_HANDOVER_MS: '500' }).handoverMs).toBe(500);
    expect(loadConfig({}).handoverMs).toBeUndefined();
  });

  test('LOOKOUT_ROLLUP_PERIOD_MS: an hour by default, 0 turns rollups off, below a second is refused', () => {
    expect(loadConfig({}).rollupPeriodMs).toBe(3_600_000);
    expect(loadConfig({ LOOKOUT_ROLLUP_PERIOD_MS: '0' }).rollupPeriodMs).toBe(0);
    expect(loadConfig({ LOOKOUT_ROLLUP_PERIOD_MS: '60000' }).rollupPeriodMs).toBe(60_000);
    expect(() => loadConfig({ LOOKOUT_ROLLUP_PERIOD_MS: '500' })).toThrow(/LOOKOUT_ROLLUP_PERIOD_MS.*expected 0 \(off\) or an integer from 1000/);
  });

  // The two failure-detector graces (protocol/failure-detector.ts, protocol/shared-silence.ts): 0 turns each off.
  test.each([
    ['LOOKOUT_OVERLOAD_GRACE_MS', 'overloadGraceMs'],
    ['LOOKOUT_SHARED_SILENCE_GRACE_MS', 'sharedSilenceGraceMs'],
  ] as const)('%s comes from the profile and is never more than LOOKOUT_DEAD_AFTER_MS', (env, key) => {
    expect(loadConfig({})[key]).toBe(2000);
    expect(loadConfig({ LOOKOUT_TIMING: 'test' })[key]).toBe(600);
    expect(loadConfig({ [env]: '0' })[key]).toBe(0);
    expect(loadConfig({ LOOKOUT_SUSPECT_AFTER_MS: '1000', LOOKOUT_DEAD_AFTER_MS: '1200' })[key]).toBe(1200);
    expect(loadConfig({ [env]: '9000' })[key]).toBe(3500);
    expect(() => loadConfig({ [env]: '-1' })).toThrow(new RegExp(env));
  });

  test('flags win over the environment, which wins over defaults', () => {
    const c = loadConfig({ NATS_URL: 'nats://a:1', LOOKOUT_SHARDS: '64' }, ['--nats-url', 'nats://b:2,nats://c:3', '--node-id=n7']);
    expect(c).toMatchObject({ natsUrl: 'nats://b:2,nats://c:3', shards: 64, nodeId: 'n7' });
  });

  test.each([
    [{ LOOKOUT_SHARDS: '0' }, 'LOOKOUT_SHARDS: expected an integer from 1 to 4096, got "0"'],
    [{ LOOKOUT_SHARDS: '1.5' }, 'LOOKOUT_SHARDS: expected an integer from 1 to 4096, got "1.5"'],
    [{ LOOKOUT_LOG_LEVEL: 'loud' }, 'LOOKOUT_LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"'],
    [{ LOOKOUT_PREFIX: 'a..b' }, 'LOOKOUT_PREFIX: expected dot-separated tokens of A-Z a-z 0-9 _ -, got "a..b"'],
    [{ NATS_URL: 'http://x:1' }, 'NATS_URL: expected a NATS URL such as nats://127.0.0.1:4222 (comma-separated for several), got "http://x:1"'],
    [{ NATS_PASSWORD: 'p' }, 'NATS_USER and NATS_PASSWORD must be set together'],
  ])('%j → ConfigError', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  test('flag parsing errors', () => {
    expect(() => parseFlags(['--nope', '1'])).toThrow(/unknown flag --nope/);
    expect(() => parseFlags(['--shards'])).toThrow(/flag --shards needs a value/);
    expect(() => parseFlags(['stray'])).toThrow(/unexpected argument "stray"/);
  });
});
