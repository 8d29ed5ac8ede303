// The status page (runtime/status-page.ts, web/) against a spawned nats-server, two in-process
// nodes (one with the page on — the default — and one with LOOKOUT_STATUS_PAGE=off) and a real HTTP
// target with a healthy path and a failing one. The server side over plain HTTP: the headers (CSP,
// nosniff), JSON errors for hostile ids and parameters, GET/HEAD only, 404 when off. Then what a
// person sees in headless Debian Chromium driven by playwright-core: the leader and the members,
// a row per check saying up or down, the failing check's last failure, its transitions after a
// click, and a verdict change arriving live (the target switched to healthy; no reload). A
// screenshot is kept in test-artifacts/status-page.png. No fixed sleeps: every wait polls with a
// deadline.
//
// Then a fleet larger than one page (250 more checks, pages of 100): the first page, Next and
// Previous with "Checks N–M", a reload keeping the view, search by id prefix and by label narrowing
// the rows, a link opened in a new tab reproducing the view, live changes never adding rows, and a
// hostile link whose bad parts are dropped and named; the fleet's verdict counts (cluster.status,
// summed from heartbeats) beside the page's, and the Verdict select listing only the down check.
// A second screenshot: status-page-fleet.png.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { NodeHandle } from '../../app/start-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

const CHROMIUM = process.env.LOOKOUT_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

let server: NatsServer;
let pageNode: NodeHandle;
let offNode: NodeHandle;
let nc: NatsConnection;
let target: HttpTarget;
let events: Collector;
let browser: Browser | undefined;
let base: string;

/**
 * A screenshot for a person to look at, not a check (the assertions come before it): on a loaded
 * machine Chromium took over 30 s to render a full page (a loaded CI run, 2026-12-03), so one that
 * is not written in time is logged and the test goes on.
 */
async function artifact(shot: (o: { path: string; fullPage: true; timeout: number }) => Promise<unknown>, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await shot({ path: path.join(ARTIFACTS, name), fullPage: true, timeout: 20_000 }).catch((err: unknown) => console.warn(`artifact ${name} not written: ${String(err)}`));
}

const spec = (p: string) => ({ kind: 'http', target: `${target.url}${p}`, intervalMs: 1000, timeoutMs: 500, policy: { type: 'consecutive', rise: 1, fall: 1 } });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`this test needs Debian's chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  server = await startNatsServer();
  target = await startHttpTarget({ routes: { '/ok': { status: 200 }, '/flaky': { status: 503, body: 'maintenance' } } });
  // Rollups every second (an hour by default), so the latency sparkline has periods to draw.
  pageNode = await startTestNode(server, { LOOKOUT_NODE_ID: 'page-node', LOOKOUT_ROLLUP_PERIOD_MS: '1000' });
  offNode = await startTestNode(server, { LOOKOUT_NODE_ID: 'quiet-node', LOOKOUT_STATUS_PAGE: 'off', LOOKOUT_ROLLUP_PERIOD_MS: '1000' });
  base = `http://127.0.0.1:${pageNode.httpPort}`;
  nc = await client(server);
  events = new Collector(nc, 'lookout.status.>');
  for (const [id, p] of [['web-ok', '/ok'], ['web-flaky', '/flaky']] as const) expect(await request(nc, `lookout.spec.put.${id}`, spec(p))).toMatchObject({ ok: true });
  await waitFor('web-ok up and web-flaky down', () => [events.statuses('web-ok').at(-1)?.to, events.statuses('web-flaky').at(-1)?.to], {
    timeoutMs: 60_000,
    until: ([ok, flaky]) => ok === 'up' && flaky === 'down',
  });
  // Both nodes are members before the page is looked at.
  await waitFor('two members alive', () => request(nc, 'lookout.cluster.status'), {
    timeoutMs: 60_000,
    until: (c: any) => c.members?.filter((m: any) => m.state === 'alive').length === 2 && c.leader,
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  events?.stop();
  await nc?.close();
  await Promise.all([pageNode?.stop(), offNode?.stop()]);
  await server?.cleanup();
  await target?.close();
});

