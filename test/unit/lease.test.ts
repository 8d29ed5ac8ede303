import { followerMove, leaseLeft, observe, renewDelay, validateLeaseConfig, type LeaseConfig } from '../../protocol/lease';

const cfg: LeaseConfig = { leaseMs: 4000, renewMs: 1000, pollMs: 250, takeoverMarginMs: 200 };

describe('lease decisions', () => {
  test('observe: observedAt moves only when the revision changes', () => {
    const v1 = observe(null, { revision: 5, record: { holder: 'a', term: 3 } }, 100);
    expect(v1.observedAt).toBe(100);
    expect(observe(v1, { revision: 5, record: { holder: 'a', term: 3 } }, 900)).toBe(v1);
    expect(observe(v1, { revision: 6, record: { holder: 'a', term: 3 } }, 900).observedAt).toBe(900);
    expect(observe(v1, { revision: 6, record: null }, 950)).toMatchObject({ record: null, observedAt: 950 });
  });

  test.each([
    ['never read', null, 0, 'wait'],
    ['key absent', { revision: 0, record: null, observedAt: 0 }, 0, 'create'],
    ['released (deleted)', { revision: 9, record: null, observedAt: 0 }, 0, 'create'],
    ['fresh lease', { revision: 9, record: { holder: 'a', term: 7 }, observedAt: 1000 }, 1000 + 4199, 'wait'],
    ['expired by my clock + margin', { revision: 9, record: { holder: 'a', term: 7 }, observedAt: 1000 }, 1000 + 4200, 'takeover'],
  ] as const)('follower: %s → %s', (_name, view, now, move) => {
    const m = followerMove(view as any, now, cfg);
    expect(m.type).toBe(move);
    if (m.type === 'takeover') expect(m.revision).toBe(9);
  });

  test('the leader stops before any follower may take over', () => {
    // Leader sends its renewal at t=1000; the follower observes it later (t=1030).
    const sentAt = 1000;
    const observedAt = 1030;
    const leaderStops = sentAt + cfg.leaseMs; // leaseLeft hits 0 here
    expect(leaseLeft(sentAt, leaderStops - 1, cfg)).toBeGreaterThan(0);
    expect(leaseLeft(sentAt, leaderStops, cfg)).toBe(0);
    const view = { revision: 9, record: { holder: 'a', term: 7 }, observedAt };
    for (let t = observedAt; t < leaderStops + 1000; t += 10) {
      if (followerMove(view, t, cfg).type === 'takeover') expect(t).toBeGreaterThan(leaderStops);
    }
  });

  test('renew delay: every renewMs, never later than half the remaining lease', () => {
    expect(renewDelay(1000, 1000, cfg)).toBe(1000);
    expect(renewDelay(1000, 1500, cfg)).toBe(500);
    expect(renewDelay(1000, 3000, cfg)).toBe(0);
    expect(renewDelay(1000, 6000, cfg)).toBe(0);
  });

  test('config sanity', () => {
    expect(validateLeaseConfig(cfg)).toBeNull();
    expect(validateLeaseConfig({ ...cfg, renewMs: 2500 })).toMatch(/half the lease/);
  });
});
