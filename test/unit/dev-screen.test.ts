// lookout dev's screen and state folder: verdict changes ordered by their own time and bounded;
// the MESSAGE column; the NATS URL shown; a lock left by a process that is gone is taken over.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heldLock, lockDevDir, publishDevUrl, unlockDevDir } from '../../dev/dev-state';
import { StatusView, TRANSITIONS_KEPT } from '../../dev/status-view';

describe('StatusView', () => {
  test('verdict changes are listed by their own time, whatever order they arrived in, and bounded', () => {
    const v = new StatusView('nats://127.0.0.1:4222');
    for (const at of ['2026-12-01T10:00:02Z', '2026-12-01T10:00:01Z', '2026-12-01T10:00:03Z']) v.addTransition({ at, text: at });
    expect(v.transitions().map((t) => t.at)).toEqual(['2026-12-01T10:00:01Z', '2026-12-01T10:00:02Z', '2026-12-01T10:00:03Z']);
    for (let i = 0; i < 2 * TRANSITIONS_KEPT; i++) v.addTransition({ at: `2026-12-01T11:${String(i % 60).padStart(2, '0')}:${String(Math.floor(i / 60)).padStart(2, '0')}Z`, text: String(i) });
    expect(v.transitions()).toHaveLength(TRANSITIONS_KEPT);
  });

  test('the screen shows each check\'s message (one line, clipped) and the NATS URL with the env file', () => {
    const v = new StatusView('nats://127.0.0.1:4333', '/x/.lookout-dev/env');
    v.checks.set('a', { status: 'down', node: 'dev-1', latencyMs: 3, reason: 'status', message: 'got 503\nService Unavailable', at: '' });
    v.checks.set('b', { status: 'down', node: 'dev-2', latencyMs: 3, reason: 'body', message: 'x'.repeat(200), at: '' });
    const screen = v.render();
    expect(screen).toMatch(/CHECK\s+STATUS\s+NODE\s+LATENCY\s+REASON\s+MESSAGE/);
    expect(screen).toContain('got 503 Service Unavailable');
    expect(screen).toContain(`${'x'.repeat(59)}…`);
    expect(screen).toContain('NATS_URL=nats://127.0.0.1:4333   (in another shell: source /x/.lookout-dev/env; ./lookout watch)');
  });
});

describe('the state folder', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lookout-dev-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a lock left by a process that is gone is taken over; the env file says the URL; unlocking removes both', () => {
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: 2 ** 22 + 12345, natsUrl: 'nats://127.0.0.1:1' })); // above pid_max: no such process
    expect(heldLock(dir)).toBeNull();
    lockDevDir(dir);
    const env = publishDevUrl(dir, 'nats://127.0.0.1:4999');
    expect(readFileSync(env, 'utf8')).toContain('export NATS_URL=nats://127.0.0.1:4999\n');
    unlockDevDir(dir);
    expect(() => readFileSync(join(dir, 'lock'))).toThrow();
    expect(() => readFileSync(env)).toThrow();
  });

  test('a lock held by a live process is refused, naming it and its URL', () => {
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.ppid, natsUrl: 'nats://127.0.0.1:4222' }));
    expect(() => lockDevDir(dir)).toThrow(`a dev cluster already runs on ${dir} (lookout dev, pid ${process.ppid}, NATS_URL=nats://127.0.0.1:4222)`);
  });
});