describe('server side', () => {
  test('/ is the page: strict CSP, nosniff, no inline script; its files are served from the package', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toContain('<script src="/status.js" defer></script>');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
    expect(html).not.toMatch(/<style|\sstyle=/); // and every style
    for (const [p, type] of [['/status.js', /javascript/], ['/status.css', /text\/css/], ['/vendor/uPlot.iife.min.js', /javascript/], ['/vendor/uPlot.min.css', /text\/css/]] as const) {
      const r = await fetch(`${base}${p}`);
      expect([p, r.status, r.headers.get('content-type'), r.headers.get('x-content-type-options')]).toEqual([p, 200, expect.stringMatching(type), 'nosniff']);
    }
    const head = await fetch(`${base}/`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
  });

  test('only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await fetch(`${base}/api/checks`, { method })).status).toBe(405);
  });

  test('the JSON API: the cluster, the checks, one check; hostile ids and parameters are 400 with a code, never echoed', async () => {
    const cluster: any = await (await fetch(`${base}/api/cluster`)).json();
    expect(cluster.members.map((m: any) => m.node).sort()).toEqual(['page-node', 'quiet-node']);
    const checks: any = await (await fetch(`${base}/api/checks?prefix=web-`)).json();
    expect(checks.states.map((s: any) => [s.checkId, s.verdict]).sort()).toEqual([['web-flaky', 'down'], ['web-ok', 'up']]);
    const one = await (await fetch(`${base}/api/checks/web-flaky`)).json();
    expect(one).toMatchObject({ ok: true, state: { checkId: 'web-flaky', verdict: 'down', lastFailure: { reason: 'status' } }, history: { ok: true, checkId: 'web-flaky' } });

    for (const bad of ['%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'a.b', 'x'.repeat(129)]) {
      const r = await fetch(`${base}/api/checks/${bad}`);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      const text = await r.text();
      expect(JSON.parse(text)).toEqual({ ok: false, error: { code: 'invalid_id', message: expect.any(String), path: 'id' } });
      expect(text).not.toMatch(/script|xxxx/);
    }
    const missing = await fetch(`${base}/api/checks/no-such-check`);
    expect([missing.status, ((await missing.json()) as any).error.code]).toEqual([404, 'not_found']);
    const unknown = await fetch(`${base}/api/checks?%3Cb%3E=1`);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).not.toContain('<b>');
    expect((await fetch(`${base}/api/nothing-here`)).status).toBe(404);
  });

  test('LOOKOUT_STATUS_PAGE=off: / and /api/ answer 404 as before, /metrics still answers', async () => {
    const off = `http://127.0.0.1:${offNode.httpPort}`;
    for (const p of ['/', '/status.js', '/api/cluster', '/api/events']) expect([p, (await fetch(`${off}${p}`)).status]).toEqual([p, 404]);
    expect((await fetch(`${off}/metrics`)).status).toBe(200);
  });
});

