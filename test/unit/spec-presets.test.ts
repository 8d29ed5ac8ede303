// Presets (checks/spec-presets.ts): the pinned table, the expansion and its field-by-field merge as
// pure functions, what normalizeSpec makes of a preset, the errors that name a preset, and the
// JSON Schema's per-preset bounds against the validator at each preset's edges.
import { Value } from '@sinclair/typebox/value';
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import { CheckSpecDocumentSchema } from '../../checks/spec-json-schema';
import { PRESET_NAMES, SPEC_PRESETS, baseOf, effectiveInterval, effectiveTimeout, effectiveWindow, type PresetName } from '../../checks/spec-presets';
import { validateSpec } from '../../checks/validate';

const TCP = { kind: 'tcp', target: 'db.internal:5432' } as const;

describe('the preset table', () => {
  // Part of CheckSpec v1: a stored spec must expand the same on every node and every version.
  // Changing a row changes what running checks do; add a preset name instead.
  test('is pinned', () => {
    expect(PRESET_NAMES).toEqual(['low', 'medium', 'high']);
    expect(SPEC_PRESETS).toEqual({
      low: { intervalMs: 60_000, timeoutMs: 10_000, window: 2, threshold: 1 },
      medium: { intervalMs: 15_000, timeoutMs: 5_000, window: 5, threshold: 3 },
      high: { intervalMs: 2_000, timeoutMs: 1_000, window: 10, threshold: 7 },
    });
    expect(Object.isFrozen(SPEC_PRESETS) && PRESET_NAMES.every((n) => Object.isFrozen(SPEC_PRESETS[n]))).toBe(true);
  });

  test.each(PRESET_NAMES)('%s holds every cross-field rule by itself (a spec with only the preset is valid)', (name) => {
    const p = SPEC_PRESETS[name];
    expect(p.timeoutMs).toBeLessThan(p.intervalMs);
    expect(p.threshold).toBeLessThanOrEqual(p.window);
    expect(validateSpec({ ...TCP, preset: name }, 'web-1')).toMatchObject({ ok: true });
  });

  test('low probes rarest and tolerates most; high probes most often', () => {
    const [low, medium, high] = PRESET_NAMES.map((n) => SPEC_PRESETS[n]);
    expect(low!.intervalMs).toBeGreaterThan(medium!.intervalMs);
    expect(medium!.intervalMs).toBeGreaterThan(high!.intervalMs);
    expect(low!.timeoutMs).toBeGreaterThan(high!.timeoutMs);
  });
});

describe('expansion: the spec wins field by field, the preset fills the rest', () => {
  type Timing = { preset?: PresetName; intervalMs?: number; timeoutMs?: number };
  test.each<[string, Timing, number, number]>([
    ['no preset: the defaults', {}, 5000, 2000],
    ['no preset, short interval: timeout cut to interval - 1', { intervalMs: 1000 }, 1000, 999],
    ['low', { preset: 'low' }, 60_000, 10_000],
    ['medium', { preset: 'medium' }, 15_000, 5_000],
    ['high', { preset: 'high' }, 2_000, 1_000],
    ['high, explicit interval: the preset timeout stays', { preset: 'high', intervalMs: 30_000 }, 30_000, 1_000],
    ['low, explicit interval below its timeout: cut to interval - 1', { preset: 'low', intervalMs: 1000 }, 1000, 999],
    ['medium, explicit timeout: the preset interval stays', { preset: 'medium', timeoutMs: 14_999 }, 15_000, 14_999],
    ['high, both explicit: the preset gives nothing', { preset: 'high', intervalMs: 7000, timeoutMs: 3000 }, 7000, 3000],
  ])('%s', (_name, spec, interval, timeout) => {
    expect([effectiveInterval(spec), effectiveTimeout(spec)]).toEqual([interval, timeout]);
  });

  type W = { window?: number; threshold?: number; initial?: number };
  test.each<[string, PresetName | undefined, W | undefined, [number, number, number]]>([
    ['no preset, no policy: window 8, threshold 3, initial 2', undefined, undefined, [8, 3, 2]],
    ['no preset, window 2: threshold min(3, 2)', undefined, { window: 2 }, [2, 2, 1]],
    ['low', 'low', undefined, [2, 1, 0]],
    ['medium', 'medium', undefined, [5, 3, 2]],
    ['high', 'high', undefined, [10, 7, 6]],
    ['high, window 4: the preset threshold is cut to the window', 'high', { window: 4 }, [4, 4, 3]],
    ['high, window 20: the preset threshold stays', 'high', { window: 20 }, [20, 7, 6]],
    ['medium, threshold 4: window from the preset, initial threshold - 1', 'medium', { threshold: 4 }, [5, 4, 3]],
    ['medium, initial 0: the rest from the preset', 'medium', { initial: 0 }, [5, 3, 0]],
    ['low, every field explicit', 'low', { window: 6, threshold: 2, initial: 6 }, [6, 2, 6]],
  ])('%s', (_name, preset, policy, [window, threshold, initial]) => {
    expect(effectiveWindow(policy, preset)).toEqual({ window, threshold, initial });
  });

  test('without a preset the base is SPEC_DEFAULTS', () => {
    expect(baseOf(undefined)).toEqual({ intervalMs: 5000, timeoutMs: 2000, window: 8, threshold: 3 });
  });
});

