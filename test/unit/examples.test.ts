// The example specs in examples/specs (seeded by `lookout dev` and by the compose `seed` service):
// each one, with ${DEMO_URL} replaced as `lookout spec put` does, passes the validator, and each
// gives the verdict its `expect` label promises when probed against the real demo target.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { closeProbeEnv, runProbe } from '../../checks/probe';
import { DIRECT_PROBE_ENV } from '../../checks/probe-env';
import { normalizeSpec } from '../../checks/spec';
import { validateSpec } from '../../checks/validate';
import { substituteEnv } from '../../cli/spec-files';
import { startDemoTarget, type DemoTarget } from '../../dev/demo-target';

const DIR = join(__dirname, '..', '..', 'examples', 'specs');
const SPEC_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** Replace `${NAME}` exactly as `lookout spec put` does. */
const substitute = (value: unknown, env: Record<string, string>, where = ''): unknown => substituteEnv(value, env, where);

function placeholders(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!);
}

interface Example {
  file: string;
  id: string;
  raw: any;
}

const examples: Example[] = readdirSync(DIR)
  .filter((f) => SPEC_EXTENSIONS.includes(extname(f)))
  .sort()
  .map((file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
    return { file, id: basename(file, extname(file)), raw };
  });

// The values DEMO_URL takes: docker-compose.yml's seed service, and `lookout dev` (127.0.0.1:<port>).
const DEMO_URLS = ['http://demo:8080', 'http://127.0.0.1:8080', 'http://127.0.0.1:45678'];

describe('examples/specs', () => {
  it('holds the examples a newcomer needs: healthy, failing, timeout, flapping, json-path, external-style, status classes', () => {
    const kinds = examples.map((e) => e.raw.labels?.example).sort();
    expect(kinds).toEqual(['external-style', 'failing', 'flapping', 'healthy', 'json-path', 'status-classes', 'timeout']);
  });

  describe.each(examples.map((e) => [e.file, e] as const))('%s', (_file, ex) => {
    it('has a valid check id as its file name, repeated in "id"', () => {
      expect(ex.id).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
      expect(ex.raw.id).toBe(ex.id);
    });

    it('uses only ${DEMO_URL}, at the start of the target', () => {
      expect(placeholders(ex.raw)).toEqual(['DEMO_URL']);
      expect(ex.raw.target).toMatch(/^\$\{DEMO_URL\}\//);
    });

    it('says what verdict it should reach (labels.expect)', () => {
      expect(['up', 'down', 'flapping']).toContain(ex.raw.labels?.expect);
    });

    it.each(DEMO_URLS)('passes validateSpec with DEMO_URL=%s', (url) => {
      const spec = substitute(ex.raw, { DEMO_URL: url }, ex.file);
      expect(placeholders(spec)).toEqual([]);
      const r = validateSpec(spec, ex.id);
      if (!r.ok) throw new Error(`${ex.file} with DEMO_URL=${url}: ${r.error.code} at "${r.error.path}": ${r.error.message}`);
      expect(r.spec.target?.startsWith(`${url}/`)).toBe(true);
    });

    it('is rejected without substitution (a literal ${DEMO_URL} is not a URL)', () => {
      expect(validateSpec(ex.raw, ex.id).ok).toBe(false);
    });
  });
});

describe('examples probed against the demo target', () => {
  let demo: DemoTarget;
  let now = 0;

  beforeAll(async () => {
    demo = await startDemoTarget({ host: '127.0.0.1', port: 0, now: () => now });
  });
  afterAll(async () => {
    await closeProbeEnv(DIRECT_PROBE_ENV);
    await demo.close();
  });

  async function probe(ex: Example) {
    const spec = substitute(ex.raw, { DEMO_URL: demo.url }, ex.file);
    const r = validateSpec(spec, ex.id);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return runProbe(normalizeSpec(ex.id, r.spec));
  }

  it.each(examples.filter((e) => e.raw.labels.expect !== 'flapping').map((e) => [e.file, e] as const))(
    '%s probes as its expect label says',
    async (_file, ex) => {
      now = Date.now();
      const outcome = await probe(ex);
      expect({ ok: outcome.ok, reason: outcome.reason, message: outcome.message }).toEqual(
        ex.raw.labels.expect === 'up' ? { ok: true, reason: null, message: null } : expect.objectContaining({ ok: false }),
      );
    },
  );

  it('the timeout example fails with reason timeout, the failing one with reason status', async () => {
    const byExample = new Map(examples.map((e) => [e.raw.labels.example as string, e]));
    expect((await probe(byExample.get('timeout')!)).reason).toBe('timeout');
    const failing = await probe(byExample.get('failing')!);
    expect(failing.reason).toBe('status');
    expect(failing.httpStatus).toBe(503);
  });

  it('the flapping example passes in even periods and fails in odd ones', async () => {
    const ex = examples.find((e) => e.raw.labels.expect === 'flapping')!;
    const target = (substitute(ex.raw, { DEMO_URL: demo.url }) as { target: string }).target;
    const period = Number(new URL(target).searchParams.get('seconds') ?? 20) * 1000;
    now = 10 * period + 1;
    expect(await probe(ex)).toMatchObject({ ok: true, httpStatus: 200 });
    now = 11 * period + 1;
    expect(await probe(ex)).toMatchObject({ ok: false, reason: 'status', httpStatus: 503 });
    // The policy turns a flip into a verdict change within a minute: (rise or fall) × interval well under the period.
    const p = ex.raw.policy;
    const flipsAfterMs = Math.max(p.rise ?? 2, p.fall ?? 3) * ex.raw.intervalMs;
    expect(flipsAfterMs).toBeLessThan(period);
    expect(period + flipsAfterMs).toBeLessThanOrEqual(60_000);
  });
});