describe('in a browser', () => {
  let page: Page;
  const problems: string[] = [];
  const rowVerdict = (id: string) => page.locator(`tr[data-check="${id}"] .c-verdict`);

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('response', (r) => void (r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`)));
    // The sparkline needs two ended periods of web-ok's rollups (one a second) before the page loads.
    await waitFor('two latency periods of web-ok', () => request(nc, 'lookout.state.history.web-ok', {}), { timeoutMs: 60_000, until: (h: any) => h.series?.length >= 2 });
    // The two checks of this part among the fleet's (the fleet describe below puts 250 more).
    await page.goto(`${base}/?prefix=web-`);
  }, 90_000);

  test('the cluster: leader, term and both members with their state', async () => {
    const status = await request(nc, 'lookout.cluster.status');
    await page.locator('#leader').filter({ hasText: status.leader.node }).waitFor({ timeout: 30_000 });
    expect(await page.locator('#term').textContent()).toBe(String(status.term));
    const members = page.locator('#members tbody tr');
    await waitFor('both members listed', async () => (await members.allTextContents()).join(' | '), { until: (t) => t.includes('page-node') && t.includes('quiet-node') });
    expect(await page.locator('#members tr[data-member="quiet-node"] td').nth(1).textContent()).toBe('alive');
    expect(await page.locator(`#members tr[data-member="${status.leader.node}"] td`).nth(2).textContent()).toBe('leader');
  });

  test('a row per check saying up or down (word and colour), the failing check with its last failure, uptime and a sparkline', async () => {
    await rowVerdict('web-ok').filter({ hasText: 'up' }).waitFor({ timeout: 30_000 });
    await rowVerdict('web-flaky').filter({ hasText: 'down' }).waitFor({ timeout: 30_000 });
    const colour = (id: string) => rowVerdict(id).locator('.verdict').evaluate((e) => (globalThis as any).getComputedStyle(e).backgroundColor as string);
    expect(await colour('web-ok')).not.toBe(await colour('web-flaky'));
    await page.locator('tr[data-check="web-flaky"] .c-failure').filter({ hasText: /status: .*503/ }).waitFor({ timeout: 30_000 });
    await page.locator('tr[data-check="web-ok"] .c-uptime .bar').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('tr[data-check="web-ok"] .c-uptime').textContent()).toContain('24h');
    await page.locator('tr[data-check="web-ok"] .c-latency .uplot canvas').waitFor({ timeout: 30_000 });
  });

  test('clicking a row shows its transitions and last failure', async () => {
    await page.locator('tr[data-check="web-flaky"]').click();
    await page.locator('#detail').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#detail-id').textContent()).toBe('web-flaky');
    await page.locator('#detail-last-failure').filter({ hasText: /status: .*503/ }).waitFor({ timeout: 30_000 });
    const first = page.locator('#transitions tbody tr').first();
    await first.waitFor({ timeout: 30_000 });
    expect((await first.locator('td').nth(1).textContent())?.replace(/\s+/g, ' ')).toBe('unknown → down');
  });

  test('a verdict change arrives live: the target heals and the row says up without a reload', async () => {
    await page.locator('#live').filter({ hasText: /^live$/ }).waitFor({ timeout: 30_000 });
    await page.evaluate(() => ((globalThis as any).__notReloaded = true));
    target.set('/flaky', { status: 200 });
    await page.waitForFunction(() => (globalThis as any).document.querySelector('tr[data-check="web-flaky"]')?.getAttribute('data-verdict') === 'up', undefined, { timeout: 60_000, polling: 100 });
    expect(await rowVerdict('web-flaky').textContent()).toBe('up');
    expect(await page.evaluate(() => (globalThis as any).__notReloaded)).toBe(true);
    // The open detail view follows: its newest transition is down → up.
    await waitFor('the detail view shows down → up', async () => (await page.locator('#transitions tbody tr').first().locator('td').nth(1).textContent())?.replace(/\s+/g, ' '), {
      timeoutMs: 60_000,
      until: (t) => t === 'down → up',
    });
    await artifact((o) => page.screenshot(o), 'status-page.png');
    // The node counts the page's live client.
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^lookout_status_page_clients 1$/m);
  });

  test('no script error and no Content-Security-Policy violation in the page', () => {
    expect(problems).toEqual([]);
  });
});