describe('normalizeSpec expands the preset; the stored spec keeps it', () => {
  const accept = (doc: object): CheckSpec => {
    const r = validateSpec(doc, 'web-1');
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.spec;
  };

  test.each(PRESET_NAMES)('%s: interval, timeout and window policy', (name) => {
    const spec = accept({ ...TCP, preset: name });
    expect(spec.preset).toBe(name);
    const p = SPEC_PRESETS[name];
    const n = normalizeSpec('web-1', spec);
    expect({ intervalMs: n.intervalMs, timeoutMs: n.timeoutMs }).toEqual({ intervalMs: p.intervalMs, timeoutMs: p.timeoutMs });
    expect(n.policy).toEqual({ type: 'window', window: p.window, threshold: p.threshold, initial: p.threshold - 1, rise: 0, fall: 0, initialUp: false });
  });

  test('an override wins field by field', () => {
    const n = normalizeSpec('web-1', accept({ ...TCP, preset: 'high', intervalMs: 10_000, policy: { type: 'window', threshold: 9 } }));
    expect([n.intervalMs, n.timeoutMs]).toEqual([10_000, 1_000]);
    expect(n.policy).toMatchObject({ type: 'window', window: 10, threshold: 9, initial: 8 });
  });

  test('a consecutive policy replaces the preset policy as a whole; the timing still comes from the preset', () => {
    const n = normalizeSpec('web-1', accept({ ...TCP, preset: 'low', policy: { type: 'consecutive' } }));
    expect([n.intervalMs, n.timeoutMs]).toEqual([60_000, 10_000]);
    expect(n.policy).toEqual({ type: 'consecutive', window: 3, threshold: 2, initial: 0, rise: 2, fall: 3, initialUp: false });
  });

  test('specs of one preset without a policy share one frozen policy; presets differ from each other and from none', () => {
    const policy = (preset?: PresetName) => normalizeSpec('x', accept({ ...TCP, ...(preset ? { preset } : {}) })).policy;
    expect(policy('medium')).toBe(policy('medium'));
    expect(Object.isFrozen(policy('medium'))).toBe(true);
    expect(new Set([policy(), policy('low'), policy('medium'), policy('high')]).size).toBe(4);
    expect(policy()).toEqual({ type: 'window', window: 8, threshold: 3, initial: 2, rise: 0, fall: 0, initialUp: false });
  });

  test('normalizing is a function of the stored spec alone (the same twice, from a JSON round trip)', () => {
    const spec = accept({ ...TCP, preset: 'medium', timeoutMs: 3000 });
    expect(normalizeSpec('web-1', JSON.parse(JSON.stringify(spec)) as CheckSpec)).toEqual(normalizeSpec('web-1', spec));
  });
});