describe('a fleet larger than one page', () => {
  const FLEET = 250;
  const fleetId = (i: number) => `fleet-${String(i).padStart(3, '0')}`;
  const allIds = [...Array.from({ length: FLEET }, (_, i) => fleetId(i)), 'web-flaky', 'web-ok'].sort();
  let fleet: Page;
  const problems: string[] = [];
  const shownIds = async (p: Page) => (await p.$$eval('#check-table tbody tr', (trs) => trs.map((t) => t.getAttribute('data-check') ?? ''))).sort();
  /** Waits until the pager says `range` (a regex) and returns the ids then shown. */
  const pageSays = async (p: Page, range: RegExp) => {
    await p.locator('#page-range').filter({ hasText: range }).waitFor({ timeout: 30_000 });
    return shownIds(p);
  };

  beforeAll(async () => {
    // Every tenth check is tier=gold; every check probes the healthy path once a minute.
    for (let i = 0; i < FLEET; i += 25) {
      const batch = Array.from({ length: 25 }, (_, j) => i + j).map((n) =>
        request(nc, `lookout.spec.put.${fleetId(n)}`, { ...spec('/ok'), intervalMs: 60_000, timeoutMs: 1000, labels: { fleet: 'yes', tier: n % 10 === 0 ? 'gold' : 'std' } }),
      );
      for (const ack of await Promise.all(batch)) expect(ack).toMatchObject({ ok: true });
    }
    await waitFor(`all ${allIds.length} checks listed`, async () => ((await request(nc, 'lookout.state.list', { limit: 500 })).states ?? []).length, { timeoutMs: 60_000, until: (n) => n === allIds.length });
    fleet = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
    fleet.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    fleet.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    fleet.on('response', (r) => void (r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`)));
    await fleet.goto(`${base}/`);
  }, 120_000);

  afterAll(async () => {
    await fleet?.close();
  });

  test('the first page: 100 rows, "Checks 1–100", more after them; counts per verdict add up to the rows', async () => {
    const ids = await pageSays(fleet, /^Checks 1–100 · more after these$/);
    expect(ids).toHaveLength(100);
    expect(await fleet.locator('#page-prev').isDisabled()).toBe(true);
    expect(await fleet.locator('#page-next').isEnabled()).toBe(true);
    const counts = await fleet.$$eval('#check-counts [data-count]', (cs) => cs.map((c) => [c.getAttribute('data-count'), Number(c.getAttribute('data-n'))] as const));
    expect(counts.map(([v]) => v)).toEqual(['down', 'degraded', 'flapping', 'up', 'unknown']);
    expect(counts.reduce((sum, [, n]) => sum + n, 0)).toBe(100);
    expect(await fleet.locator('#check-counts').textContent()).toMatch(/^On this page: \d+ down · \d+ degraded · \d+ flapping · \d+ up · \d+ unknown$/);
  });

  test('Next, Next, Previous: every check exactly once over three pages; a reload keeps the page', async () => {
    const first = await shownIds(fleet);
    await fleet.locator('#page-next').click();
    const second = await pageSays(fleet, /^Checks 101–200 · more after these$/);
    expect(new URL(fleet.url()).searchParams.get('from')).toBe('101');
    await fleet.locator('#page-next').click();
    const third = await pageSays(fleet, /^Checks 201–252 · no more$/);
    expect(await fleet.locator('#page-next').isDisabled()).toBe(true);
    expect([...first, ...second, ...third].sort()).toEqual(allIds);
    await fleet.locator('#page-prev').click();
    expect(await pageSays(fleet, /^Checks 101–200 · more after these$/)).toEqual(second);
    await fleet.reload();
    expect(await pageSays(fleet, /^Checks 101–200 · more after these$/)).toEqual(second);
    // The way back survives the reload (it is kept in the history entry).
    await fleet.locator('#page-prev').click();
    expect(await pageSays(fleet, /^Checks 1–100 · more after these$/)).toEqual(first);
  });

  test('search by id prefix narrows the rows; the URL says so; a smaller page splits them', async () => {
    await fleet.locator('#filter-prefix').fill('fleet-1');
    await fleet.locator('#filter-apply').click();
    const ids = await pageSays(fleet, /^Checks 1–100 · no more$/);
    expect(ids).toEqual(allIds.filter((id) => id.startsWith('fleet-1')));
    expect(new URL(fleet.url()).search).toBe('?prefix=fleet-1');
    // A smaller page: the same rows in two.
    await fleet.locator('#filter-size').selectOption('50');
    const half = await pageSays(fleet, /^Checks 1–50 · more after these$/);
    expect(new URL(fleet.url()).search).toBe('?prefix=fleet-1&size=50');
    await fleet.locator('#page-next').click();
    const rest = await pageSays(fleet, /^Checks 51–100 · no more$/);
    expect([...half, ...rest].sort()).toEqual(ids);
    await fleet.locator('#filter-size').selectOption('100');
    await pageSays(fleet, /^Checks 1–100 · no more$/);
  });

  test('search by label narrows the rows; a link to the view shows the same rows in a new tab', async () => {
    await fleet.locator('#filter-prefix').fill('');
    await fleet.locator('#filter-labels').fill('tier=gold');
    await fleet.locator('#filter-labels').press('Enter');
    const gold = Array.from({ length: FLEET / 10 }, (_, i) => fleetId(i * 10));
    expect(await pageSays(fleet, /^Checks 1–25 · no more$/)).toEqual(gold);
    expect(new URL(fleet.url()).searchParams.getAll('label')).toEqual(['tier=gold']);
    const tab = await browser!.newPage();
    try {
      await tab.goto(fleet.url());
      expect(await pageSays(tab, /^Checks 1–25 · no more$/)).toEqual(gold);
      expect(await tab.locator('#filter-labels').inputValue()).toBe('tier=gold');
      await tab.goto(`${base}/?prefix=fleet-2&label=tier%3Dgold&label=fleet=yes`);
      expect(await pageSays(tab, /^Checks 1–5 · no more$/)).toEqual(['fleet-200', 'fleet-210', 'fleet-220', 'fleet-230', 'fleet-240']);
    } finally {
      await tab.close();
    }
  });

  test('a verdict change of a check not on the page adds no row', async () => {
    const seen = async () => Number((await fleet.locator('#live').getAttribute('data-status-events')) ?? 0);
    await fleet.locator('#live').filter({ hasText: /^live$/ }).waitFor({ timeout: 30_000 });
    const before = await seen();
    target.set('/flaky', { status: 503, body: 'maintenance' });
    await waitFor('the page received web-flaky going down', seen, { timeoutMs: 60_000, until: (n) => n > before });
    expect(await shownIds(fleet)).toHaveLength(25);
    expect(await fleet.locator('tr[data-check="web-flaky"]').count()).toBe(0);
    await artifact((o) => fleet.screenshot(o), 'status-page-fleet.png');
  });

  test("the fleet's counts beside the page's; the Verdict select lists only the down checks, kept in the URL", async () => {
    // web-flaky is down (the test before), every other check up: what the members' heartbeats add up to.
    const want = { down: 1, degraded: 0, flapping: 0, up: allIds.length - 1, unknown: 0 };
    // The fleet's checks probe once a minute: each has its first verdict within a minute of its put.
    await waitFor('cluster.status counts 1 down, the rest up', () => request(nc, 'lookout.cluster.status'), { timeoutMs: 120_000, until: (c: any) => JSON.stringify(c.verdicts?.counts) === JSON.stringify(want) });
    await fleet.goto(`${base}/`);
    await pageSays(fleet, /^Checks 1–100 · more after these$/);
    const fleetCounts = fleet.locator('#fleet-counts');
    await fleetCounts.filter({ hasText: /^Fleet: / }).waitFor({ timeout: 30_000 });
    expect(await fleetCounts.textContent()).toBe(`Fleet: 1 down · 0 degraded · 0 flapping · ${allIds.length - 1} up · 0 unknown`);
    expect(await fleet.$$eval('#fleet-counts [data-count]', (cs) => cs.map((c) => [c.getAttribute('data-count'), Number(c.getAttribute('data-n'))]))).toEqual(Object.entries(want));
    // The page's own counts stay the page's.
    expect(await fleet.locator('#check-counts').textContent()).toMatch(/^On this page: \d+ down · 0 degraded · 0 flapping · \d+ up · 0 unknown$/);

    await fleet.locator('#filter-verdict').selectOption('down');
    expect(await pageSays(fleet, /^Checks 1–1 · no more$/)).toEqual(['web-flaky']);
    expect(new URL(fleet.url()).search).toBe('?verdict=down');
    expect(await fleet.locator('tr[data-check="web-flaky"]').getAttribute('data-verdict')).toBe('down');
    // A link to the view reproduces it; up with a prefix narrows to those.
    const tab = await browser!.newPage();
    try {
      await tab.goto(fleet.url());
      expect(await pageSays(tab, /^Checks 1–1 · no more$/)).toEqual(['web-flaky']);
      expect(await tab.locator('#filter-verdict').inputValue()).toBe('down');
      await tab.goto(`${base}/?prefix=web-&verdict=up`);
      expect(await pageSays(tab, /^Checks 1–1 · no more$/)).toEqual(['web-ok']);
    } finally {
      await tab.close();
    }
    await fleet.locator('#filter-clear').click();
    await pageSays(fleet, /^Checks 1–100 · more after these$/);
    expect(await fleet.locator('#filter-verdict').inputValue()).toBe('');
  }, 180_000);

  test('no script error, no failed request', () => {
    expect(problems).toEqual([]);
  });

  test('a hostile link: its bad parts are dropped and named (never as markup), the rest is shown', async () => {
    const tab = await browser!.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => void errors.push(e.message));
    try {
      await tab.goto(`${base}/?prefix=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&size=100000&label=tier%3Dgold&bogus=1`);
      expect(await pageSays(tab, /^Checks 1–25 · no more$/)).toHaveLength(25);
      const problem = tab.locator('#filter-problem');
      await problem.waitFor({ state: 'visible', timeout: 30_000 });
      const text = (await problem.textContent()) ?? '';
      expect(text).toMatch(/"prefix".*ignored.*"size".*ignored.*unknown parameter "bogus"/);
      expect(text).not.toMatch(/[<>]/);
      expect(await tab.locator('#check-table img').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await tab.close();
    }
    // The API under the page refuses what the page would never send, with {code, message, path}.
    for (const [q, code, p] of [['limit=501', 'range', 'limit'], ['limit=0', 'range', 'limit'], [`label=k=${'v'.repeat(300)}`, 'range', 'label'], ['after=a.b', 'invalid_id', 'after'], ['prefix=x&prefix=y', 'bad_request', 'prefix'], ['verdict=sideways', 'enum', 'verdict'], ['verdict=DOWN', 'enum', 'verdict']]) {
      const r = await fetch(`${base}/api/checks?${q}`);
      expect([q, r.status, await r.json()]).toEqual([q, 400, { ok: false, error: { code, message: expect.any(String), path: p } }]);
    }
  });
});