describe('cross-field rules after expansion: the error names the preset that supplied the other side', () => {
  test.each<[string, object, string, string, RegExp]>([
    ['timeout against the preset interval', { preset: 'high', timeoutMs: 2000 }, 'conflict', 'timeoutMs', /^timeoutMs \(2000\) must be less than intervalMs \(2000, from preset high\)$/],
    ['timeout against an explicit interval: no preset named', { preset: 'high', intervalMs: 3000, timeoutMs: 3000 }, 'conflict', 'timeoutMs', /intervalMs \(3000\)$/],
    ['timeout without preset: the default', { timeoutMs: 5000 }, 'conflict', 'timeoutMs', /intervalMs \(5000, the default\)$/],
    ['maxLatency against the preset timeout', { preset: 'medium', tcp: { maxLatencyMs: 5000 } }, 'conflict', 'tcp.maxLatencyMs', /timeoutMs \(5000, from preset medium\); a slower/],
    ['maxLatency against the preset timeout cut by intervalMs', { preset: 'low', intervalMs: 2000, tcp: { maxLatencyMs: 1999 } }, 'conflict', 'tcp.maxLatencyMs', /timeoutMs \(1999, intervalMs - 1\)/],
    ['maxLatency against the default timeout', { tcp: { maxLatencyMs: 2000 } }, 'conflict', 'tcp.maxLatencyMs', /timeoutMs \(2000, the default\)/],
    ['maxLatency against an explicit timeout', { preset: 'high', timeoutMs: 500, tcp: { maxLatencyMs: 500 } }, 'conflict', 'tcp.maxLatencyMs', /timeoutMs \(500\); a slower/],
    ['threshold against the preset window', { preset: 'low', policy: { type: 'window', threshold: 3 } }, 'range', 'policy.threshold', /the window \(2, from preset low\), got 3$/],
    ['initial against the preset window', { preset: 'medium', policy: { type: 'window', initial: 6 } }, 'range', 'policy.initial', /the window \(5, from preset medium\), got 6$/],
    ['threshold against an explicit window', { preset: 'high', policy: { type: 'window', window: 4, threshold: 5 } }, 'range', 'policy.threshold', /the window \(4\), got 5$/],
    ['an unknown preset', { preset: 'ultra' }, 'enum', 'preset', /^preset must be one of low, medium, high, got "ultra"$/],
  ])('%s', (_name, fields, code, path, message) => {
    const r = validateSpec({ ...TCP, ...fields }, 'web-1');
    expect(r).toMatchObject({ ok: false, error: { code, path } });
    if (!r.ok) expect(r.error.message).toMatch(message);
  });

  test('the preset is checked before the fields it gives defaults to: a bad preset is the error, not the timeout', () => {
    expect(validateSpec({ ...TCP, preset: 'HIGH', timeoutMs: 4000 }, 'web-1')).toMatchObject({ ok: false, error: { code: 'enum', path: 'preset' } });
  });
});

describe("the JSON Schema's per-preset bounds agree with the validator at each preset's edges", () => {
  const both = (doc: object) => [validateSpec(doc, 'web-1').ok, Value.Check(CheckSpecDocumentSchema, doc)];
  test.each(PRESET_NAMES)('%s', (name) => {
    const p = SPEC_PRESETS[name];
    const spec = (fields: object) => ({ ...TCP, preset: name, ...fields });
    expect(both(spec({ timeoutMs: p.intervalMs - 1 }))).toEqual([true, true]);
    expect(both(spec({ timeoutMs: p.intervalMs }))).toEqual([false, false]);
    expect(both(spec({ tcp: { maxLatencyMs: p.timeoutMs - 1 } }))).toEqual([true, true]);
    expect(both(spec({ tcp: { maxLatencyMs: p.timeoutMs } }))).toEqual([false, false]);
    expect(both(spec({ policy: { type: 'window', threshold: p.window, initial: p.window } }))).toEqual([true, true]);
    expect(both(spec({ policy: { type: 'window', threshold: p.window + 1 } }))).toEqual([false, false]);
    expect(both(spec({ policy: { type: 'window', initial: p.window + 1 } }))).toEqual([false, false]);
  });
});
